import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { completeRetry, retryCommand } from '../../../src/application/retryProtocol.ts';
import { decodeEnvelope, PARKED_ATTRIBUTE, type Envelope } from '../../../src/domain/envelope.ts';
import { REDRIVE_OPERATOR, retryRequestTransition } from '../../../src/domain/lifecycle.ts';
import { CommandNotFoundError, InvalidOperationError, PermanentCommandError, SendFailedError } from '../../../src/errors.ts';
import type { Transition } from '../../../src/domain/lifecycle.ts';
import { CommandStatus } from '../../../src/types.ts';
import { createWorld, DOMAIN, useFakeClock, type World } from './support.ts';

beforeEach(() => useFakeClock());
afterEach(() => {
  vi.useRealTimers();
});

/** A command parked by a permanent failure; the handler succeeds from then on. Returns its id. */
async function parkedCommand(world: World, data = { amount: 7 }): Promise<string> {
  let fail = true;
  world.handle((_, { attempt }) => {
    if (fail) {
      fail = false;
      throw new PermanentCommandError('BROKEN', 'broken');
    }
    return { attempt };
  });
  const commandId = await world.send({ data });
  await world.deliver();
  return commandId;
}

const isStepThree = (transition: Transition) => transition.set.status === CommandStatus.PENDING && transition.set.tsq === 'leave';
const envelopeOf = (body: string): Envelope => {
  const decoded = decodeEnvelope(body);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.envelope;
};

describe('Function: retryCommand', () => {
  it('retries a parked command: its payload enqueued under a new token, then PENDING with attempts reset and out of the TSQ', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    const parked = await world.state(commandId);

    // Act
    await retryCommand(world, { domain: DOMAIN, commandId, operator: 'alice', details: { ticket: 'T-1' } });

    // Assess
    const state = await world.state(commandId);
    expect(state).toMatchObject({ status: CommandStatus.PENDING, attempts: 0 });
    expect(state.token).not.toBe(parked.token);
    expect(state).not.toHaveProperty('pendingRetry');
    expect(state).not.toHaveProperty('movedToTsqAt');
    expect((await world.store.listTsq({ domain: DOMAIN })).items).toEqual([]);
    const [message] = world.commandsQueue().filter((queued) => queued.visible);
    expect(envelopeOf(message!.body)).toMatchObject({ commandId, token: state.token, data: { amount: 7 }, maxAttempts: 3 });
    const events = await world.store.auditTrail(commandId, DOMAIN);
    expect(events.at(-1)).toMatchObject({ eventType: 'OPERATOR_RETRY', attempt: 1, details: { operator: 'alice', ticket: 'T-1' } });
  });

  it('runs the retried command afresh: attempt 1 again, completed', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    await retryCommand(world, { domain: DOMAIN, commandId, operator: 'alice' });

    // Act
    const { outcome } = await world.deliver();

    // Assess
    expect(outcome).toBe('ack');
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1, result: { attempt: 1 } });
    expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'MOVED_TO_TSQ#1', 'OPERATOR_RETRY#1', 'RECEIVED#1', 'COMPLETED#1']);
  });

  it('leaves the command parked and actionable when its message cannot be enqueued', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    world.transport.failNext('sendCommand', new Error('simulated SQS outage'));

    // Act
    const error = await retryCommand(world, { domain: DOMAIN, commandId, operator: 'alice' }).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(SendFailedError);
    expect((error as Error).message).toMatch(/could not enqueue; it is still in the TSQ/);
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.IN_TSQ, pendingRetry: { operator: 'alice' } });
    expect((await world.store.listTsq({ domain: DOMAIN })).items.map((item) => item.commandId)).toEqual([commandId]);
    await world.tsq.operatorCancel({ domain: DOMAIN, commandId, operator: 'alice', reason: 'gave up' });
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.CANCELLED });
  });

  it('strands nothing when the operator dies between sending and step 3: the worker that receives the message finishes the retry', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    world.store.failNext('apply', new Error('simulated crash'), { when: isStepThree });
    await expect(retryCommand(world, { domain: DOMAIN, commandId, operator: 'alice' })).rejects.toThrow('simulated crash');
    const pending = await world.state(commandId);

    // Act
    const { outcome } = await world.deliver();

    // Assess
    expect(pending).toMatchObject({ status: CommandStatus.IN_TSQ, pendingRetry: { operator: 'alice' } });
    expect(outcome).toBe('ack');
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1, token: pending.pendingRetry!.token });
    expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'MOVED_TO_TSQ#1', 'OPERATOR_RETRY#1', 'RECEIVED#1', 'COMPLETED#1']);
    expect((await world.store.listTsq({ domain: DOMAIN })).items).toEqual([]);
  });

  it("makes an interrupted retry's message stale when the operator retries again", async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    world.store.failNext('apply', new Error('simulated crash'), { when: isStepThree });
    await expect(retryCommand(world, { domain: DOMAIN, commandId, operator: 'alice' })).rejects.toThrow('simulated crash');

    // Act
    await retryCommand(world, { domain: DOMAIN, commandId, operator: 'bob' });
    const first = await world.deliver();
    const second = await world.deliver();

    // Assess
    expect([first.outcome, second.outcome]).toEqual(['ack', 'ack']);
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1 });
    const retries = (await world.store.auditTrail(commandId, DOMAIN)).filter((event) => event.eventType === 'OPERATOR_RETRY');
    expect(retries.map((event) => event.details.operator)).toEqual(['bob']);
    expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'MOVED_TO_TSQ#1', 'OPERATOR_RETRY#1', 'RECEIVED#1', 'COMPLETED#1']);
  });

  it('refuses a command that is not parked, a message that is not a command, and a command whose payload was not stored', async () => {
    // Prepare
    const world = createWorld();
    world.handle(() => 'done');
    const completed = await world.send();
    await world.deliver();
    await world.transport.sendCommand(DOMAIN, 'junk');
    await world.deliver();
    const malformed = (await world.store.listTsq({ domain: DOMAIN })).items[0]!.commandId;
    const noPayload = randomUUID();
    await world.store.insert({
      domain: DOMAIN,
      commandId: noPayload,
      commandType: 'Charge',
      status: CommandStatus.IN_TSQ,
      attempts: 1,
      maxAttempts: 3,
      token: 't',
      correlationId: 'c',
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      events: [],
    });

    // Act
    const refusals = await Promise.all(
      [completed, malformed, noPayload].map((commandId) =>
        retryCommand(world, { domain: DOMAIN, commandId, operator: 'alice' }).catch((caught: unknown) => caught),
      ),
    );

    // Assess
    expect(refusals.map((error) => (error as Error).constructor)).toEqual([InvalidOperationError, InvalidOperationError, InvalidOperationError]);
    expect((refusals[0] as Error).message).toMatch(/is COMPLETED/);
    expect((refusals[1] as Error).message).toMatch(/not a command/);
    expect((refusals[2] as Error).message).toMatch(/payload not stored/);
    expect(world.commandsQueue().filter((queued) => queued.visible)).toEqual([]);
  });

  it('answers CommandNotFoundError for a command that does not exist', async () => {
    // Prepare
    const world = createWorld();

    // Act
    const retrying = retryCommand(world, { domain: DOMAIN, commandId: randomUUID(), operator: 'alice' });

    // Assess
    await expect(retrying).rejects.toBeInstanceOf(CommandNotFoundError);
  });
});

