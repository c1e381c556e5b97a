import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { editAndRetryCommand, retryCommand } from '../../../src/application/retryProtocol.ts';
import { decodeEnvelope, type Envelope } from '../../../src/domain/envelope.ts';
import { malformedRecord, type Transition } from '../../../src/domain/lifecycle.ts';
import { CommandNotFoundError, InvalidOperationError, PermanentCommandError, ValidationError } from '../../../src/errors.ts';
import { CommandStatus, type JsonObject } from '../../../src/types.ts';
import { createWorld, DOMAIN, useFakeClock, type World } from './support.ts';

beforeEach(() => useFakeClock());
afterEach(() => {
  vi.useRealTimers();
});

/** A command parked by a permanent failure of its first attempt; the handler then returns the data it ran with. */
async function parkedCommand(world: World, data: JsonObject = { amount: -7 }, options: { failAlways?: boolean } = {}): Promise<string> {
  let fail = true;
  world.handle((command) => {
    if (fail || options.failAlways) {
      fail = false;
      throw new PermanentCommandError('NEGATIVE_AMOUNT', 'amount must be positive');
    }
    return { ranWith: command.data };
  });
  const commandId = await world.send({ data });
  await world.deliver();
  return commandId;
}

const isStep = (status: string) => (transition: Transition) => transition.set.status === status && transition.history === undefined;
const envelopeOf = (body: string): Envelope => {
  const decoded = decodeEnvelope(body);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.envelope;
};

describe('Function: editAndRetryCommand', () => {
  it('enqueues the corrected payload and records the edit: payload replaced, before and after in the history, the edit in the audit event', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);

    // Act
    await editAndRetryCommand(world, { domain: DOMAIN, commandId, operator: 'alice', data: { amount: 7 } });

    // Assess
    const state = await world.state(commandId);
    expect(state).toMatchObject({ status: CommandStatus.PENDING, attempts: 0, data: { amount: 7 }, edits: 1 });
    const [message] = world.commandsQueue().filter((queued) => queued.visible);
    expect(envelopeOf(message!.body)).toMatchObject({ commandId, token: state.token, data: { amount: 7 } });
    const { items } = await world.store.history({ domain: DOMAIN, commandId });
    expect(items).toEqual([
      { domain: DOMAIN, commandId, editNumber: 1, editedAt: expect.any(String), operator: 'alice', before: { amount: -7 }, after: { amount: 7 } },
    ]);
    const events = await world.store.auditTrail(commandId, DOMAIN);
    expect(events.at(-1)).toMatchObject({ eventType: 'OPERATOR_RETRY', details: { operator: 'alice', edited: true, editNumber: 1 } });
  });

  it('runs the command with the corrected payload', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    await editAndRetryCommand(world, { domain: DOMAIN, commandId, operator: 'alice', data: { amount: 7 } });

    // Act
    await world.deliver();

    // Assess
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, result: { ranWith: { amount: 7 } } });
  });

  it('runs the corrected payload when the operator dies before step 3: the worker adopting the pending retry records the edit', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    world.store.failNext('apply', new Error('simulated crash'), { when: isStep(CommandStatus.PENDING) });
    await expect(editAndRetryCommand(world, { domain: DOMAIN, commandId, operator: 'alice', data: { amount: 7 } })).rejects.toThrow('simulated crash');
    const pending = await world.state(commandId);

    // Act
    await world.deliver();

    // Assess
    expect(pending).toMatchObject({
      status: CommandStatus.IN_TSQ,
      data: { amount: 7 },
      pendingRetry: { operator: 'alice', details: { edited: true, editNumber: 1 } },
    });
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, result: { ranWith: { amount: 7 } } });
    const retry = (await world.store.auditTrail(commandId, DOMAIN)).find((event) => event.eventType === 'OPERATOR_RETRY');
    expect(retry?.details).toEqual({ operator: 'alice', edited: true, editNumber: 1 });
  });

  it('runs the corrected payload when the operator dies before sending: a later plain retry sends the edited payload', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    world.transport.failNext('sendCommand', new Error('simulated crash'));
    await expect(editAndRetryCommand(world, { domain: DOMAIN, commandId, operator: 'alice', data: { amount: 7 } })).rejects.toThrow();

    // Act
    await retryCommand(world, { domain: DOMAIN, commandId, operator: 'bob' });
    await world.deliver();

    // Assess
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, edits: 1, result: { ranWith: { amount: 7 } } });
    const retry = (await world.store.auditTrail(commandId, DOMAIN)).find((event) => event.eventType === 'OPERATOR_RETRY');
    expect(retry?.details).toEqual({ operator: 'bob', edited: true, editNumber: 1 });
  });

  it('runs the corrected payload when the operator dies before sending and the old parked copy is redriven from the console', async () => {
    // Prepare: the edit is recorded, its message never sent; the TSQ queue holds the copy parked before the edit
    const world = createWorld();
    const commandId = await parkedCommand(world);
    world.transport.failNext('sendCommand', new Error('simulated crash'));
    await expect(editAndRetryCommand(world, { domain: DOMAIN, commandId, operator: 'alice', data: { amount: 7 } })).rejects.toThrow();
    for (const copy of await world.transport.receiveParked(DOMAIN, { maxMessages: 10, visibilityTimeoutSeconds: 30 })) {
      expect(envelopeOf(copy.body).data).toEqual({ amount: -7 });
      await world.transport.sendCommand(DOMAIN, copy.body, { attributes: copy.attributes });
      await world.transport.deleteParked(DOMAIN, copy.receiptHandle);
    }

    // Act: the redriven copy becomes a retry; the retry's message runs
    await world.deliver();
    await world.deliver();

    // Assess
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, result: { ranWith: { amount: 7 } } });
  });

  it('keeps every edit of a command parked again and again, numbered, each with its before and after', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world, { n: 0 }, { failAlways: true });

    // Act
    for (let n = 1; n <= 3; n++) {
      await editAndRetryCommand(world, { domain: DOMAIN, commandId, operator: `op-${n}`, data: { n } });
      await world.deliver();
    }

    // Assess
    const { items } = await world.store.history({ domain: DOMAIN, commandId });
    expect(items.map(({ editNumber, operator, before, after }) => ({ editNumber, operator, before, after }))).toEqual([
      { editNumber: 1, operator: 'op-1', before: { n: 0 }, after: { n: 1 } },
      { editNumber: 2, operator: 'op-2', before: { n: 1 }, after: { n: 2 } },
      { editNumber: 3, operator: 'op-3', before: { n: 2 }, after: { n: 3 } },
    ]);
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.IN_TSQ, edits: 3, data: { n: 3 } });
  });

  it('refuses a command that is not parked, one that does not exist, and a message that is not a command', async () => {
    // Prepare
    const world = createWorld();
    world.handle(() => ({ ok: true }));
    const completed = await world.send();
    await world.deliver();
    const malformedId = '0f8fad5b-d9cb-469f-a165-70867728950e';
    await world.store.insert(malformedRecord(DOMAIN, malformedId, 'not json', 'not JSON', new Date().toISOString()));
    const edit = (commandId: string) => editAndRetryCommand(world, { domain: DOMAIN, commandId, operator: 'alice', data: { amount: 1 } });

    // Act & Assess
    await expect(edit(completed)).rejects.toThrow(InvalidOperationError);
    await expect(edit('6f1c2a4e-8b7d-4c3a-9e5f-0a1b2c3d4e5f')).rejects.toThrow(CommandNotFoundError);
    await expect(edit(malformedId)).rejects.toThrow(/not a command.*cannot be edited and retried/);
    expect((await world.store.history({ domain: DOMAIN, commandId: malformedId })).items).toEqual([]);
  });
});

