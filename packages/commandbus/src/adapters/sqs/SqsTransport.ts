import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { ResourceNames } from '../../resources.ts';
import { MessageRefusedError, QueueNotFoundError, type CommandTransport, type ReceiveOptions, type TransportMessage } from '../../ports/CommandTransport.ts';

/** SQS error names (JSON and query protocols) meaning the queue is not there. */
const QUEUE_MISSING = new Set(['QueueDoesNotExist', 'NonExistentQueue']);
/** ... and meaning the message itself is refused. */
const MESSAGE_REFUSED = new Set(['InvalidMessageContents', 'MessageTooLong', 'InvalidParameterValue', 'InvalidParameterValueException']);

export interface SqsTransportOptions {
  names: ResourceNames;
  /** Explicit queue URLs by queue name (e.g. from stack outputs); others are looked up once. */
  queueUrls?: Record<string, string>;
  /**
   * How long a finished message may wait for others to share its DeleteMessageBatch request.
   * Not on the latency path: the command's state is written before its message is deleted.
   */
  deleteBatchWindowMs?: number;
}

interface PendingDelete {
  receiptHandle: string;
  settle: { resolve: () => void; reject: (error: unknown) => void };
}

export class SqsTransport implements CommandTransport {
  private readonly urls = new Map<string, Promise<string>>();
  private readonly deletes = new Map<string, { entries: PendingDelete[]; timer?: NodeJS.Timeout }>();
  private readonly inFlightFlushes = new Set<Promise<void>>();
  private readonly windowMs: number;

  private readonly sqs: SQSClient;
  private readonly options: SqsTransportOptions;
  constructor(sqs: SQSClient, options: SqsTransportOptions) {
    this.sqs = sqs;
    this.options = options;
    this.windowMs = options.deleteBatchWindowMs ?? 50;
    for (const [name, url] of Object.entries(options.queueUrls ?? {})) this.urls.set(name, Promise.resolve(url));
  }

