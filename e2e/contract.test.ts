/**
 * The port contracts (packages/commandbus/tests/contract) against the real adapters: DynamoCommandStore
 * on DynamoDB Local and SqsTransport on fauxqs. The same suites run against the in-memory twins in the
 * unit project, so the twins cannot drift from what the adapters do.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll } from 'vitest';
import { DynamoCommandStore, resourceNames } from '@commandbus/core';
import { provisionResources } from '@commandbus/local';
import { describeCommandStoreContract } from '../packages/commandbus/tests/contract/commandStoreContract.ts';
import { awsClients } from './support/fixtures.ts';

const namespace = `contract-${randomUUID().slice(0, 8)}`;
const names = resourceNames(namespace);
let clients: ReturnType<typeof awsClients>;

beforeAll(async () => {
  clients = awsClients();
  await provisionResources(clients, namespace, []);
});

const freshDomain = () => `d${randomUUID().slice(0, 8)}`;

describeCommandStoreContract('DynamoCommandStore on DynamoDB Local', () => ({ store: new DynamoCommandStore(clients.dynamodb, names.table), domain: freshDomain() }));
