/**
 * StartMessageMoveTask / ListMessageMoveTasks / CancelMessageMoveTask for the embedded SQS.
 * fauxqs 2.4.1 does not implement them, yet they are how operators redrive a TSQ queue from the
 * console or the CLI, so the embedded stack adds them: each task moves messages (body and message
 * attributes, as SQS does) from the dead-letter queue to the destination through the real SQS API of
 * the same emulator, until the source is empty.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

interface MoveTask {
  handle: string;
  sourceArn: string;
  destinationArn: string;
  status: 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';
  moved: number;
  started: number;
  failureReason?: string;
  cancelled: boolean;
}

/** The parts of a fastify instance we need (kept structural so fauxqs's types stay out of ours). */
interface HookableApp {
  addHook(
    name: 'preHandler',
    hook: (
      request: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: unknown },
      reply: { status(code: number): unknown; header(name: string, value: string): unknown; send(payload: string): unknown },
    ) => Promise<unknown>,
  ): unknown;
}

class SqsApiError extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

export function installMessageMoveTasks(app: HookableApp, sqs: () => SQSClient): void {
  const tasks = new Map<string, MoveTask>();

  const actions: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    StartMessageMoveTask: async (body) => {
      const sourceArn = requireString(body, 'SourceArn');
      const sources = await sourceQueuesOf(sqs(), sourceArn);
      if (sources.length === 0) {
        throw new SqsApiError('InvalidParameterValueException', `Source queue ${sourceArn} is not a dead-letter queue of any queue`);
      }
      let destinationArn = body.DestinationArn === undefined ? undefined : requireString(body, 'DestinationArn');
      if (destinationArn === undefined) {
        // AWS returns messages to their original source; with one source queue that is unambiguous.
        if (sources.length > 1) {
          throw new SqsApiError('InvalidParameterValueException', 'Source has several source queues: give DestinationArn');
        }
        destinationArn = sources[0]!;
      }
      const running = [...tasks.values()].find((task) => task.sourceArn === sourceArn && task.status === 'RUNNING');
      if (running) throw new SqsApiError('UnsupportedOperation', 'A message move task is already running on this source queue');
      const task: MoveTask = {
        handle: Buffer.from(JSON.stringify({ taskId: randomUUID(), sourceArn })).toString('base64'),
        sourceArn,
        destinationArn,
        status: 'RUNNING',
        moved: 0,
        started: Date.now(),
        cancelled: false,
      };
      tasks.set(task.handle, task);
      void move(sqs(), task);
      return { TaskHandle: task.handle };
    },
    ListMessageMoveTasks: async (body) => {
      const sourceArn = requireString(body, 'SourceArn');
      const results = [...tasks.values()]
        .filter((task) => task.sourceArn === sourceArn)
        .sort((a, b) => b.started - a.started)
        .slice(0, typeof body.MaxResults === 'number' ? body.MaxResults : 1)
        .map((task) => ({
          ...(task.status === 'RUNNING' ? { TaskHandle: task.handle } : {}),
          Status: task.status,
          SourceArn: task.sourceArn,
          DestinationArn: task.destinationArn,
          ApproximateNumberOfMessagesMoved: task.moved,
          StartedTimestamp: task.started,
          ...(task.failureReason ? { FailureReason: task.failureReason } : {}),
        }));
      return { Results: results };
    },
    CancelMessageMoveTask: async (body) => {
      const task = tasks.get(requireString(body, 'TaskHandle'));
      if (!task) throw new SqsApiError('ResourceNotFoundException', 'Task does not exist');
      if (task.status !== 'RUNNING') throw new SqsApiError('UnsupportedOperation', `Task is ${task.status}`);
      task.cancelled = true;
      return { ApproximateNumberOfMessagesMoved: task.moved };
    },
  };

  app.addHook('preHandler', async (request, reply) => {
    const target = request.headers['x-amz-target'];
    const action = typeof target === 'string' && target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : undefined;
    const run = action === undefined ? undefined : actions[action];
    if (request.method !== 'POST' || !run) return;
    reply.header('content-type', 'application/x-amz-json-1.0');
    try {
      const result = await run((request.body ?? {}) as Record<string, unknown>);
      return reply.send(JSON.stringify(result));
    } catch (error) {
      const type = error instanceof SqsApiError ? error.type : 'InternalError';
      reply.status(error instanceof SqsApiError ? 400 : 500);
      reply.header('x-amzn-query-error', `AWS.SimpleQueueService.${type};Sender`);
      return reply.send(JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message: (error as Error).message }));
    }
  });
}

async function move(sqs: SQSClient, task: MoveTask): Promise<void> {
  try {
    const sourceUrl = await urlOf(sqs, task.sourceArn);
    const destinationUrl = await urlOf(sqs, task.destinationArn);
    while (!task.cancelled) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: sourceUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 30,
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: destinationUrl,
            MessageBody: message.Body ?? '',
            ...(message.MessageAttributes && Object.keys(message.MessageAttributes).length > 0 ? { MessageAttributes: message.MessageAttributes } : {}),
          }),
        );
        await sqs.send(new DeleteMessageCommand({ QueueUrl: sourceUrl, ReceiptHandle: message.ReceiptHandle }));
        task.moved++;
      }
    }
    task.status = task.cancelled ? 'CANCELLED' : 'COMPLETED';
  } catch (error) {
    task.status = 'FAILED';
    task.failureReason = (error as Error).message;
  }
}

/** ARNs of the queues whose RedrivePolicy points at `dlqArn`. */
async function sourceQueuesOf(sqs: SQSClient, dlqArn: string): Promise<string[]> {
  const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
  const sources: string[] = [];
  for (const url of QueueUrls) {
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'RedrivePolicy'] }));
    if (Attributes.RedrivePolicy && (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn === dlqArn) {
      sources.push(Attributes.QueueArn!);
    }
  }
  return sources;
}

async function urlOf(sqs: SQSClient, arn: string): Promise<string> {
  const [, , , , account, name] = arn.split(':');
  if (!name) throw new SqsApiError('InvalidParameterValueException', `Not a queue ARN: ${arn}`);
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }));
  return QueueUrl!;
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new SqsApiError('MissingParameter', `The request must contain the parameter ${field}.`);
  }
  return value;
}
