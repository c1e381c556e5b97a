/**
 * Creates commandbus's table and queues from the shared definitions (`@commandbus/core/resources`),
 * idempotently, with any SDK clients: the embedded stack, LocalStack or AWS.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateTableCommand, DescribeTableCommand, UpdateTableCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { commandsTableDefinition, queueDefinitions, redrivePolicy, resourceNames } from '@commandbus/core/resources';

const READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 50;

/**
 * Creates (idempotently) the commands table and the queues of `domains` under `namespace`, from the
 * shared definitions, with any SDK clients: the embedded stack, LocalStack or AWS.
 */
export async function provisionResources(
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient },
  namespace: string,
  domains: readonly string[],
): Promise<{ table: string; queueUrls: Record<string, string> }> {
  const names = resourceNames(namespace);
  const [, queueUrls] = await Promise.all([
    createTable(clients.dynamodb, commandsTableDefinition(names.table)),
    createQueues(clients.sqs, queueDefinitions(names, domains)),
  ]);
  return { table: names.table, queueUrls };
}

async function createTable(client: DynamoDBClient, definition: CreateTableCommandInput): Promise<void> {
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  // DynamoDB Local creates tables synchronously, but wait for ACTIVE (table and indexes) anyway.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    // A table made before it had a stream (the stats aggregator reads it) gets one.
    if (Table?.TableStatus === 'ACTIVE' && definition.StreamSpecification && !Table.StreamSpecification?.StreamEnabled) {
      await client.send(new UpdateTableCommand({ TableName: definition.TableName, StreamSpecification: definition.StreamSpecification }));
      continue;
    }
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) {
      throw new Error(`table ${definition.TableName} not ACTIVE after ${READY_TIMEOUT_MS} ms (status ${Table?.TableStatus})`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

async function createQueues(client: SQSClient, definitions: ReturnType<typeof queueDefinitions>): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  // Sequential, in the given order: a dead-letter queue is created before the queue pointing at it.
  for (const def of definitions) {
    const attributes: Record<string, string> = { ...def.attributes };
    if (def.deadLetterQueue) {
      const dlqUrl = urls[def.deadLetterQueue];
      if (!dlqUrl) throw new Error(`queue ${def.name}: dead-letter queue ${def.deadLetterQueue} is not defined before it`);
      const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
      const arn = Attributes?.QueueArn;
      if (!arn) throw new Error(`queue ${def.deadLetterQueue}: GetQueueAttributes returned no QueueArn`);
      attributes.RedrivePolicy = redrivePolicy(arn);
    }
    urls[def.name] = await createQueue(client, def.name, attributes);
  }
  return urls;
}

/** CreateQueue is idempotent when attributes match; if they changed (long-lived stack), update them. */
async function createQueue(client: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
    return QueueUrl;
  } catch (err) {
    const code = (err as Error).name;
    if (code !== 'QueueNameExists' && code !== 'QueueAlreadyExists') throw err;
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl) throw new Error(`GetQueueUrl ${name} returned no QueueUrl`);
    await client.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
    return QueueUrl;
  }
}
