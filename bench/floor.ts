/**
 * The raw-call floor: the SQS and DynamoDB calls a command needs, with no bus logic, on the same
 * table definition (provisioned from resources.ts, so the same time-index GSI is written).
 *
 *  producer: SendMessage (an envelope-shaped ~1 KB body) → PutItem (a PENDING-like item with the
 *            time-index keys);
 *  consumer: long-polled ReceiveMessage (up to 10, same concurrency as the worker) → per message
 *            UpdateItem IN_PROGRESS → UpdateItem COMPLETED → DeleteMessageBatch (batches of up to
 *            10, flushed at 10 or after a short window).
 *
 * The consumer's writes are unconditional: a condition adds no capacity, and reacting to one is bus
 * logic. The producer's PutItem is the one exception, `attribute_not_exists(pk)` with the failure
 * ignored, as the bus's insert: the message is sent first, so under load the consumer's two
 * UpdateItems (which create the item if it is missing) can land before the PutItem, and an
 * unconditional PutItem would then overwrite COMPLETED with PENDING — the floor itself losing a
 * command's outcome, which the accounting rightly reported as "floor: <id> is PENDING".
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException, PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { INDEX_SHARDS, INDEXES } from '@commandbus/core';
import type { createClients, LocalStack } from '@commandbus/local';
import { attachCompletionProbe } from './completion.ts';
import { BENCH_COMMAND, BENCH_DOMAIN, meteredSetup } from './meteredSetup.ts';
import { benchData, type BenchConfig } from './config.ts';
import type { BenchSystem } from './phase.ts';
import { queueDepth, readStatuses, settle } from './verify.ts';

/** Same as the transport's default delete window. */
const DELETE_WINDOW_MS = 20;
const MAX_ATTEMPTS = 3;

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

