import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import {
  CommandProcessor,
  DEFAULT_NAMESPACE,
  EmfMetricsObserver,
  readEnvironment,
  resolveAdapters,
  resolveRetryPolicy,
  ValidationError,
  type CommandBusConfig,
  type CommandObserver,
  type HandlerRegistry,
  type RetryPolicy,
  type TransportMessage,
} from '@commandbus/core';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { configFromEnv } from './config.ts';
import { createLambdaLogger } from './logger.ts';
import { createTracer, tracedClients, tracingObserver } from './observability.ts';

/** Kept from the function's remaining time so the outcome write and park still fit. */
const SAFETY_MARGIN_MS = 2_000;
/** How long a store write whose outcome is unknown is retried before the message is given back. */
const STORE_PATIENCE_MS = 5_000;

export interface WorkerHandlerOptions {
  registry: HandlerRegistry;
  /**
   * How failed attempts back off, for every domain. Default: per domain from COMMANDBUS_RETRY_POLICIES
   * (the CDK construct's retryPolicy), then COMMANDBUS_RETRY_BASE_SECONDS / _MAX_SECONDS, then the
   * library's (1 s, doubling, at most 300 s).
   */
  retryPolicy?: RetryPolicy;
  /**
   * While a handler runs, every this many seconds its message's visibility is extended to the end of
   * the invocation (the seconds the context has left), so SQS does not hand it out again while the
   * function still works on it. Needed only when the commands queue's visibility timeout is shorter
   * than the function timeout: the stack sets it to six times the function timeout, so by default a
   * message cannot reappear mid-invocation. Set it below the queue's visibility timeout. A failed beat
   * is logged and the attempt goes on.
   * @default undefined — no heartbeat
   */
  heartbeatIntervalSeconds?: number;
  /**
   * Told every written outcome; flushed at the end of each invocation. Default: EMF metrics
   * (EmfMetricsObserver: namespace `commandbus`, dimensions domain and commandType) through the logs.
   */
  observer?: CommandObserver;
  /** X-Ray tracer (Powertools). Default: one for `commandbus-worker`, on only inside Lambda. */
  tracer?: Tracer;
  /** Library configuration over the environment's (tests: in-memory store and transport). */
  config?: CommandBusConfig;
}

/** A record the worker leaves in the queue on purpose (backoff scheduled, or a later attempt owns it). */
class LeftInQueue extends Error {
  constructor(outcome: string) {
    super(`left in queue: ${outcome}`);
    this.name = 'LeftInQueue';
  }
}

export function toTransportMessage(record: SQSRecord): TransportMessage {
  return {
    messageId: record.messageId,
    body: record.body,
    receiptHandle: record.receiptHandle,
    receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
    attributes: Object.fromEntries(Object.entries(record.messageAttributes ?? {}).map(([key, value]) => [key, value.stringValue ?? ''])),
  };
}

/**
 * The worker Lambda: an SQS batch from the event source mapping goes through the same
 * CommandProcessor as the long-running Worker. Records are processed in parallel; a record whose
 * message must stay in the queue is reported in batchItemFailures — never the whole batch.
 */
