/**
 * After measuring, on clients no meter watches: read every measured command's status back
 * (BatchGetItem on the table itself, consistent reads, 100 keys a request) and the commands queue's
 * depth.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchGetItemCommand, type BatchGetItemCommandOutput, type DynamoDBClient, type KeysAndAttributes } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Each command's status (absent: no item). Throws if DynamoDB keeps some keys unprocessed. */
export async function readStatuses(client: DynamoDBClient, table: string, domain: string, commandIds: readonly string[]): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  for (let i = 0; i < commandIds.length; i += 100) {
    let request: KeysAndAttributes | undefined = {
      Keys: commandIds.slice(i, i + 100).map((id) => ({ pk: { S: id }, sk: { S: domain } })),
      ProjectionExpression: 'pk, #status',
      ExpressionAttributeNames: { '#status': 'status' },
      ConsistentRead: true,
    };
    for (let tries = 0; request?.Keys?.length; tries++) {
      if (tries === 10) throw new Error(`BatchGetItem left ${request.Keys.length} key(s) unprocessed after 10 tries`);
      if (tries > 0) await sleep(50 * 2 ** tries);
      const response: BatchGetItemCommandOutput = await client.send(new BatchGetItemCommand({ RequestItems: { [table]: request } }));
      for (const item of response.Responses?.[table] ?? []) statuses.set(item.pk?.S ?? '', item.status?.S ?? '(no status)');
      request = response.UnprocessedKeys?.[table];
    }
  }
  return statuses;
}

/** Messages left in a queue (visible, in flight or delayed). */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

export interface FinalState {
  statuses: Map<string, string>;
  queueDepth: number;
}

/**
 * The final statuses and queue depth, once nothing more can change: the queue is empty (both
 * systems delete a message only after its command's last write, so once the queue is empty no
 * status changes), or `settleMs` was spent waiting for messages still in the queue (say, one
 * redelivered after a visibility timeout) to be processed. The depth is read before the statuses,
 * so a command finishing between the two reads is never taken for unfinished. A correct run costs
 * one read of each.
 */
export async function settle(
  read: { statuses: () => Promise<Map<string, string>>; queueDepth: () => Promise<number> },
  settleMs: number,
  pollMs = 1000,
): Promise<FinalState> {
  const deadline = performance.now() + settleMs;
  for (;;) {
    const depth = await read.queueDepth();
    if (depth === 0 || performance.now() >= deadline) return { queueDepth: depth, statuses: await read.statuses() };
    await sleep(pollMs);
  }
}