export async function createFloorSystem(
  stack: LocalStack,
  config: BenchConfig,
  namespace: string,
  inspect: ReturnType<typeof createClients>,
): Promise<BenchSystem> {
  const { table, queueUrl, meter, tracker, probe, producer, consumer: consumerClients, onCompleted } = await meteredSetup(stack, namespace, 'floor');
  attachCompletionProbe(consumerClients.dynamodb, onCompleted);

  const data = benchData(config.dataBytes);
  let shard = 0;
  const consumer = new FloorConsumer(consumerClients, table, queueUrl, config.concurrency, config.lose);
  const running = consumer.run();

  return {
    label: 'floor',
    meter,
    tracker,
    probe,
    async send(commandId) {
      const now = new Date().toISOString();
      const token = randomUUID();
      const correlationId = randomUUID();
      const body = JSON.stringify({
        v: 1,
        domain: BENCH_DOMAIN,
        commandType: BENCH_COMMAND,
        commandId,
        data,
        maxAttempts: MAX_ATTEMPTS,
        correlationId,
        token,
        sentAt: now,
      });
      await producer.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      await putIfAbsent(
        producer.dynamodb,
        new PutItemCommand({
          TableName: table,
          Item: {
            pk: S(commandId),
            sk: S(BENCH_DOMAIN),
            commandType: S(BENCH_COMMAND),
            status: S('PENDING'),
            attempts: N(0),
            maxAttempts: N(MAX_ATTEMPTS),
            token: S(token),
            correlationId: S(correlationId),
            createdAt: S(now),
            updatedAt: S(now),
            events: { L: [{ M: { e: S('SENT'), t: S(now), a: N(0) } }] },
            [INDEXES.byTime.partitionKey]: S(`${BENCH_DOMAIN}#${shard++ % INDEX_SHARDS}`),
            [INDEXES.byTime.sortKey]: S(`${now}#${commandId}`),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },
    async finalState(commandIds, settleMs) {
      const final = await settle(
        { statuses: () => readStatuses(inspect.dynamodb, table, BENCH_DOMAIN, commandIds), queueDepth: () => queueDepth(inspect.sqs, queueUrl) },
        settleMs,
      );
      const notes = consumer.errors.length > 0 ? [`${consumer.errors.length} consumer error(s), e.g. ${consumer.errors.slice(0, 3).join('; ')}`] : [];
      if (consumer.dropped > 0) notes.push(`dropped ${consumer.dropped} message(s) unprocessed on purpose (LOSE=${config.lose})`);
      return { ...final, problems: [], notes };
    },
    async stop() {
      await consumer.stop();
      await running;
      for (const clients of [producer, consumerClients]) {
        clients.dynamodb.destroy();
        clients.sqs.destroy();
      }
    },
  };
}

/** The PutItem, unless the consumer created the item first (then it is left as the consumer wrote it). */
async function putIfAbsent(client: ReturnType<typeof createClients>['dynamodb'], put: PutItemCommand): Promise<void> {
  try {
    await client.send(put);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** A minimal consumer: the Worker's receive loop shape, none of its lifecycle. */
class FloorConsumer {
  readonly errors: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly deletes: DeleteBatcher;
  private slotFreed: (() => void) | undefined;
  private poll: AbortController | undefined;
  private stopping = false;
  private readonly clients: ReturnType<typeof createClients>;
  private readonly table: string;
  private readonly queueUrl: string;
  private readonly concurrency: number;
  /** Messages still to drop unprocessed (deleted, never written): the accounting's self-test. */
  private toDrop: number;
  dropped = 0;

  constructor(clients: ReturnType<typeof createClients>, table: string, queueUrl: string, concurrency: number, lose: number) {
    this.clients = clients;
    this.table = table;
    this.queueUrl = queueUrl;
    this.concurrency = concurrency;
    this.toDrop = lose;
    this.deletes = new DeleteBatcher(clients.sqs, queueUrl, (error) => this.errors.push(`delete: ${String(error)}`));
  }

  async run(): Promise<void> {
    while (!this.stopping) {
      const free = this.concurrency - this.inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      this.poll = new AbortController();
      let messages: Message[];
      try {
        const response = await this.clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: Math.min(10, free), WaitTimeSeconds: 20 }),
          { abortSignal: this.poll.signal },
        );
        messages = response.Messages ?? [];
      } catch (error) {
        if (this.stopping) break;
        this.errors.push(`receive: ${String(error)}`);
        await sleep(100);
        continue;
      }
      for (const message of messages) this.track(message);
    }
    await Promise.allSettled([...this.inFlight]);
    await this.deletes.flush();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.poll?.abort();
    this.slotFreed?.();
  }

  private track(message: Message): void {
    const work = this.process(message)
      .catch((error: unknown) => {
        this.errors.push(`process: ${String(error)}`);
      })
      .finally(() => {
        this.inFlight.delete(work);
        const wake = this.slotFreed;
        this.slotFreed = undefined;
        wake?.();
      });
    this.inFlight.add(work);
  }

  private async process(message: Message): Promise<void> {
    if (this.toDrop > 0) {
      this.toDrop--;
      this.dropped++;
      this.deletes.add(message.ReceiptHandle ?? '');
      return;
    }
    const { commandId } = JSON.parse(message.Body ?? '{}') as { commandId: string };
    const key = { pk: S(commandId), sk: S(BENCH_DOMAIN) };
    const names = { '#status': 'status' };
    await this.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: key,
        UpdateExpression: 'SET #status = :status, attempts = :attempts, updatedAt = :now',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':status': S('IN_PROGRESS'), ':attempts': N(1), ':now': S(new Date().toISOString()) },
      }),
    );
    // (the handler would run here)
    await this.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: key,
        UpdateExpression: 'SET #status = :status, updatedAt = :now, #result = :result',
        ExpressionAttributeNames: { ...names, '#result': 'result' },
        ExpressionAttributeValues: { ':status': S('COMPLETED'), ':now': S(new Date().toISOString()), ':result': { M: { ok: { BOOL: true } } } },
      }),
    );
    this.deletes.add(message.ReceiptHandle ?? '');
  }
}

/** DeleteMessageBatch of up to 10, sent when 10 are waiting or DELETE_WINDOW_MS after the first. */
class DeleteBatcher {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly onError: (error: unknown) => void;

  constructor(sqs: SQSClient, queueUrl: string, onError: (error: unknown) => void) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
    this.onError = onError;
  }

  add(receiptHandle: string): void {
    this.pending.push(receiptHandle);
    if (this.pending.length >= 10) this.send();
    else this.timer ??= setTimeout(() => this.send(), DELETE_WINDOW_MS);
  }

  async flush(): Promise<void> {
    this.send();
    await Promise.allSettled([...this.inFlight]);
  }

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, 10);
      const request = this.sqs
        .send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map((receiptHandle, i) => ({ Id: String(i), ReceiptHandle: receiptHandle })),
          }),
        )
        .then((response) => {
          if (response.Failed?.length) this.onError(`${response.Failed.length} delete(s) failed: ${response.Failed[0]?.Code}`);
        })
        .catch(this.onError)
        .finally(() => this.inFlight.delete(request));
      this.inFlight.add(request);
    }
  }
}
