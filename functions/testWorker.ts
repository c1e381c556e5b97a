/**
 * The deployed E2E application's worker: the `test` domain's TestCommand, behaviour records in the
 * commands table. Replace this entry (the stack's `workerEntry`) with your own registry.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HandlerRegistry, readEnvironment, resourceNames } from '@commandbus/core';
import { BehaviourStore, createTestCommandHandler, TEST_COMMAND, TEST_DOMAIN } from '@commandbus/testapp';
import { createWorkerHandler } from './worker.ts';

const environment = readEnvironment();
const table = environment.tableName ?? resourceNames(environment.namespace).table;
const behaviours = new BehaviourStore(new DynamoDBClient({}), table);

export const handler = createWorkerHandler({
  registry: new HandlerRegistry().register(TEST_DOMAIN, TEST_COMMAND, createTestCommandHandler(behaviours)),
});
