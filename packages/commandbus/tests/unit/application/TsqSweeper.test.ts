import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeEnvelope, type Envelope } from '../../../src/domain/envelope.ts';
import { MALFORMED_COMMAND_TYPE, recordIdOf } from '../../../src/domain/lifecycle.ts';
import { PermanentCommandError } from '../../../src/errors.ts';
import { StoreUnavailableError } from '../../../src/ports/CommandStore.ts';
import { CommandStatus } from '../../../src/types.ts';
import { COMMAND_TYPE, createWorld, DOMAIN, START, useFakeClock, type World } from './support.ts';

beforeEach(() => useFakeClock());
afterEach(() => {
  vi.useRealTimers();
});

/** A command parked by a permanent failure, its copy in the TSQ queue. Returns its id. */
async function parkedCommand(world: World): Promise<string> {
  const commandId = await world.send({ data: { amount: 5 } });
  await world.deliver();
  return commandId;
}

function failingWorld(options: Parameters<typeof createWorld>[0] = {}): World {
  const world = createWorld(options);
  world.handle(() => {
    throw new PermanentCommandError('BROKEN', 'broken');
  });
  return world;
}

/** Receives the commands queue's next message `times` times without processing it (a worker that keeps dying). */
async function receiveWithoutProcessing(world: World, times: number): Promise<void> {
  for (let n = 0; n < times; n++) await world.transport.receive(DOMAIN, { maxMessages: 1, waitTimeSeconds: 0, visibilityTimeoutSeconds: 0 });
}