export function createWorkerHandler(options: WorkerHandlerOptions) {
  const { heartbeatIntervalSeconds } = options;
  if (heartbeatIntervalSeconds !== undefined && (!Number.isInteger(heartbeatIntervalSeconds) || heartbeatIntervalSeconds < 1)) {
    throw new ValidationError('heartbeatIntervalSeconds', `must be an integer from 1, below the queue's visibility timeout (got ${heartbeatIntervalSeconds})`);
  }
  const { powertools, logger } = createLambdaLogger('commandbus-worker');
  const tracer = options.tracer ?? createTracer('commandbus-worker');
  const adapters = resolveAdapters({
    ...configFromEnv(process.env, logger),
    ...(options.config?.store && options.config.transport ? {} : tracedClients(tracer)),
    ...options.config,
  });
  // Metrics as EMF lines in the function's log (no request to CloudWatch); the handler in a subsegment.
  const observer = tracingObserver(tracer, options.observer ?? new EmfMetricsObserver());
  const retryPolicyFor = (domain: string) => options.retryPolicy ?? retryPolicyFromEnv(process.env, domain);

  const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const handlerTimeoutMs = Math.max(1_000, context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS);
    const processors = new Map<string, CommandProcessor>();
    const processorFor = (domain: string) => {
      let processor = processors.get(domain);
      if (!processor) {
        processor = new CommandProcessor({
          domain,
          store: adapters.store,
          transport: adapters.transport,
          registry: options.registry,
          retryPolicy: retryPolicyFor(domain),
          handlerTimeoutMs,
          logger,
          names: adapters.names,
          observer,
          ...(heartbeatIntervalSeconds === undefined ? {} : { heartbeat: lambdaHeartbeat(heartbeatIntervalSeconds, context) }),
        });
        processors.set(domain, processor);
      }
      return processor;
    };
    // A store that does not answer is retried for a while, then the message is given back unspent.
    const storeDeadline = Date.now() + Math.min(STORE_PATIENCE_MS, context.getRemainingTimeInMillis() / 4);
    const recordHandler = async (record: SQSRecord) => {
      const outcome = await processorFor(domainOf(record)).process(toTransportMessage(record), { storeDeadline });
      if (outcome !== 'ack') throw new LeftInQueue(outcome);
    };
    // One BatchProcessor per invocation: it keeps the batch's successes and failures as state, and a
    // host that runs invocations side by side (the local runtime's pollers) must not mix them up —
    // shared, one invocation's batchItemFailures could be answered with another's, and a message
    // that must stay in the queue would be deleted.
    try {
      return await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
    } finally {
      observer.flush?.();
    }
  };

  return middy(handler)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(powertools));
}

/**
 * The Lambda's heartbeat: each beat hides the message until the invocation ends (rounded up to a whole
 * second), never longer — past that the function is stopped, and SQS must be free to hand it out.
 */
export function lambdaHeartbeat(intervalSeconds: number, context: Pick<Context, 'getRemainingTimeInMillis'>) {
  return { intervalSeconds, visibilitySeconds: () => Math.min(43_200, Math.max(1, Math.ceil(context.getRemainingTimeInMillis() / 1000))) };
}

/**
 * The domain a record belongs to, from its source queue name `<namespace>-<domain>-commands`:
 * a malformed body still needs to be parked in the right TSQ.
 */
export function domainOf(record: SQSRecord, namespace = readEnvironment().namespace ?? DEFAULT_NAMESPACE): string {
  const queueName = record.eventSourceARN.split(':').pop() ?? '';
  const match =
    queueName.startsWith(`${namespace}-`) && queueName.endsWith('-commands') ? queueName.slice(namespace.length + 1, -'-commands'.length) : undefined;
  if (!match) throw new Error(`record from unexpected queue ${record.eventSourceARN}`);
  return match;
}

/** The domain's COMMANDBUS_RETRY_POLICIES entry, then COMMANDBUS_RETRY_BASE_SECONDS / _MAX_SECONDS, then the library's defaults. */
export function retryPolicyFromEnv(env: NodeJS.ProcessEnv, domain: string): RetryPolicy {
  const { retryBaseSeconds, retryMaxSeconds, retryPolicies } = readEnvironment(env);
  const own = retryPolicies && Object.hasOwn(retryPolicies, domain) ? retryPolicies[domain] : undefined;
  const baseDelaySeconds = own?.baseDelaySeconds ?? retryBaseSeconds;
  const maxDelaySeconds = own?.maxDelaySeconds ?? retryMaxSeconds;
  return resolveRetryPolicy({
    ...(baseDelaySeconds === undefined ? {} : { baseDelaySeconds }),
    ...(maxDelaySeconds === undefined ? {} : { maxDelaySeconds }),
  });
}
