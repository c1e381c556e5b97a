import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_RETAKES } from '../../../src/application/CommandProcessor.ts';
import { encodeEnvelope, PARKED_ATTRIBUTE, RETAKE_ATTRIBUTE, RETAKES_ATTRIBUTE, type Envelope } from '../../../src/domain/envelope.ts';
import { MALFORMED_COMMAND_TYPE, recordIdOf } from '../../../src/domain/lifecycle.ts';
import { DuplicateCommandError, PermanentCommandError, SendFailedError, TransientCommandError } from '../../../src/errors.ts';
import { StoreUnavailableError } from '../../../src/ports/CommandStore.ts';
import { CommandStatus } from '../../../src/types.ts';
import { COMMAND_TYPE, createWorld, DOMAIN, elapse, gate, REPLY_QUEUE, START, useFakeClock } from './support.ts';

beforeEach(() => useFakeClock());
afterEach(() => {
  vi.useRealTimers();
});

const down = () => new StoreUnavailableError('DynamoDB did not answer: TimeoutError');

describe('Class: CommandProcessor', () => {
  describe('Method: process (the happy path)', () => {
    it('completes a command on its first delivery, stores its result and asks for the message to be deleted', async () => {
      // Prepare
      const world = createWorld();
      world.handle((command, context) => ({ charged: command.data.amount!, attempt: context.attempt }));
      const commandId = await world.send({ data: { amount: 12 } });

      // Act
      const { outcome } = await world.deliver();

      // Assess
      expect(outcome).toBe('ack');
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1, result: { charged: 12, attempt: 1 } });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'COMPLETED#1']);
    });

    it('sends one SUCCESS reply with the result to the replyTo queue', async () => {
      // Prepare
      const world = createWorld();
      world.handle(() => ({ ok: true }));
      const commandId = await world.send({ replyTo: REPLY_QUEUE });

      // Act
      await world.deliver();

      // Assess
      expect(world.replies()).toEqual([
        { domain: DOMAIN, commandId, commandType: COMMAND_TYPE, correlationId: expect.any(String), outcome: 'SUCCESS', result: { ok: true } },
      ]);
    });

    it('records a command whose producer could not record it, from its message, and completes it', async () => {
      // Prepare
      const world = createWorld();
      world.handle(() => 'done');
      world.store.failNext('insert', new Error('simulated DynamoDB outage'));
      const sending = world.send();
      await expect(sending).rejects.toBeInstanceOf(SendFailedError);
      const { commandId } = JSON.parse(world.commandsQueue()[0]!.body) as Envelope;

      // Act
      const { outcome } = await world.deliver();

      // Assess
      expect(outcome).toBe('ack');
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1, result: 'done' });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'COMPLETED#1']);
    });

    it('drops a stale copy (the message of a duplicate send) without running the handler', async () => {
      // Prepare
      const world = createWorld();
      const handler = vi.fn(() => 'done');
      world.handle(handler);
      const commandId = await world.send();
      await expect(world.send({ commandId })).rejects.toBeInstanceOf(DuplicateCommandError);
      await world.deliver();

      // Act
      const { outcome } = await world.deliver();

      // Assess
      expect(outcome).toBe('ack');
      expect(handler).toHaveBeenCalledTimes(1);
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'COMPLETED#1']);
    });

    it('answers a redelivery of a completed command by sending its reply again, without running the handler', async () => {
      // Prepare
      const world = createWorld();
      const handler = vi.fn(() => ({ ok: true }));
      world.handle(handler);
      await world.send({ replyTo: REPLY_QUEUE });
      const first = await world.receive(1);
      await world.processor.process(first);
      await elapse(1_000); // the delete was lost: the message comes back

      // Act
      const { outcome, message } = await world.deliver();

      // Assess
      expect(message.receiveCount).toBe(2);
      expect(outcome).toBe('ack');
      expect(handler).toHaveBeenCalledTimes(1);
      expect(world.replies().map((reply) => reply.outcome)).toEqual(['SUCCESS', 'SUCCESS']);
    });
  });

  describe('Method: process (failures and retries)', () => {
    it("backs a transient failure off: PENDING with its error, the message delayed by the policy's seconds", async () => {
      // Prepare
      const world = createWorld({ retryPolicy: { baseDelaySeconds: 4, maxDelaySeconds: 300, jitter: false } });
      world.handle(() => {
        throw new TransientCommandError('FLAKY', 'try again');
      });
      const commandId = await world.send();

      // Act
      const { outcome, message } = await world.deliver();

      // Assess
      expect(outcome).toBe('release');
      expect(world.transport.callsOf('delay')).toEqual([[DOMAIN, message.receiptHandle, 4]]);
      expect(world.commandsQueue()).toMatchObject([{ visible: false, visibleAt: START.getTime() + 4_000 }]);
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.PENDING, attempts: 1, lastError: { type: 'TRANSIENT', code: 'FLAKY' } });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'FAILED#1']);
    });

    it('runs attempt 2 once the backoff is over, and completes', async () => {
      // Prepare
      const world = createWorld({ retryPolicy: { baseDelaySeconds: 4, maxDelaySeconds: 300, jitter: false } });
      world.handle((_, { attempt }) => {
        if (attempt === 1) throw new TransientCommandError('FLAKY', 'try again');
        return { attempt };
      });
      const commandId = await world.send();
      await world.deliver();
      await elapse(4_000);

      // Act
      const { outcome, message } = await world.deliver();

      // Assess
      expect(message.receiveCount).toBe(2);
      expect(outcome).toBe('ack');
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 2, result: { attempt: 2 } });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'FAILED#1', 'RECEIVED#2', 'COMPLETED#2']);
    });

    it('doubles the backoff after each failed attempt, up to maxDelaySeconds, then parks the command', async () => {
      // Prepare
      const world = createWorld({ retryPolicy: { baseDelaySeconds: 4, maxDelaySeconds: 6, jitter: false } });
      world.handle(() => {
        throw new Error('still broken');
      });
      const commandId = await world.send({ maxAttempts: 4 });
      const outcomes: string[] = [];

      // Act
      for (let attempt = 1; attempt <= 4; attempt++) {
        outcomes.push((await world.deliver()).outcome);
        await elapse(6_000);
      }

      // Assess
      expect(world.transport.callsOf('delay').map(([, , seconds]) => seconds)).toEqual([4, 6, 6]);
      expect(outcomes).toEqual(['release', 'release', 'release', 'ack']);
      expect((await world.state(commandId)).status).toBe(CommandStatus.IN_TSQ);
    });

    it('parks a command whose handler fails permanently: IN_TSQ with its error and payload, and a copy in the TSQ queue naming it', async () => {
      // Prepare
      const world = createWorld();
      world.handle(() => {
        throw new PermanentCommandError('CARD_DECLINED', 'declined', { reason: 'stolen' });
      });
      const commandId = await world.send({ data: { amount: 99 } });

      // Act
      const { outcome, message } = await world.deliver();

      // Assess
      expect(outcome).toBe('ack');
      const state = await world.state(commandId);
      expect(state).toMatchObject({
        status: CommandStatus.IN_TSQ,
        attempts: 1,
        data: { amount: 99 },
        lastError: { type: 'PERMANENT', code: 'CARD_DECLINED', message: 'declined', details: { reason: 'stolen' } },
        movedToTsqAt: START.toISOString(),
      });
      expect((await world.store.listTsq({ domain: DOMAIN })).items.map((item) => item.commandId)).toEqual([commandId]);
      expect(world.tsqQueue()).toMatchObject([
        {
          body: message.body,
          attributes: { 'cb-parked': '1', 'cb-error-code': 'CARD_DECLINED', 'cb-record': commandId, 'cb-token': state.token },
        },
      ]);
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'MOVED_TO_TSQ#1']);
    });

    it('parks a command of a type no handler is registered for, with NO_HANDLER', async () => {
      // Prepare
      const world = createWorld();
      const commandId = await world.send({ commandType: 'Unknown' });

      // Act
      await world.deliver();

      // Assess
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.IN_TSQ, lastError: { code: 'NO_HANDLER' } });
      expect(world.tsqQueue()).toHaveLength(1);
    });

    it('parks a command once its retries are exhausted: FAILED, RETRY_EXHAUSTED and MOVED_TO_TSQ at the last attempt', async () => {
      // Prepare
      const world = createWorld({ retryPolicy: { baseDelaySeconds: 1, maxDelaySeconds: 1, jitter: false } });
      world.handle(() => {
        throw new TransientCommandError('FLAKY', 'still flaky');
      });
      const commandId = await world.send({ maxAttempts: 2 });
      await world.deliver();
      await elapse(1_000);

      // Act
      const { outcome } = await world.deliver();

      // Assess
      expect(outcome).toBe('ack');
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.IN_TSQ, attempts: 2, lastError: { code: 'FLAKY' } });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'FAILED#1', 'RECEIVED#2', 'FAILED#2', 'RETRY_EXHAUSTED#2', 'MOVED_TO_TSQ#2']);
      expect(world.tsqQueue()).toMatchObject([{ attributes: { 'cb-error-code': 'FLAKY' } }]);
    });

    it('ends a handler at handlerTimeoutMs: the attempt is a transient TIMEOUT and its signal is aborted', async () => {
      // Prepare
      const world = createWorld({ handlerTimeoutMs: 5_000 });
      let signal: AbortSignal | undefined;
      world.handle((_, context) => {
        signal = context.signal;
        return new Promise(() => {}); // never settles
      });
      const commandId = await world.send();
      const message = await world.receive();

      // Act
      const processing = world.processor.process(message);
      await elapse(5_000);
      const outcome = await processing;

      // Assess
      expect(outcome).toBe('release');
      expect(signal?.aborted).toBe(true);
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.PENDING, lastError: { type: 'TIMEOUT', code: 'TIMEOUT' } });
    });
  });

  describe('Method: process (redelivery after a visibility timeout)', () => {
    it('counts a redelivery after the visibility timeout as a new attempt when the first delivery never finished', async () => {
      // Prepare
      const world = createWorld({ handlerTimeoutMs: 600_000 });
      const first = gate<string>();
      world.handle((_, { attempt }) => (attempt === 1 ? first.promise : `attempt ${attempt}`));
      const commandId = await world.send();
      void world.processor.process(await world.receive(30));
      await elapse(30_000);

      // Act
      const { outcome, message } = await world.deliver(30);

      // Assess
      expect(message.receiveCount).toBe(2);
      expect(outcome).toBe('ack');
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 2, result: 'attempt 2' });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'RECEIVED#2', 'COMPLETED#2']);
    });

    it.each([
      ['succeeds', (): unknown => 'late'],
      [
        'fails permanently',
        (): unknown => {
          throw new PermanentCommandError('LATE', 'late failure');
        },
      ],
      [
        'fails transiently',
        (): unknown => {
          throw new TransientCommandError('LATE', 'late failure');
        },
      ],
    ])('changes nothing when a late first attempt %s after attempt 2 completed', async (_, lateOutcome) => {
      // Prepare
      const world = createWorld({ handlerTimeoutMs: 600_000 });
      const first = gate();
      world.handle(async (_, { attempt }) => {
        if (attempt > 1) return `attempt ${attempt}`;
        await first.promise;
        return lateOutcome() as string;
      });
      const commandId = await world.send();
      const late = world.processor.process(await world.receive(30));
      await elapse(30_000);
      await world.deliver(30);
      const completed = await world.state(commandId);
      const trail = await world.trail(commandId);

      // Act
      first.open();
      const outcome = await late;

      // Assess
      expect(outcome).toBe('abandon');
      expect(await world.state(commandId)).toEqual(completed);
      expect(await world.trail(commandId)).toEqual(trail);
      expect(world.tsqQueue()).toEqual([]);
      expect(world.transport.callsOf('delay')).toEqual([]);
    });
  });

  describe('Method: process (the store does not answer)', () => {
    it('retries a write the store did not answer until it lands, without spending another attempt', async () => {
      // Prepare
      const world = createWorld();
      world.handle(() => 'done');
      const commandId = await world.send();
      world.store.failNext('apply', down(), { times: 3 });
      const message = await world.receive();

      // Act
      const processing = world.processor.process(message);
      await elapse(2_000);
      const outcome = await processing;

      // Assess
      expect(outcome).toBe('ack');
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1 });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'COMPLETED#1']);
    });

    it('recognises its own receive that landed although the store timed out, and runs that attempt', async () => {
      // Prepare
      const world = createWorld();
      world.handle(() => 'done');
      const commandId = await world.send();
      world.store.landThenFail('apply', { when: (transition) => transition.set.status === CommandStatus.IN_PROGRESS });
      const message = await world.receive();

      // Act
      const processing = world.processor.process(message);
      await elapse(1_000);
      const outcome = await processing;

      // Assess
      expect(outcome).toBe('ack');
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1 });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'COMPLETED#1']);
    });

    it('recognises its own outcome that landed although the store timed out, and acts on it once', async () => {
      // Prepare
      const world = createWorld();
      world.handle(() => {
        throw new PermanentCommandError('BROKEN', 'broken');
      });
      const commandId = await world.send();
      world.store.landThenFail('apply', { when: (transition) => transition.set.status === CommandStatus.IN_TSQ });
      const message = await world.receive();

      // Act
      const processing = world.processor.process(message);
      await elapse(1_000);
      const outcome = await processing;

      // Assess
      expect(outcome).toBe('ack');
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.IN_TSQ, attempts: 1 });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'MOVED_TO_TSQ#1']);
      expect(world.tsqQueue()).toHaveLength(1);
    });

    it('gives the message back, marked with its lease and delayed, when the store stays away past the deadline', async () => {
      // Prepare
      const world = createWorld();
      const handler = vi.fn(() => 'done');
      world.handle(handler);
      const commandId = await world.send();
      // The receive lands but its answer is lost; then the store is gone.
      world.store.landThenFail('apply');
      world.store.failNext('apply', down(), { times: Infinity });
      world.store.failNext('get', down(), { times: Infinity });
      const message = await world.receive();

      // Act
      const processing = world.processor.process(message, { storeDeadline: Date.now() + 3_000 });
      await elapse(5_000);
      const outcome = await processing;

      // Assess
      expect(outcome).toBe('ack');
      expect(handler).not.toHaveBeenCalled();
      world.store.clearFaults();
      const state = await world.state(commandId);
      expect(state).toMatchObject({ status: CommandStatus.IN_PROGRESS, attempts: 1 });
      expect(world.transport.callsOf('sendCommand').at(-1)).toEqual([
        DOMAIN,
        message.body,
        { attributes: { [RETAKE_ATTRIBUTE]: state.lease, [RETAKES_ATTRIBUTE]: '1' }, delaySeconds: 1 },
      ]);
      expect(world.commandsQueue()).toHaveLength(2); // the original (the caller deletes it on 'ack') and the one given back
    });

    it('takes the attempt over on the next delivery without counting it, once the store is back', async () => {
      // Prepare
      const world = createWorld();
      world.handle((_, { attempt }) => ({ attempt }));
      const commandId = await world.send();
      world.store.landThenFail('apply');
      world.store.failNext('apply', down(), { times: Infinity });
      world.store.failNext('get', down(), { times: Infinity });
      const original = await world.receive();
      const givingBack = world.processor.process(original, { storeDeadline: Date.now() + 3_000 });
      await elapse(5_000);
      await givingBack;
      const acked = world.transport.ack(DOMAIN, original.receiptHandle);
      await world.transport.flush();
      await acked;
      world.store.clearFaults();

      // Act
      const { outcome, message } = await world.deliver();

      // Assess
      expect(message.attributes[RETAKE_ATTRIBUTE]).toBeDefined();
      expect(outcome).toBe('ack');
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1, result: { attempt: 1 } });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'RECEIVED#1', 'COMPLETED#1']);
      const retake = (await world.store.auditTrail(commandId, DOMAIN))[2];
      expect(retake?.details).toMatchObject({ retake: true });
    });

    it(`rethrows the store's error once a message was given back ${MAX_RETAKES} times, leaving it to SQS`, async () => {
      // Prepare
      const world = createWorld();
      world.handle(() => 'done');
      await world.send();
      const [sent] = world.commandsQueue();
      await world.receive(); // consumes the producer's copy
      await world.transport.sendCommand(DOMAIN, sent!.body, { attributes: { [RETAKE_ATTRIBUTE]: 'lease-x', [RETAKES_ATTRIBUTE]: String(MAX_RETAKES) } });
      world.store.failNext('apply', down(), { times: Infinity });
      world.store.failNext('get', down(), { times: Infinity });
      const message = await world.receive();

      // Act
      const processing = world.processor.process(message, { storeDeadline: Date.now() + 1_000 });
      const settled = processing.catch((error: unknown) => error);
      await elapse(3_000);
      const error = await settled;

      // Assess
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(world.transport.callsOf('sendCommand')).toHaveLength(2); // the send and the test's re-send: none by the processor
    });
  });

  describe('Method: process (messages that are not commands)', () => {
    it('records a message that is not a command as MALFORMED_MESSAGE in the TSQ, with its raw body, and parks a copy naming its record', async () => {
      // Prepare
      const world = createWorld();
      await world.transport.sendCommand(DOMAIN, 'this is not a command');

      // Act
      const { outcome, message } = await world.deliver();

      // Assess
      expect(outcome).toBe('ack');
      const recordId = recordIdOf(message.messageId);
      expect(await world.state(recordId)).toMatchObject({
        status: CommandStatus.IN_TSQ,
        commandType: MALFORMED_COMMAND_TYPE,
        data: { rawBody: 'this is not a command' },
        lastError: { type: 'PERMANENT', code: 'MALFORMED_MESSAGE' },
      });
      expect((await world.store.listTsq({ domain: DOMAIN })).items.map((item) => item.commandId)).toEqual([recordId]);
      expect(world.tsqQueue()).toMatchObject([
        {
          body: 'this is not a command',
          attributes: { 'cb-parked': 'malformed', 'cb-error-code': 'MALFORMED_MESSAGE', 'cb-record': recordId, 'cb-token': recordId },
        },
      ]);
    });

    it('treats a command envelope of another domain as malformed: the queue decides the domain', async () => {
      // Prepare
      const world = createWorld();
      const envelope: Envelope = {
        v: 1,
        domain: 'elsewhere',
        commandType: COMMAND_TYPE,
        commandId: randomUUID(),
        data: {},
        maxAttempts: 3,
        correlationId: 'c-1',
        token: 't-1',
        sentAt: START.toISOString(),
      };
      await world.transport.sendCommand(DOMAIN, encodeEnvelope(envelope));

      // Act
      const { message } = await world.deliver();

      // Assess
      expect(await world.store.get('elsewhere', envelope.commandId)).toBeUndefined();
      expect(await world.state(recordIdOf(message.messageId))).toMatchObject({
        lastError: { code: 'MALFORMED_MESSAGE', message: expect.stringContaining("claims domain 'elsewhere'") },
      });
    });

    it('drops a redriven copy of a malformed message whose record is still parked, parking nothing new', async () => {
      // Prepare
      const world = createWorld();
      await world.transport.sendCommand(DOMAIN, 'junk');
      await world.deliver();
      const [parked] = await world.transport.receiveParked(DOMAIN, { maxMessages: 1, visibilityTimeoutSeconds: 30 });
      await world.transport.sendCommand(DOMAIN, parked!.body, { attributes: parked!.attributes });
      await world.transport.deleteParked(DOMAIN, parked!.receiptHandle);

      // Act
      const { outcome, message } = await world.deliver();

      // Assess
      expect(message.attributes[PARKED_ATTRIBUTE]).toBe('malformed');
      expect(outcome).toBe('ack');
      expect(world.tsqQueue()).toEqual([]);
      expect((await world.store.listTsq({ domain: DOMAIN })).items).toHaveLength(1);
    });
  });
});