describe('Class: TsqSweeper', () => {
  describe('Method: sweep (copies the worker parked)', () => {
    it('keeps the copy of a command still parked, and makes it visible again for the console', async () => {
      // Prepare
      const world = failingWorld();
      await parkedCommand(world);

      // Act
      const result = await world.sweeper.sweep(DOMAIN);

      // Assess
      expect(result).toEqual({ examined: 1, removed: 0, adopted: 0, kept: 1 });
      expect(world.tsqQueue()).toMatchObject([{ visible: true, receiveCount: 1 }]);
    });

    it.each([
      ['cancelled', (world: World, commandId: string) => world.tsq.operatorCancel({ domain: DOMAIN, commandId, operator: 'ops', reason: 'dup' })],
      [
        'completed by an operator',
        (world: World, commandId: string) => world.tsq.operatorComplete({ domain: DOMAIN, commandId, operator: 'ops', resultData: 1 }),
      ],
      ['retried', (world: World, commandId: string) => world.tsq.operatorRetry({ domain: DOMAIN, commandId, operator: 'ops' })],
    ])('removes the copy of a command %s since', async (_, resolve) => {
      // Prepare
      const world = failingWorld();
      const commandId = await parkedCommand(world);
      await resolve(world, commandId);

      // Act
      const result = await world.sweeper.sweep(DOMAIN);

      // Assess
      expect(result).toEqual({ examined: 1, removed: 1, adopted: 0, kept: 0 });
      expect(world.tsqQueue()).toEqual([]);
    });

    it('removes a second copy of the same parked command and keeps one', async () => {
      // Prepare
      const world = failingWorld();
      await parkedCommand(world);
      const [copy] = world.tsqQueue();
      await world.transport.park(DOMAIN, copy!.body, copy!.attributes);

      // Act
      const result = await world.sweeper.sweep(DOMAIN);

      // Assess
      expect(result).toEqual({ examined: 2, removed: 1, adopted: 0, kept: 1 });
      expect(world.tsqQueue()).toHaveLength(1);
    });

    it('sweeps the copy of a malformed message once its record is resolved', async () => {
      // Prepare
      const world = createWorld();
      await world.transport.sendCommand(DOMAIN, 'not a command');
      const { message } = await world.deliver();
      const recordId = recordIdOf(message.messageId);
      const kept = await world.sweeper.sweep(DOMAIN);
      await world.tsq.operatorCancel({ domain: DOMAIN, commandId: recordId, operator: 'ops', reason: 'junk' });

      // Act
      const result = await world.sweeper.sweep(DOMAIN);

      // Assess
      expect(kept).toMatchObject({ kept: 1, removed: 0 });
      expect(result).toEqual({ examined: 1, removed: 1, adopted: 0, kept: 0 });
      expect(world.tsqQueue()).toEqual([]);
    });

    it('examines each message at most once per sweep and stops at maxMessages', async () => {
      // Prepare
      const world = failingWorld();
      for (let n = 0; n < 13; n++) await parkedCommand(world);

      // Act
      const result = await world.sweeper.sweep(DOMAIN, { maxMessages: 12 });

      // Assess
      expect(result).toEqual({ examined: 12, removed: 0, adopted: 0, kept: 12 });
      expect(world.tsqQueue().every((copy) => copy.visible && copy.receiveCount <= 1)).toBe(true);
    });

    it('makes the copies it kept visible again even when the store fails midway', async () => {
      // Prepare
      const world = failingWorld();
      await parkedCommand(world);
      await parkedCommand(world);
      world.store.landThenFail('get', { error: new StoreUnavailableError('timed out'), when: () => world.store.callsOf('get').length === 2 });

      // Act
      const error = await world.sweeper.sweep(DOMAIN).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(world.tsqQueue()).toHaveLength(2);
      expect(world.tsqQueue().filter((copy) => copy.visible)).toHaveLength(1); // the one whose verdict never came stays hidden until its timeout
    });
  });

  describe('Method: sweep (messages SQS dead-lettered itself)', () => {
    it('parks a command whose message SQS dead-lettered as DEAD_LETTERED, with its payload, and puts a copy of ours in its place', async () => {
      // Prepare
      const world = createWorld({ maxReceiveCount: 2 });
      const commandId = await world.send({ data: { amount: 3 } });
      await receiveWithoutProcessing(world, 3);
      const [deadLettered] = world.tsqQueue();

      // Act
      const result = await world.sweeper.sweep(DOMAIN);

      // Assess
      expect(deadLettered?.attributes).toEqual({});
      // The copy it parked is visible at once, so the same sweep meets it again and keeps it.
      expect(result).toEqual({ examined: 2, removed: 0, adopted: 1, kept: 1 });
      const state = await world.state(commandId);
      expect(state).toMatchObject({
        status: CommandStatus.IN_TSQ,
        data: { amount: 3 },
        lastError: { code: 'DEAD_LETTERED' },
        movedToTsqAt: START.toISOString(),
      });
      expect(world.tsqQueue()).toMatchObject([
        { body: deadLettered!.body, attributes: { 'cb-parked': '1', 'cb-error-code': 'DEAD_LETTERED', 'cb-record': commandId, 'cb-token': state.token } },
      ]);
      expect(world.commandsQueue()).toEqual([]);
    });

    it('records a dead-lettered command that was never recorded (its producer lost the write) as parked', async () => {
      // Prepare
      const world = createWorld({ maxReceiveCount: 1 });
      const envelope: Envelope = {
        v: 1,
        domain: DOMAIN,
        commandType: COMMAND_TYPE,
        commandId: randomUUID(),
        data: { amount: 1 },
        maxAttempts: 3,
        correlationId: 'corr-1',
        token: 'token-1',
        sentAt: START.toISOString(),
      };
      await world.transport.sendCommand(DOMAIN, encodeEnvelope(envelope));
      await receiveWithoutProcessing(world, 2);

      // Act
      const result = await world.sweeper.sweep(DOMAIN);

      // Assess
      expect(result.adopted).toBe(1);
      expect(await world.state(envelope.commandId)).toMatchObject({
        status: CommandStatus.IN_TSQ,
        attempts: 0,
        data: { amount: 1 },
        lastError: { code: 'DEAD_LETTERED' },
      });
      expect(await world.trail(envelope.commandId)).toEqual(['SENT#0', 'MOVED_TO_TSQ#0']);
      expect((await world.store.listTsq({ domain: DOMAIN })).items.map((item) => item.commandId)).toEqual([envelope.commandId]);
    });

    it('records a dead-lettered message that is not a command as MALFORMED_MESSAGE', async () => {
      // Prepare
      const world = createWorld({ maxReceiveCount: 1 });
      await world.transport.sendCommand(DOMAIN, '{"not":"an envelope"}');
      await receiveWithoutProcessing(world, 2);
      const [deadLettered] = world.tsqQueue();

      // Act
      const result = await world.sweeper.sweep(DOMAIN);

      // Assess
      const recordId = recordIdOf(deadLettered!.messageId);
      expect(result.adopted).toBe(1);
      expect(await world.state(recordId)).toMatchObject({
        status: CommandStatus.IN_TSQ,
        commandType: MALFORMED_COMMAND_TYPE,
        lastError: { code: 'MALFORMED_MESSAGE' },
      });
      expect(world.tsqQueue()).toMatchObject([{ attributes: { 'cb-parked': 'malformed', 'cb-record': recordId } }]);
    });

    it('removes a dead-lettered message whose command completed meanwhile', async () => {
      // Prepare
      const world = createWorld({ maxReceiveCount: 1 });
      world.handle(() => 'done');
      const commandId = await world.send();
      const first = await world.receive(0);
      await world.processor.process(first); // completed, but its delete never happened
      await receiveWithoutProcessing(world, 1);

      // Act
      const result = await world.sweeper.sweep(DOMAIN);

      // Assess
      expect(result).toEqual({ examined: 1, removed: 1, adopted: 0, kept: 0 });
      expect((await world.state(commandId)).status).toBe(CommandStatus.COMPLETED);
      expect(world.tsqQueue()).toEqual([]);
    });
  });
});
