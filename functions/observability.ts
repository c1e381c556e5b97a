import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_DYNAMODB_CLIENT, type CommandBusConfig, type CommandObserver, type CommandRef } from '@commandbus/core';

/**
 * X-Ray through Powertools Tracer. It traces only inside Lambda (AWS_EXECUTION_ENV set) and unless
 * POWERTOOLS_TRACE_ENABLED=false, so the local runtime and the tests run untraced.
 */
export function createTracer(serviceName: string): Tracer {
  return new Tracer({ serviceName });
}

/**
 * The SDK clients the library would create, each captured by the tracer (a subsegment per request).
 * Given in the config, so the core package stays free of Powertools Tracer.
 */
export function tracedClients(tracer: Tracer): Pick<CommandBusConfig, 'dynamodb' | 'sqs'> {
  return {
    dynamodb: tracer.captureAWSv3Client(new DynamoDBClient(DEFAULT_DYNAMODB_CLIENT)),
    sqs: tracer.captureAWSv3Client(new SQSClient({})),
  };
}

/** The trace annotations of a handler's subsegment: the command it runs, searchable in X-Ray. */
export const HANDLER_ANNOTATIONS = ['domain', 'commandType', 'commandId', 'correlationId'] as const;

/**
 * An observer whose handler runs each in a subsegment `## <domain>/<commandType>`, annotated with
 * domain, commandType, commandId and correlationId (a handler's error is recorded on it); every other
 * call goes to `inner` (the metrics). The subsegment hangs off the invocation's segment without
 * becoming the current one: records of a batch run side by side.
 */
export function tracingObserver(tracer: Tracer, inner: CommandObserver): CommandObserver {
  return {
    commandCompleted: (event) => inner.commandCompleted(event),
    commandFailed: (event) => inner.commandFailed(event),
    commandRetried: (event) => inner.commandRetried(event),
    commandParked: (event) => inner.commandParked(event),
    flush: () => inner.flush?.(),
    aroundHandler: async <T>(command: CommandRef & { attempt: number }, run: () => Promise<T>): Promise<T> => {
      const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
      if (!parent) return run();
      const subsegment = parent.addNewSubsegment(`## ${command.domain}/${command.commandType}`);
      for (const key of HANDLER_ANNOTATIONS) {
        const value = command[key];
        if (value !== undefined) subsegment.addAnnotation(key, value);
      }
      subsegment.addAnnotation('attempt', command.attempt);
      try {
        return await run();
      } catch (error) {
        subsegment.addError(error as Error);
        throw error;
      } finally {
        subsegment.close();
      }
    },
  };
}
