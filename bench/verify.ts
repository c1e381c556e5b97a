/**
 * After measuring, on clients no meter watches: read every measured command's status back
 * (BatchGetItem, 100 keys a request) and check the commands queue is empty.
 */
import { BatchGetItemCommand, type BatchGetItemCommandOutput, type DynamoDBClient, type KeysAndAttributes } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Problems found: commands missing or not COMPLETED (at most a few listed, then a count). */
export async function verifyStatuses(client: DynamoDBClient, table: string, domain: string, commandIds: readonly string[]): Promise<string[]> {
  const statuses = new Map<string, string>();
  for (let i = 0; i < commandIds.length; i += 100) {
    let request: KeysAndAttributes | undefined = {
      Keys: commandIds.slice(i, i + 100).map((id) => ({ pk: { S: id }, sk: { S: domain } })),
      ProjectionExpression: 'pk, #status',
      ExpressionAttributeNames: { '#status': 'status' },
      ConsistentRead: true,
    };
    for (let tries = 0; request?.Keys?.length && tries < 10; tries++) {
      const response: BatchGetItemCommandOutput = await client.send(new BatchGetItemCommand({ RequestItems: { [table]: request } }));
      for (const item of response.Responses?.[table] ?? []) statuses.set(item.pk?.S ?? '', item.status?.S ?? '(none)');
      request = response.UnprocessedKeys?.[table];
    }
  }
  const problems = commandIds.flatMap((id) => {
    const status = statuses.get(id);
    return status === 'COMPLETED' ? [] : [`${id} is ${status ?? 'missing'}`];
  });
  return problems.length > 5 ? [...problems.slice(0, 5), `… and ${problems.length - 5} more not COMPLETED`] : problems;
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