describe('Method: TroubleshootingQueue.operatorEditAndRetry', () => {
  it('validates the payload as send does', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    const edit = (data: unknown) => world.tsq.operatorEditAndRetry({ domain: DOMAIN, commandId, operator: 'alice', data: data as JsonObject });

    // Act & Assess
    await expect(edit([1])).rejects.toThrow(ValidationError);
    await expect(edit({ '': 1 })).rejects.toThrow(/data.*empty key/);
    await expect(edit({ big: 'x'.repeat(128 * 1024) })).rejects.toThrow(/limit is 131072 bytes/);
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.IN_TSQ, data: { amount: -7 } });
  });

  it('pages the history', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world, { amount: -7 }, { failAlways: true });
    for (let n = 1; n <= 3; n++) {
      await world.tsq.operatorEditAndRetry({ domain: DOMAIN, commandId, operator: 'alice', data: { n } });
      await world.deliver();
    }

    // Act
    const first = await world.tsq.getCommandHistory({ domain: DOMAIN, commandId, limit: 2 });
    const second = await world.tsq.getCommandHistory({ domain: DOMAIN, commandId, limit: 2, cursor: first.nextCursor! });

    // Assess
    expect(first.items.map((edit) => edit.editNumber)).toEqual([1, 2]);
    expect(second.items.map((edit) => edit.editNumber)).toEqual([3]);
    expect(second).not.toHaveProperty('nextCursor');
    await expect(world.tsq.getCommandHistory({ domain: DOMAIN, commandId, limit: 11 })).rejects.toThrow(ValidationError);
  });
});
