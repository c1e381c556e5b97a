/** The long-running Worker's own promises: stop() finishes in-flight work and flushes its deletes. */
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandBus, CommandStatus, DynamoCommandStore } from '@commandbus/core';
import { createScenario, waitFor, type Scenario } from './support/fixtures.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

describe('Method: Worker.stop', () => {
  it('lets an in-flight command finish, then deletes its message before resolving', async () => {
    s = await createScenario({ startWorker: false });
    const worker = s.createWorker();
    const running = worker.run();
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'success', delay_ms: 800 });
    await s.send({ commandId });
    await s.waitForStatus(commandId, CommandStatus.IN_PROGRESS);

    await worker.stop();
    await running;

    expect((await s.getCommand(commandId))?.status).toBe(CommandStatus.COMPLETED);
    const { QueueUrl } = await s.clients.sqs.send(new GetQueueUrlCommand({ QueueName: s.names.commandsQueue('test') }));
    const { Attributes } = await s.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    expect(Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });
});

describe('Method: CommandBus.send (the worker records the command first)', () => {
  it('succeeds when the worker has already recorded and completed the command by the time the producer writes', async () => {
    s = await createScenario();
    const scenario = s;
    // A producer whose record write is slow: it lands only after the worker has finished.
    const store = new DynamoCommandStore(scenario.clients.dynamodb, scenario.names.table);
    const slow = Object.assign(Object.create(store) as DynamoCommandStore, {
      insert: async (record: Parameters<DynamoCommandStore['insert']>[0]) => {
        await waitFor('the worker to complete the command', async () =>
          (await store.get(record.domain, record.commandId))?.status === CommandStatus.COMPLETED ? true : undefined,
        );
        return store.insert(record);
      },
    });
    const commandId = crypto.randomUUID();

    const sent = await new CommandBus({ ...scenario.config, store: slow }).send({ domain: 'test', commandType: 'TestCommand', commandId, data: {} });

    expect(sent.status).toBe(CommandStatus.COMPLETED);
    expect(await scenario.auditTypes(commandId)).toEqual(['SENT', 'RECEIVED', 'COMPLETED']);
    expect((await scenario.getCommand(commandId))?.attempts).toBe(1);
  });
});
