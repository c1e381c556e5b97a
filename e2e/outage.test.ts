/**
 * Invariant 7: an attempt is a handler run. A real stall of DynamoDB Local (SIGSTOP) while a worker
 * records its receives, with a client that times out as a Lambda's would: the writes the worker gave
 * up on land when DynamoDB resumes (SIGCONT), yet no command loses an attempt, is parked, or is given
 * a false reason.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandBus, CommandStatus, HandlerRegistry, Worker, type Logger } from '@commandbus/core';
import { createClients, provisionResources, startLocalStack, type LocalStack } from '@commandbus/local';
import { waitFor } from './support/fixtures.ts';

let stack: LocalStack;
beforeAll(async () => {
  // A stack of its own: stalling the shared one would stall every other test file.
  stack = await startLocalStack();
});
afterAll(async () => {
  if (stack?.dynamodbPid !== undefined) process.kill(stack.dynamodbPid, 'SIGCONT');
  await stack?.stop();
});

describe('A DynamoDB stall while a worker records its receives', () => {
  it('costs no attempt: commands with maxAttempts 1 all complete at attempt 1, none parked', async () => {
    const namespace = `outage-${crypto.randomUUID().slice(0, 8)}`;
    const clients = createClients(stack);
    await provisionResources(clients, namespace, ['test']);
    const bus = new CommandBus({ namespace, dynamodb: clients.dynamodb, sqs: clients.sqs });
    const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
    for (const commandId of ids) await bus.send({ domain: 'test', commandType: 'Work', commandId, data: {}, maxAttempts: 1 });
    // The worker's client times out quickly and does not retry on its own, as in a Lambda.
    const workerDynamo = new DynamoDBClient({
      region: stack.region,
      endpoint: stack.endpoints.dynamodb,
      credentials: stack.credentials,
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 300, requestTimeout: 300, throwOnRequestTimeout: true },
    });
    const givenBack = new Set<string>();
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (message, context) => {
        if (message.startsWith('store unreachable')) givenBack.add(String(context?.messageId));
      },
      error() {},
    };
    let runs = 0;
    const registry = new HandlerRegistry().register('test', 'Work', () => {
      runs++;
      return { done: true };
    });
    const pid = stack.dynamodbPid!;
    process.kill(pid, 'SIGSTOP');
    const worker = new Worker({
      namespace,
      dynamodb: workerDynamo,
      sqs: clients.sqs,
      logger,
      domain: 'test',
      registry,
      concurrency: 5,
      visibilityTimeout: 5,
      waitTimeSeconds: 1,
    });
    const running = worker.run();
    try {
      await waitFor('the worker to give every message back', async () => (givenBack.size >= ids.length ? true : undefined), 30_000);
      process.kill(pid, 'SIGCONT');

      const finals = await waitFor(
        'every command to complete',
        async () => {
          const commands = await Promise.all(ids.map((commandId) => bus.getCommand('test', commandId)));
          return commands.every((command) => command?.status === CommandStatus.COMPLETED) ? commands : undefined;
        },
        60_000,
      );

      for (const command of finals) expect(command).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1 });
      expect(runs).toBe(ids.length);
      for (const commandId of ids) {
        const types = (await bus.getAuditTrail(commandId)).map((event) => event.eventType);
        expect(types).not.toContain('FAILED');
        expect(types).not.toContain('MOVED_TO_TSQ');
        expect(types.at(-1)).toBe('COMPLETED');
      }
    } finally {
      process.kill(pid, 'SIGCONT');
      await worker.stop();
      await running;
      workerDynamo.destroy();
    }
  });
});