  async sendCommand(domain: string, body: string, options: { attributes?: Record<string, string>; delaySeconds?: number } = {}): Promise<void> {
    const queue = this.options.names.commandsQueue(domain);
    const extra = {
      ...(options.attributes && Object.keys(options.attributes).length > 0 ? { MessageAttributes: stringAttributes(options.attributes) } : {}),
      ...(options.delaySeconds ? { DelaySeconds: options.delaySeconds } : {}),
    };
    await this.sendTo(queue, () => this.url(queue).then((QueueUrl) => this.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, ...extra }))));
  }

  async park(domain: string, body: string, attributes: Record<string, string>): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: await this.url(this.options.names.tsqQueue(domain)),
        MessageBody: body,
        MessageAttributes: stringAttributes(attributes),
      }),
    );
  }

  async sendReply(replyTo: string, body: string): Promise<void> {
    await this.sendTo(replyTo, () => this.url(replyTo).then((QueueUrl) => this.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }))));
  }

  /** Turns SQS's answers that sending again cannot fix into the port's own errors. */
  private async sendTo(queue: string, send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      throw translate(error, queue);
    }
  }

  receive(domain: string, options: ReceiveOptions): Promise<TransportMessage[]> {
    return this.receiveFrom(this.options.names.commandsQueue(domain), options);
  }

  receiveParked(domain: string, options: { maxMessages: number; visibilityTimeoutSeconds: number }): Promise<TransportMessage[]> {
    return this.receiveFrom(this.options.names.tsqQueue(domain), { ...options, waitTimeSeconds: 0 });
  }

  async deleteParked(domain: string, receiptHandle: string): Promise<void> {
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl: await this.url(this.options.names.tsqQueue(domain)), ReceiptHandle: receiptHandle }));
  }

  async releaseParked(domain: string, receiptHandle: string): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: await this.url(this.options.names.tsqQueue(domain)), ReceiptHandle: receiptHandle, VisibilityTimeout: 0 }),
    );
  }

  private async receiveFrom(queueName: string, options: ReceiveOptions): Promise<TransportMessage[]> {
    const response = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: await this.url(queueName),
        MaxNumberOfMessages: options.maxMessages,
        WaitTimeSeconds: options.waitTimeSeconds,
        VisibilityTimeout: options.visibilityTimeoutSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        MessageAttributeNames: ['All'],
      }),
      options.signal ? { abortSignal: options.signal } : {},
    );
    return (response.Messages ?? []).map((message) => ({
      messageId: message.MessageId ?? '',
      body: message.Body ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? '1'),
      attributes: Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([key, value]) => [key, value.StringValue ?? ''])),
    }));
  }

  async delay(domain: string, receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: await this.url(this.options.names.commandsQueue(domain)),
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  ack(domain: string, receiptHandle: string): Promise<void> {
    const queue = this.options.names.commandsQueue(domain);
    return new Promise<void>((resolve, reject) => {
      let batch = this.deletes.get(queue);
      if (!batch) {
        batch = { entries: [] };
        this.deletes.set(queue, batch);
      }
      batch.entries.push({ receiptHandle, settle: { resolve, reject } });
      if (batch.entries.length >= 10) this.flushQueue(queue);
      else batch.timer ??= setTimeout(() => this.flushQueue(queue), this.windowMs);
    });
  }

  async flush(): Promise<void> {
    for (const queue of [...this.deletes.keys()]) this.flushQueue(queue);
    await Promise.allSettled([...this.inFlightFlushes]);
  }

  private flushQueue(queue: string): void {
    const batch = this.deletes.get(queue);
    if (!batch) return;
    clearTimeout(batch.timer);
    this.deletes.delete(queue);
    for (let i = 0; i < batch.entries.length; i += 10) {
      const flush = this.deleteBatch(queue, batch.entries.slice(i, i + 10));
      this.inFlightFlushes.add(flush);
      void flush.finally(() => this.inFlightFlushes.delete(flush));
    }
  }

  private async deleteBatch(queue: string, entries: PendingDelete[]): Promise<void> {
    try {
      const response = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: await this.url(queue),
          Entries: entries.map((entry, i) => ({ Id: String(i), ReceiptHandle: entry.receiptHandle })),
        }),
      );
      const failed = new Map((response.Failed ?? []).map((failure) => [failure.Id, failure]));
      entries.forEach((entry, i) => {
        const failure = failed.get(String(i));
        if (failure) entry.settle.reject(new Error(`DeleteMessage failed: ${failure.Code} ${failure.Message ?? ''}`));
        else entry.settle.resolve();
      });
    } catch (error) {
      for (const entry of entries) entry.settle.reject(error);
    }
  }

  private url(queueName: string): Promise<string> {
    let url = this.urls.get(queueName);
    if (!url) {
      url = this.sqs.send(new GetQueueUrlCommand({ QueueName: queueName })).then(
        (response) => {
          if (!response.QueueUrl) throw new Error(`queue ${queueName} has no URL`);
          return response.QueueUrl;
        },
        (error: unknown) => {
          // Every call on a queue that is not there (receive, park, ack…) says so in the port's words.
          throw translate(error, queueName);
        },
      );
      url.catch(() => this.urls.delete(queueName));
      this.urls.set(queueName, url);
    }
    return url;
  }
}

function stringAttributes(attributes: Record<string, string>) {
  return Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, { DataType: 'String', StringValue: value }]));
}

/** SQS's answers that sending again cannot fix, in the port's words; anything else as it came. */
function translate(error: unknown, queue: string): unknown {
  // The query protocol (and fauxqs) prefix the names: AWS.SimpleQueueService.NonExistentQueue.
  const name = ((error as Error | undefined)?.name ?? '').replace(/^AWS\.SimpleQueueService\./, '');
  if (QUEUE_MISSING.has(name)) return new QueueNotFoundError(queue, { cause: error });
  if (MESSAGE_REFUSED.has(name)) return new MessageRefusedError(`${queue} refused the message: ${(error as Error).message}`, { cause: error });
  return error;
}
