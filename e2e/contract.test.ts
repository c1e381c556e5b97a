/**
 * The port contracts (packages/commandbus/tests/contract) against the real adapters: DynamoCommandStore
 * on DynamoDB Local and SqsTransport on fauxqs. The same suites run against the in-memory twins in the
 * unit project, so the twins cannot drift from what the adapters do.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll } from 'vitest';
import { DeleteMessageCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoCommandStore, resourceNames, SqsTransport } from '@commandbus/core';
import { provisionResources } from '@commandbus/local';
import { describeCommandStoreContract } from '../packages/commandbus/tests/contract/commandStoreContract.ts';
import { describeTransportContract } from '../packages/commandbus/tests/contract/transportContract.ts';
import { awsClients } from './support/fixtures.ts';

const namespace = `contract-${randomUUID().slice(0, 8)}`;
const names = resourceNames(namespace);
let clients: ReturnType<typeof awsClients>;

beforeAll(async () => {
  clients = awsClients();
  await provisionResources(clients, namespace, []);
});

const freshDomain = () => `d${randomUUID().slice(0, 8)}`;

describeCommandStoreContract('DynamoCommandStore on DynamoDB Local', () => ({
  store: new DynamoCommandStore(clients.dynamodb, names.table, { shardChangeDelayMs: 0 }),
  domain: freshDomain(),
}));

describeTransportContract('SqsTransport on fauxqs', async () => {
  // Queues of its own per test: the domain's commands and TSQ queues (the replies queue is shared).
  const domain = freshDomain();
  await provisionResources(clients, namespace, [domain]);
  return {
    transport: new SqsTransport(clients.sqs, { names }),
    names,
    domain,
    replyQueue: names.repliesQueue,
    async readReplies() {
      const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: names.repliesQueue }));
      const { Messages = [] } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const message of Messages) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      return Messages.map((message) => message.Body ?? '');
    },
  };
});
