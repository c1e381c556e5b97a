import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { FunctionTimeoutError, invoke } from './lambdaContext.ts';

export interface SqsEventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  functionName: string;
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
  /** 1–10. */
  batchSize: number;
  /** Seconds to keep gathering a batch once the first message is in (MaximumBatchingWindowInSeconds). */
  batchingWindowSeconds: number;
  /** Concurrent invocations (ScalingConfig.MaximumConcurrency). */
  maxConcurrency: number;
  functionTimeoutMs: number;
  onError?: (error: unknown) => void;
}

/**
 * An SQS event source mapping, locally: pollers long-poll the queue, gather a batch for up to the
 * batching window, invoke the function, and delete every record not reported in
 * batchItemFailures. An invocation that throws or times out deletes nothing: the whole batch comes
 * back after the visibility timeout, as on AWS.
 */
export class SqsEventSource {
  private running = false;
  private readonly abort = new AbortController();
  private pollers: Promise<void>[] = [];

  private readonly options: SqsEventSourceOptions;
  constructor(options: SqsEventSourceOptions) {
    this.options = options;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.pollers = Array.from({ length: this.options.maxConcurrency }, () => this.poll());
  }

  /** Stops polling and waits for running invocations. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.pollers);
  }

  private async poll(): Promise<void> {
    while (this.running) {
      try {
        const messages = await this.gatherBatch();
        if (messages.length > 0) await this.invokeWith(messages);
      } catch (error) {
        if (!this.running) return;
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async gatherBatch(): Promise<Message[]> {
    const { batchSize, batchingWindowSeconds } = this.options;
    const batch = await this.receive(batchSize, 20);
    if (batch.length === 0 || batch.length >= batchSize || batchingWindowSeconds === 0) return batch;
    const windowEnds = Date.now() + batchingWindowSeconds * 1000;
    while (batch.length < batchSize && this.running) {
      const remaining = windowEnds - Date.now();
      if (remaining <= 0) break;
      try {
        // Whole seconds only: wait at most what is left of the window, rounded down.
        batch.push(...(await this.receive(batchSize - batch.length, Math.floor(remaining / 1000))));
      } catch (error) {
        // What was gathered is still invoked; a failed or aborted top-up only ends the window.
        if (this.running) this.options.onError?.(error);
        break;
      }
      if (remaining < 1000) break;
    }
    return batch;
  }

  private async receive(max: number, waitTimeSeconds: number): Promise<Message[]> {
    const { Messages = [] } = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    return Messages;
  }

  private async invokeWith(messages: Message[]): Promise<void> {
    const { options } = this;
    const event: SQSEvent = { Records: messages.map((message) => toRecord(message, options.queueArn, options.region)) };
    let response: SQSBatchResponse | undefined;
    try {
      response = await invoke(options.handler, event, {
        functionName: options.functionName,
        timeoutMs: options.functionTimeoutMs,
        region: options.region,
      });
    } catch (error) {
      options.onError?.(error);
      // The whole batch returns after its visibility timeout. A timed-out handler cannot be killed
      // here as Lambda would: this poller (one execution environment) stays busy until it stops,
      // so the mapping never runs more than maxConcurrency handlers at once.
      if (error instanceof FunctionTimeoutError) await error.settled;
      return;
    }
    const failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    const done = messages.filter((message) => !failed.has(message.MessageId!));
    for (let i = 0; i < done.length; i += 10) {
      const { Failed = [] } = await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: done.slice(i, i + 10).map((message, n) => ({ Id: String(n), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
      // Not deleted: redelivered later and dropped as a stale copy by the worker.
      if (Failed.length > 0) options.onError?.(new Error(`DeleteMessageBatch failed for ${Failed.length} record(s): ${Failed[0]?.Code}`));
    }
  }
}

/** The record shape Lambda's SQS event source delivers. */
export function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}
