/**
 * The brief's invariants, each with a test that would fail without it: late finishers change
 * nothing, sends are idempotent, nothing is lost, operator actions only from IN_TSQ, native redrive
 * is a retry and stale copies are dropped.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CommandBus,
  CommandNotFoundError,
  CommandStatus,
  DuplicateCommandError,
  DynamoCommandStore,
  InvalidOperationError,
  ItemTooLargeError,
  SqsTransport,
  TroubleshootingQueue,
  ValidationError,
} from '@commandbus/core';
import { FaultyCommandStore, FaultyTransport } from '@commandbus/core/testing';
import { createScenario, waitFor, type Scenario } from './support/fixtures.ts';

let s: Scenario;
beforeAll(async () => {
  s = await createScenario({ concurrency: 4 });
});
afterAll(async () => {
  await s.cleanup();
});

describe('Invariant 1: a late finisher changes nothing', () => {
  for (const outcome of ['success', 'fail_permanent'] as const) {
    it(`ignores attempt 1 returning ${outcome} after attempt 2 completed`, async () => {
      const scoped = await createScenario({ concurrency: 2, visibilityTimeout: 1, handlerTimeoutMs: 10_000 });
      try {
        const commandId = crypto.randomUUID();
        await scoped.behaviours.create(commandId, { type: 'slow_first_attempt', delay_ms: 2500, outcome });

        await scoped.send({ commandId });
        const completed = await scoped.waitForCompletion(commandId, 20_000);
        expect(completed.attempts).toBe(2);
        // Wait until attempt 1 has really returned, then check nothing moved.
        await waitFor('attempt 1 to return', async () => ((await scoped.behaviours.get(commandId))?.finished === 2 ? true : undefined));
        const after = await scoped.getCommand(commandId);

        expect(after).toEqual(completed);
        expect(after?.result).toMatchObject({ attempt: 2 });
        const types = (await scoped.bus.getAuditTrail(commandId)).map((event) => event.eventType);
        expect(types).toEqual(['SENT', 'RECEIVED', 'RECEIVED', 'COMPLETED']);
      } finally {
        await scoped.cleanup();
      }
    });
  }
});

describe('Invariant 2: idempotent send', () => {
  it('refuses a second send of the same id with DuplicateCommandError and processes once', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'success' });
    await s.send({ commandId, data: { n: 1 } });

    await expect(s.send({ commandId, data: { n: 2 } })).rejects.toBeInstanceOf(DuplicateCommandError);
    const command = await s.waitForCompletion(commandId);

    expect(command.result).toMatchObject({ received: { n: 1 } });
    await waitFor('the duplicate message to be consumed', async () => (await queueIsEmpty(s.names.commandsQueue('test'))) || undefined);
    expect((await s.behaviours.get(commandId))?.invocations).toBe(1);
    expect((await s.auditTypes(commandId)).filter((type) => type === 'SENT')).toHaveLength(1);
  });

  it('lets exactly one of several concurrent sends of one id win', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'success' });

    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, n) => s.send({ commandId, data: { n } })));

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    expect(rejected).toHaveLength(4);
    expect(rejected.every((result) => result.reason instanceof DuplicateCommandError)).toBe(true);
    await s.waitForCompletion(commandId);
    await waitFor('every duplicate message to be consumed', async () => (await queueIsEmpty(s.names.commandsQueue('test'))) || undefined);
    expect((await s.behaviours.get(commandId))?.invocations).toBe(1);
    expect((await s.auditTypes(commandId)).filter((type) => type === 'RECEIVED')).toHaveLength(1);
  });
});

describe('Invariant 3: nothing is lost silently', () => {
  it('parks a malformed message in the TSQ with its reason', async () => {
    const url = await queueUrl(s.names.commandsQueue('test'));
    const { MessageId } = await s.clients.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'this is not a command' }));

    const command = await s.waitForStatus(MessageId!, CommandStatus.IN_TSQ);

    expect(command.lastError?.code).toBe('MALFORMED_MESSAGE');
    expect(command.data).toEqual({ rawBody: 'this is not a command' });
    const listed = await s.tsq.list({ domain: 'test', limit: 100 });
    expect(listed.items.map((entry) => entry.commandId)).toContain(MessageId);
  });

  it('parks a command of an unknown type with NO_HANDLER', async () => {
    const commandId = crypto.randomUUID();

    await s.bus.send({ domain: 'test', commandType: 'NobodyHandlesThis', commandId, data: { keep: 'me' } });
    const command = await s.waitForStatus(commandId, CommandStatus.IN_TSQ);

    expect(command.lastError?.code).toBe('NO_HANDLER');
    expect(command.data).toEqual({ keep: 'me' });
  });

  it('parks a command whose handler returns a result too large to store, instead of looping', async () => {
    // The test handler echoes its data in the result: 100 KB of data makes a result over the limit.
    const commandId = await s.send({ data: { blob: 'x'.repeat(100 * 1024) } });

    const command = await s.waitForStatus(commandId, CommandStatus.IN_TSQ);

    expect(command.lastError?.code).toBe('RESULT_TOO_LARGE');
    expect(command.data).toEqual({ blob: 'x'.repeat(100 * 1024) });
  });

  it('parks a command without its payload when the item would exceed 400 KB; the parked copy still redrives it', async () => {
    const scoped = await createScenario({ startWorker: false });
    // DynamoDB refuses item writes over 400 KB; a worker store that does so for every write with a payload.
    const tooLarge = new FaultyCommandStore(new DynamoCommandStore(scoped.clients.dynamodb, scoped.names.table)).failNext(
      'apply',
      new ItemTooLargeError('Item size to update has exceeded the maximum allowed size'),
      { when: (transition) => transition.set.data !== undefined, times: Infinity },
    );
    scoped.startWorker({ store: tooLarge });
    try {
      const commandId = crypto.randomUUID();
      await scoped.behaviours.create(commandId, { type: 'fail_permanent', error_code: 'BIG' });

      await scoped.send({ commandId, data: { keep: 'me' } });
      const parked = await scoped.waitForStatus(commandId, CommandStatus.IN_TSQ);

      expect(parked.data).toBeUndefined();
      expect(parked.lastError?.code).toBe('BIG');
      expect(parked.lastError?.message).toMatch(/payload not stored/);
      await expect(scoped.tsq.operatorRetry({ domain: 'test', commandId, operator: 'ops' })).rejects.toThrow(/redrive its parked copy/);
      await scoped.behaviours.update(commandId, { type: 'success' });
      await redrive(scoped);
      const done = await scoped.waitForCompletion(commandId);
      expect(done.result).toMatchObject({ received: { keep: 'me' } });
    } finally {
      await scoped.cleanup();
    }
  });

  it('still processes a command whose send failed after enqueueing (the record write was lost)', async () => {
    // A producer whose DynamoDB write fails after SQS accepted the message.
    const failingStore = new FaultyCommandStore(new DynamoCommandStore(s.clients.dynamodb, s.names.table)).failNext(
      'insert',
      new Error('simulated DynamoDB outage'),
      {
        times: Infinity,
      },
    );
    const flakyBus = new CommandBus({ ...s.config, store: failingStore });
    const commandId = crypto.randomUUID();

    await expect(flakyBus.send({ domain: 'test', commandType: 'TestCommand', commandId, data: { x: 1 } })).rejects.toThrow(/enqueued but recording it failed/);
    const command = await s.waitForCompletion(commandId);

    expect(command.result).toMatchObject({ received: { x: 1 } });
    expect(await s.auditTypes(commandId)).toEqual(['SENT', 'RECEIVED', 'COMPLETED']);
  });

  it('rejects bad input with an error naming the problem, and records nothing', async () => {
    const commandId = crypto.randomUUID();
    const base = { domain: 'test', commandType: 'TestCommand', commandId, data: {} };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ commandId: 'not-a-uuid' }, /^commandId: must be a UUID/],
      [{ domain: '' }, /^domain: must be a non-empty string/],
      [{ commandType: '  ' }, /^commandType: must be a non-empty string/],
      [{ data: { when: new Date() } }, /^data\.when: is a Date/],
      [{ data: { f: () => 1 } }, /^data\.f: is a function/],
      [{ data: 'text' }, /^data: must be a JSON object/],
      [{ data: { blob: 'x'.repeat(300 * 1024) } }, /^data: is \d+ bytes as JSON; the limit is/],
      [{ maxAttempts: 0 }, /^maxAttempts: must be an integer from 1 to/],
    ];
    for (const [override, message] of cases) {
      const error = await s.bus.send({ ...base, ...override } as never).catch((caught: unknown) => caught);
      expect(error, JSON.stringify(Object.keys(override))).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(message);
    }
    expect(await s.getCommand(commandId)).toBeUndefined();
  });
});

describe('Invariant 3: a retry can never strand a command', () => {
  it('finishes an operator retry whose last write was lost, from the worker that receives its message', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent' });
    await s.send({ commandId });
    await s.waitForStatus(commandId, CommandStatus.IN_TSQ);
    await s.behaviours.update(commandId, { type: 'success' });
    // An operator whose process dies right after the message is sent: its PENDING write never lands.
    const dying = new FaultyCommandStore(new DynamoCommandStore(s.clients.dynamodb, s.names.table)).failNext('apply', new Error('simulated crash'), {
      when: (transition) => transition.set.status === CommandStatus.PENDING,
      times: Infinity,
    });

    await expect(new TroubleshootingQueue({ ...s.config, store: dying }).operatorRetry({ domain: 'test', commandId, operator: 'ops' })).rejects.toThrow(
      'simulated crash',
    );
    const command = await s.waitForCompletion(commandId);

    expect(command.attempts).toBe(1);
    expect(await s.auditTypes(commandId)).toEqual(['SENT', 'RECEIVED', 'MOVED_TO_TSQ', 'OPERATOR_RETRY', 'RECEIVED', 'COMPLETED']);
  });

  it('keeps the command in the TSQ, still actionable, when a retry cannot enqueue', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent' });
    await s.send({ commandId });
    await s.waitForStatus(commandId, CommandStatus.IN_TSQ);
    const broken = new FaultyTransport(new SqsTransport(s.clients.sqs, { names: s.names })).failNext('sendCommand', new Error('simulated SQS outage'), {
      times: Infinity,
    });

    await expect(new TroubleshootingQueue({ ...s.config, transport: broken }).operatorRetry({ domain: 'test', commandId, operator: 'ops' })).rejects.toThrow(
      /could not enqueue; it is still in the TSQ/,
    );

    expect((await s.getCommand(commandId))?.status).toBe(CommandStatus.IN_TSQ);
    expect(await s.findInTsq(commandId)).toBeDefined();
    await s.tsq.operatorCancel({ domain: 'test', commandId, operator: 'ops', reason: 'gave up' });
    expect((await s.getCommand(commandId))?.status).toBe(CommandStatus.CANCELLED);
  });
});

describe('Invariant 4: state and audit move together', () => {
  it('records one event per transition, in the order of the writes, each with its attempt', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_transient_then_succeed', transient_failures: 1, error_code: 'FLAKY' });

    await s.send({ commandId });
    const command = await s.waitForCompletion(commandId);

    const events = await s.bus.getAuditTrail(commandId);
    expect(events.map((event) => [event.eventType, event.attempt])).toEqual([
      ['SENT', 0],
      ['RECEIVED', 1],
      ['FAILED', 1],
      ['RECEIVED', 2],
      ['COMPLETED', 2],
    ]);
    expect(events[2]?.details).toEqual({ errorType: 'TRANSIENT', errorCode: 'FLAKY', errorMessage: 'transient failure 1 of 1' });
    expect(command.attempts).toBe(2);
    expect(command.lastError?.code).toBe('FLAKY');
  });
});

describe('Invariant 5: operator actions only from IN_TSQ', () => {
  it('refuses retry, cancel and complete on a COMPLETED command and changes nothing', async () => {
    const commandId = await s.send();
    const before = await s.waitForCompletion(commandId);
    const trailBefore = await s.bus.getAuditTrail(commandId);

    const action = { domain: 'test', commandId, operator: 'ops' };
    await expect(s.tsq.operatorRetry(action)).rejects.toBeInstanceOf(InvalidOperationError);
    await expect(s.tsq.operatorCancel({ ...action, reason: 'no' })).rejects.toThrow(/only for a command in the troubleshooting queue.*is COMPLETED/);
    await expect(s.tsq.operatorComplete({ ...action, resultData: {} })).rejects.toBeInstanceOf(InvalidOperationError);

    expect(await s.getCommand(commandId)).toEqual(before);
    expect(await s.bus.getAuditTrail(commandId)).toEqual(trailBefore);
  });

  it('answers CommandNotFoundError for an unknown command and requires an operator', async () => {
    await expect(s.tsq.operatorRetry({ domain: 'test', commandId: crypto.randomUUID(), operator: 'ops' })).rejects.toBeInstanceOf(CommandNotFoundError);
    await expect(s.tsq.operatorCancel({ domain: 'test', commandId: crypto.randomUUID(), operator: '', reason: 'x' })).rejects.toThrow(
      /^operator: must be a non-empty string/,
    );
  });

  it('lets only one of two concurrent operator actions win', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent' });
    await s.send({ commandId });
    await s.waitForStatus(commandId, CommandStatus.IN_TSQ);

    const results = await Promise.allSettled([
      s.tsq.operatorCancel({ domain: 'test', commandId, operator: 'alice', reason: 'dup' }),
      s.tsq.operatorComplete({ domain: 'test', commandId, operator: 'bob', resultData: { done: true } }),
    ]);

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const operatorEvents = (await s.auditTypes(commandId)).filter((type) => type.startsWith('OPERATOR_'));
    expect(operatorEvents).toHaveLength(1);
  });
});

describe('Invariant 6: native redrive is a retry; stale copies are dropped', () => {
  it('treats a console/CLI redrive from the TSQ queue like an operator retry', async () => {
    const scoped = await createScenario();
    try {
      const commandId = crypto.randomUUID();
      await scoped.behaviours.create(commandId, { type: 'fail_permanent' });
      await scoped.send({ commandId });
      await scoped.waitForStatus(commandId, CommandStatus.IN_TSQ);
      await scoped.behaviours.update(commandId, { type: 'success' });

      await redrive(scoped);
      const command = await scoped.waitForCompletion(commandId);

      expect(command.attempts).toBe(1);
      const events = await scoped.bus.getAuditTrail(commandId);
      expect(events.map((event) => event.eventType)).toEqual(['SENT', 'RECEIVED', 'MOVED_TO_TSQ', 'OPERATOR_RETRY', 'RECEIVED', 'COMPLETED']);
      expect(events.find((event) => event.eventType === 'OPERATOR_RETRY')?.details.operator).toBe('sqs-redrive');
    } finally {
      await scoped.cleanup();
    }
  });

  it('drops a stale TSQ copy of a command that an operator already retried, cancelled or completed', async () => {
    const scoped = await createScenario();
    try {
      const ids = { retried: crypto.randomUUID(), cancelled: crypto.randomUUID(), completed: crypto.randomUUID() };
      for (const commandId of Object.values(ids)) {
        await scoped.behaviours.create(commandId, { type: 'fail_permanent' });
        await scoped.send({ commandId });
      }
      for (const commandId of Object.values(ids)) await scoped.waitForStatus(commandId, CommandStatus.IN_TSQ);
      await scoped.behaviours.update(ids.retried, { type: 'success' });
      await scoped.tsq.operatorRetry({ domain: 'test', commandId: ids.retried, operator: 'ops' });
      await scoped.tsq.operatorCancel({ domain: 'test', commandId: ids.cancelled, operator: 'ops', reason: 'not needed' });
      await scoped.tsq.operatorComplete({ domain: 'test', commandId: ids.completed, operator: 'ops', resultData: { by: 'hand' } });
      await scoped.waitForCompletion(ids.retried);
      const before = await Promise.all(Object.values(ids).map((commandId) => scoped.bus.getAuditTrail(commandId)));

      await redrive(scoped);
      await waitFor('the redriven copies to be consumed', async () => (await queueIsEmpty(scoped.names.commandsQueue('test'), scoped)) || undefined);

      const after = await Promise.all(Object.values(ids).map((commandId) => scoped.bus.getAuditTrail(commandId)));
      expect(after).toEqual(before);
      expect((await scoped.behaviours.get(ids.retried))?.invocations).toBe(2);
      expect((await scoped.behaviours.get(ids.cancelled))?.invocations).toBe(1);
    } finally {
      await scoped.cleanup();
    }
  });
});

describe('The TSQ sweeper', () => {
  it('removes the stale and duplicate copies from the TSQ queue and keeps the live ones', async () => {
    const scoped = await createScenario();
    try {
      const ids = { waiting: crypto.randomUUID(), cancelled: crypto.randomUUID(), completed: crypto.randomUUID() };
      for (const commandId of Object.values(ids)) {
        await scoped.behaviours.create(commandId, { type: 'fail_permanent' });
        await scoped.send({ commandId });
      }
      for (const commandId of Object.values(ids)) await scoped.waitForStatus(commandId, CommandStatus.IN_TSQ);
      await scoped.tsq.operatorCancel({ domain: 'test', commandId: ids.cancelled, operator: 'ops', reason: 'not needed' });
      await scoped.tsq.operatorComplete({ domain: 'test', commandId: ids.completed, operator: 'ops' });
      const sweeper = new TroubleshootingQueue(scoped.config);

      const first = await sweeper.sweep('test');
      const second = await sweeper.sweep('test');

      expect(first).toEqual({ examined: 3, removed: 2, adopted: 0, kept: 1 });
      expect(second).toEqual({ examined: 1, removed: 0, adopted: 0, kept: 1 });
      // The live copy is visible again and still redrives the waiting command.
      await scoped.behaviours.update(ids.waiting, { type: 'success' });
      await redrive(scoped);
      await scoped.waitForCompletion(ids.waiting);
    } finally {
      await scoped.cleanup();
    }
  });
});

async function queueUrl(name: string, scenario: Scenario = s): Promise<string> {
  const { QueueUrl } = await scenario.clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  return QueueUrl!;
}

/** No message visible or in flight. */
async function queueIsEmpty(name: string, scenario: Scenario = s): Promise<boolean> {
  const { Attributes } = await scenario.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await queueUrl(name, scenario),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return Object.values(Attributes ?? {}).every((count) => count === '0');
}

/** StartMessageMoveTask from the TSQ queue back to the commands queue, named as the destination. */
async function redrive(scenario: Scenario): Promise<void> {
  const arn = async (name: string) => {
    const { Attributes } = await scenario.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: await queueUrl(name, scenario), AttributeNames: ['QueueArn'] }),
    );
    return Attributes!.QueueArn!;
  };
  await scenario.clients.sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: await arn(scenario.names.tsqQueue('test')),
      DestinationArn: await arn(scenario.names.commandsQueue('test')),
    }),
  );
  await waitFor('the TSQ queue to drain', async () => (await queueIsEmpty(scenario.names.tsqQueue('test'), scenario)) || undefined);
}