describe('Function: completeRetry', () => {
  it('succeeds when a worker adopted the retry before step 3 could land', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    const parked = await world.state(commandId);
    const token = randomUUID();
    await world.store.apply(retryRequestTransition(parked, 'alice', token, new Date().toISOString()));
    // The worker receives the retry's message between steps 2 and 3.
    let adopted = false;
    world.store.beforeCall = async (method, args) => {
      if (adopted || method !== 'apply' || !isStepThree(args[0] as Transition)) return;
      adopted = true;
      await world.deliver();
    };

    // Act
    await completeRetry(world, parked, token, 'alice');

    // Assess
    expect(adopted).toBe(true);
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, token });
    expect((await world.store.auditTrail(commandId, DOMAIN)).filter((event) => event.eventType === 'OPERATOR_RETRY')).toHaveLength(1);
  });

  it('fails with InvalidOperationError when the command was resolved meanwhile; the message it sent will be dropped', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    const parked = await world.state(commandId);
    const token = randomUUID();
    await world.store.apply(retryRequestTransition(parked, 'alice', token, new Date().toISOString()));
    await world.tsq.operatorCancel({ domain: DOMAIN, commandId, operator: 'bob', reason: 'no longer needed' });

    // Act
    const error = await completeRetry(world, parked, token, 'alice').catch((caught: unknown) => caught);
    const { outcome } = await world.deliver();

    // Assess
    expect(error).toBeInstanceOf(InvalidOperationError);
    expect(outcome).toBe('ack');
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.CANCELLED });
  });
});

describe('Redrive of a parked copy (console or CLI)', () => {
  /** Moves every parked copy back to the commands queue, as StartMessageMoveTask does. */
  async function redrive(world: World): Promise<void> {
    for (const copy of await world.transport.receiveParked(DOMAIN, { maxMessages: 10, visibilityTimeoutSeconds: 30 })) {
      await world.transport.sendCommand(DOMAIN, copy.body, { attributes: copy.attributes });
      await world.transport.deleteParked(DOMAIN, copy.receiptHandle);
    }
  }

  it('is an operator retry by sqs-redrive: the copy is replaced by a fresh message, which then completes', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    await redrive(world);

    // Act
    const redriven = await world.deliver();
    const fresh = await world.deliver();

    // Assess
    expect(redriven.message.attributes[PARKED_ATTRIBUTE]).toBe('1');
    expect(fresh.message.attributes).toEqual({});
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1 });
    const retry = (await world.store.auditTrail(commandId, DOMAIN)).find((event) => event.eventType === 'OPERATOR_RETRY');
    expect(retry?.details).toEqual({ operator: REDRIVE_OPERATOR, source: 'StartMessageMoveTask' });
    expect(world.tsqQueue()).toEqual([]);
  });

  it('drops a redriven copy whose command was resolved meanwhile', async () => {
    // Prepare
    const world = createWorld();
    const commandId = await parkedCommand(world);
    await world.tsq.operatorComplete({ domain: DOMAIN, commandId, operator: 'alice', resultData: { manual: true } });
    await redrive(world);

    // Act
    const { outcome } = await world.deliver();

    // Assess
    expect(outcome).toBe('ack');
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, result: { manual: true } });
    expect(world.commandsQueue().filter((queued) => queued.visible)).toEqual([]);
  });
});
