/**
 * The CommandTransport contract (CommandQueue + TsqQueue): what every transport must do, tested
 * through the port alone. It runs against the in-memory twin (unit project:
 * transport.twin.test.ts) and against SqsTransport on fauxqs (e2e project: e2e/contract.test.ts).
 * Where the behaviour under test is time (visibility timeouts, delays, long polls) it waits for real,
 * with generous bounds; otherwise it polls for a condition, bounded.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MessageRefusedError, QueueNotFoundError, type CommandTransport, type TransportMessage } from '../../src/ports/CommandTransport.ts';
import { TSQ_MAX_RECEIVE_COUNT, type ResourceNames } from '../../src/resources.ts';

export interface TransportWorld {
  transport: CommandTransport;
  names: ResourceNames;
  /** A provisioned domain (commands and TSQ queues) that no other test uses. */
  domain: string;
  /** A queue that exists, for sendReply. */
  replyQueue: string;
  /** The bodies that arrived on replyQueue so far. */
  readReplies(): Promise<string[]>;
}

const BOUND_MS = 10_000;
/** Lower bound for "not before a one-second timer", allowing for a coarse server clock. */
const ONE_SECOND_AT_LEAST_MS = 900;

/** Receives (long-polling a second at a time) until `done` says so or the bound passes. */
async function receiveUntil(
  receive: () => Promise<TransportMessage[]>,
  done: (received: TransportMessage[]) => boolean,
  what: string,
): Promise<TransportMessage[]> {
  const deadline = Date.now() + BOUND_MS;
  const received: TransportMessage[] = [];
  while (Date.now() < deadline) {
    received.push(...(await receive()));
    if (done(received)) return received;
  }
  throw new Error(`timed out after ${BOUND_MS} ms waiting for ${what}; received ${received.length} message(s)`);
}

const body = (label = 'message') => JSON.stringify({ label, id: randomUUID() });

export function describeTransportContract(name: string, setup: () => TransportWorld | Promise<TransportWorld>): void {
  // Every test has queues of its own, and most wait on real time: they run side by side.
  describe.concurrent(`Contract: CommandTransport (${name})`, () => {
    const poll =
      (world: TransportWorld, visibilityTimeoutSeconds = 30, maxMessages = 10) =>
      () =>
        world.transport.receive(world.domain, { maxMessages, waitTimeSeconds: 1, visibilityTimeoutSeconds });
    const pollParked =
      (world: TransportWorld, visibilityTimeoutSeconds = 30, maxMessages = 10) =>
      () =>
        world.transport.receiveParked(world.domain, { maxMessages, visibilityTimeoutSeconds });
    const receiveOne = async (world: TransportWorld, visibilityTimeoutSeconds = 30) => {
      const [message] = await receiveUntil(poll(world, visibilityTimeoutSeconds, 1), (got) => got.length > 0, 'a message');
      return message!;
    };

    describe('Methods: sendCommand and receive', () => {
      it('delivers a sent message once: its body, a message id, a receipt handle, receive count 1 and no attributes', async () => {
        // Prepare
        const world = await setup();
        const sent = body();

        // Act
        await world.transport.sendCommand(world.domain, sent);
        const received = await receiveOne(world);
        const again = await world.transport.receive(world.domain, { maxMessages: 10, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30 });

        // Assess
        expect(received).toEqual({ messageId: expect.any(String), body: sent, receiptHandle: expect.any(String), receiveCount: 1, attributes: {} });
        expect(received.messageId).not.toBe('');
        expect(received.receiptHandle).not.toBe('');
        expect(again).toEqual([]);
      });

      it('carries message attributes through as strings', async () => {
        // Prepare
        const world = await setup();
        const attributes = { 'cb-retake': randomUUID(), 'cb-retakes': '3', 'cb-note': 'grüße, ✓' };

        // Act
        await world.transport.sendCommand(world.domain, body(), { attributes });
        const received = await receiveOne(world);

        // Assess
        expect(received.attributes).toEqual(attributes);
      });

      it('returns at most maxMessages per receive, and every message exactly once across receives', async () => {
        // Prepare
        const world = await setup();
        const bodies = Array.from({ length: 5 }, (_, n) => body(`m${n}`));
        for (const sent of bodies) await world.transport.sendCommand(world.domain, sent);
        const batches: number[] = [];

        // Act
        const received = await receiveUntil(
          async () => {
            const batch = await poll(world, 30, 2)();
            batches.push(batch.length);
            return batch;
          },
          (got) => got.length >= 5,
          'five messages',
        );

        // Assess
        expect(batches.every((size) => size <= 2)).toBe(true);
        expect(received.map((message) => message.body).sort()).toEqual([...bodies].sort());
        expect(new Set(received.map((message) => message.messageId)).size).toBe(5);
      });

      it('answers a long poll as soon as a message arrives', async () => {
        // Prepare
        const world = await setup();
        const sent = body();
        const started = Date.now();

        // Act
        const receiving = world.transport.receive(world.domain, { maxMessages: 1, waitTimeSeconds: 10, visibilityTimeoutSeconds: 30 });
        await world.transport.sendCommand(world.domain, sent);
        const received = await receiving;

        // Assess
        expect(received.map((message) => message.body)).toEqual([sent]);
        expect(Date.now() - started).toBeLessThan(5_000);
      });

      it('ends a long poll on an empty queue with no messages once the wait is over', async () => {
        // Prepare
        const world = await setup();
        const started = Date.now();

        // Act
        const received = await world.transport.receive(world.domain, { maxMessages: 1, waitTimeSeconds: 1, visibilityTimeoutSeconds: 30 });

        // Assess
        expect(received).toEqual([]);
        expect(Date.now() - started).toBeGreaterThanOrEqual(ONE_SECOND_AT_LEAST_MS);
      });

      it('ends a long poll early with an AbortError when its signal is aborted', async () => {
        // Prepare
        const world = await setup();
        const controller = new AbortController();
        const started = Date.now();

        // Act
        const receiving = world.transport.receive(world.domain, {
          maxMessages: 1,
          waitTimeSeconds: 10,
          visibilityTimeoutSeconds: 30,
          signal: controller.signal,
        });
        setImmediate(() => controller.abort());
        const error = await receiving.catch((caught: unknown) => caught);

        // Assess
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).name).toBe('AbortError');
        expect(Date.now() - started).toBeLessThan(5_000);
      });

      it('keeps a received message hidden for its visibility timeout, then delivers it again with receive count 2 and a new handle', async () => {
        // Prepare
        const world = await setup();
        await world.transport.sendCommand(world.domain, body());
        const first = await receiveOne(world, 1);
        const hiddenAt = Date.now();

        // Act
        const [again] = await receiveUntil(poll(world, 30), (got) => got.length > 0, 'the message to come back');

        // Assess
        expect(Date.now() - hiddenAt).toBeGreaterThanOrEqual(ONE_SECOND_AT_LEAST_MS);
        expect(again).toMatchObject({ messageId: first.messageId, body: first.body, receiveCount: 2 });
        expect(again!.receiptHandle).not.toBe(first.receiptHandle);
      });

      it('holds back a message sent with delaySeconds until the delay has passed', async () => {
        // Prepare
        const world = await setup();
        const sent = body();
        const sentAt = Date.now();

        // Act
        await world.transport.sendCommand(world.domain, sent, { delaySeconds: 1 });
        const [received] = await receiveUntil(poll(world), (got) => got.length > 0, 'the delayed message');

        // Assess
        expect(Date.now() - sentAt).toBeGreaterThanOrEqual(ONE_SECOND_AT_LEAST_MS);
        expect(received).toMatchObject({ body: sent, receiveCount: 1 });
      });

      it('refuses a send to a domain that is not provisioned with QueueNotFoundError naming its commands queue', async () => {
        // Prepare
        const world = await setup();
        const unknown = `nosuch${randomUUID().slice(0, 8)}`;

        // Act
        const error = await world.transport.sendCommand(unknown, body()).catch((caught: unknown) => caught);

        // Assess
        expect(error).toBeInstanceOf(QueueNotFoundError);
        expect((error as QueueNotFoundError).queueName).toBe(world.names.commandsQueue(unknown));
      });

      it('fails a receive from a domain that is not provisioned', async () => {
        // Prepare
        const world = await setup();
        const unknown = `nosuch${randomUUID().slice(0, 8)}`;

        // Act
        const receiving = world.transport.receive(unknown, { maxMessages: 1, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30 });

        // Assess
        await expect(receiving).rejects.toThrow();
      });

      it.each([
        ['a character SQS does not accept (U+0000)', () => `{"nul":"\u0000"}`],
        ['more bytes than the commands queue takes (256 KiB)', () => JSON.stringify({ blob: 'x'.repeat(256 * 1024) })],
      ])('refuses a message with %s with MessageRefusedError', async (_, make) => {
        // Prepare
        const world = await setup();

        // Act
        const error = await world.transport.sendCommand(world.domain, make()).catch((caught: unknown) => caught);

        // Assess
        expect(error).toBeInstanceOf(MessageRefusedError);
      });
    });

    describe('Methods: ack and flush', () => {
      it('deletes an acked message: it does not come back when the one received with it does', async () => {
        // Prepare
        const world = await setup();
        const [acked, control] = [body('acked'), body('control')];
        await world.transport.sendCommand(world.domain, acked);
        await world.transport.sendCommand(world.domain, control);
        const both = await receiveUntil(poll(world, 1), (got) => got.length >= 2, 'both messages');

        // Act
        await world.transport.ack(world.domain, both.find((message) => message.body === acked)!.receiptHandle);
        const back = await receiveUntil(poll(world, 30), (got) => got.some((message) => message.body === control), 'the control message to come back');

        // Assess
        expect(back.map((message) => message.body)).toEqual([control]);
      });

      it('deletes more than ten acked messages once flushed (more than one delete request)', async () => {
        // Prepare
        const world = await setup();
        const bodies = Array.from({ length: 12 }, (_, n) => body(`acked-${n}`));
        for (const sent of bodies) await world.transport.sendCommand(world.domain, sent);
        const received = await receiveUntil(poll(world, 2), (got) => got.length >= 12, 'twelve messages');
        const control = body('control');
        await world.transport.sendCommand(world.domain, control);
        await receiveUntil(poll(world, 2), (got) => got.length > 0, 'the control message');
        const settled: string[] = [];

        // Act
        for (const message of received) void world.transport.ack(world.domain, message.receiptHandle).then(() => settled.push(message.body));
        await world.transport.flush();
        const back = await receiveUntil(poll(world, 30), (got) => got.some((message) => message.body === control), 'the control message to come back');

        // Assess
        expect(settled.sort()).toEqual([...bodies].sort());
        expect(back.map((message) => message.body)).toEqual([control]);
      });

      it('settles an ack on its own once its delete is done, without a flush', async () => {
        // Prepare
        const world = await setup();
        await world.transport.sendCommand(world.domain, body());
        const message = await receiveOne(world);

        // Act
        const acked = world.transport.ack(world.domain, message.receiptHandle);

        // Assess
        await expect(acked).resolves.toBeUndefined();
      });

      it('flushes with nothing pending at once', async () => {
        // Prepare
        const world = await setup();

        // Act
        const flushed = world.transport.flush();

        // Assess
        await expect(flushed).resolves.toBeUndefined();
      });
    });

    describe('Method: delay', () => {
      it('hides a received message for the given seconds, then it comes back with its receive count up', async () => {
        // Prepare
        const world = await setup();
        await world.transport.sendCommand(world.domain, body());
        const first = await receiveOne(world, 30);
        const delayedAt = Date.now();

        // Act
        await world.transport.delay(world.domain, first.receiptHandle, 1);
        const [again] = await receiveUntil(poll(world), (got) => got.length > 0, 'the delayed message');

        // Assess
        expect(Date.now() - delayedAt).toBeGreaterThanOrEqual(ONE_SECOND_AT_LEAST_MS);
        expect(again).toMatchObject({ messageId: first.messageId, receiveCount: 2 });
      });

      it('with 0 seconds makes a received message visible at once', async () => {
        // Prepare
        const world = await setup();
        await world.transport.sendCommand(world.domain, body());
        const first = await receiveOne(world, 30);

        // Act
        await world.transport.delay(world.domain, first.receiptHandle, 0);
        const again = await world.transport.receive(world.domain, { maxMessages: 1, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30 });

        // Assess
        expect(again.map((message) => message.messageId)).toEqual([first.messageId]);
      });

      it('refuses a message that is no longer in flight (deleted)', async () => {
        // Prepare
        const world = await setup();
        await world.transport.sendCommand(world.domain, body());
        const message = await receiveOne(world, 30);
        await world.transport.ack(world.domain, message.receiptHandle);

        // Act
        const delaying = world.transport.delay(world.domain, message.receiptHandle, 5);

        // Assess
        await expect(delaying).rejects.toThrow();
      });
    });

    describe('Methods: park, receiveParked, deleteParked and releaseParked', () => {
      it('parks a copy in the TSQ queue with its attributes; the commands queue does not see it', async () => {
        // Prepare
        const world = await setup();
        const parked = body('parked');
        const attributes = { 'cb-parked': '1', 'cb-error-code': 'BROKEN', 'cb-record': randomUUID(), 'cb-token': randomUUID() };

        // Act
        await world.transport.park(world.domain, parked, attributes);
        const [copy] = await receiveUntil(pollParked(world), (got) => got.length > 0, 'the parked copy');
        const commands = await world.transport.receive(world.domain, { maxMessages: 10, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30 });

        // Assess
        expect(copy).toMatchObject({ body: parked, attributes, receiveCount: 1 });
        expect(commands).toEqual([]);
      });

      it('returns at most maxMessages parked messages and hides them for the visibility timeout', async () => {
        // Prepare
        const world = await setup();
        for (let n = 0; n < 3; n++) await world.transport.park(world.domain, body(`p${n}`), { 'cb-parked': '1' });

        // Act
        const first = await pollParked(world, 30, 2)();
        const rest = await receiveUntil(pollParked(world, 30, 2), (got) => got.length >= 1, 'the third parked message');
        const none = await pollParked(world, 30, 10)();

        // Assess
        expect(first).toHaveLength(2);
        expect(rest).toHaveLength(1);
        expect(new Set([...first, ...rest].map((message) => message.messageId)).size).toBe(3);
        expect(none).toEqual([]);
      });

      it('makes a parked message visible again at once with releaseParked, its receive count up', async () => {
        // Prepare
        const world = await setup();
        await world.transport.park(world.domain, body(), { 'cb-parked': '1' });
        const [held] = await receiveUntil(pollParked(world, 60), (got) => got.length > 0, 'the parked copy');

        // Act
        await world.transport.releaseParked(world.domain, held!.receiptHandle);
        const again = await pollParked(world, 60)();

        // Assess
        expect(again).toMatchObject([{ messageId: held!.messageId, receiveCount: 2 }]);
      });

      it('removes a parked message for good with deleteParked', async () => {
        // Prepare
        const world = await setup();
        const [deleted, kept] = [body('deleted'), body('kept')];
        await world.transport.park(world.domain, deleted, { 'cb-parked': '1' });
        await world.transport.park(world.domain, kept, { 'cb-parked': '1' });
        const both = await receiveUntil(pollParked(world, 60), (got) => got.length >= 2, 'both parked copies');

        // Act
        await world.transport.deleteParked(world.domain, both.find((message) => message.body === deleted)!.receiptHandle);
        await world.transport.releaseParked(world.domain, both.find((message) => message.body === kept)!.receiptHandle);
        const left = await pollParked(world, 60)();

        // Assess
        expect(left.map((message) => message.body)).toEqual([kept]);
      });

      it('takes parked bodies larger than a command queue would (up to 1 MiB)', async () => {
        // Prepare
        const world = await setup();
        const large = JSON.stringify({ blob: 'x'.repeat(300 * 1024) });

        // Act
        await world.transport.park(world.domain, large, { 'cb-parked': '1' });
        const [copy] = await receiveUntil(pollParked(world), (got) => got.length > 0, 'the parked copy');

        // Assess
        expect(copy!.body).toBe(large);
      });

      it('answers receiveParked on an empty TSQ queue at once, with nothing', async () => {
        // Prepare
        const world = await setup();
        const started = Date.now();

        // Act
        const received = await pollParked(world)();

        // Assess
        expect(received).toEqual([]);
        expect(Date.now() - started).toBeLessThan(2_000);
      });
    });

    describe('Redrive policy', () => {
      it(`moves a message received more than ${TSQ_MAX_RECEIVE_COUNT} times to the TSQ queue, with its id, body and attributes`, async () => {
        // Prepare
        const world = await setup();
        const sent = body();
        const attributes = { 'cb-retakes': '2' };
        await world.transport.sendCommand(world.domain, sent, { attributes });
        const counts: number[] = [];
        const messageIds = new Set<string>();

        // Act
        for (let n = 0; n < TSQ_MAX_RECEIVE_COUNT; n++) {
          const [message] = await receiveUntil(poll(world, 0, 1), (got) => got.length > 0, `receive ${n + 1}`);
          counts.push(message!.receiveCount);
          messageIds.add(message!.messageId);
        }
        const afterLimit = await world.transport.receive(world.domain, { maxMessages: 1, waitTimeSeconds: 0, visibilityTimeoutSeconds: 0 });
        const [parked] = await receiveUntil(pollParked(world), (got) => got.length > 0, 'the dead-lettered message');

        // Assess
        expect(counts).toEqual(Array.from({ length: TSQ_MAX_RECEIVE_COUNT }, (_, n) => n + 1));
        expect(afterLimit).toEqual([]);
        expect(parked).toMatchObject({ body: sent, attributes });
        expect([...messageIds]).toEqual([parked!.messageId]);
      });
    });

    describe('Method: sendReply', () => {
      it('delivers a reply to the named queue', async () => {
        // Prepare
        const world = await setup();
        const reply = body('reply');

        // Act
        await world.transport.sendReply(world.replyQueue, reply);

        // Assess
        const deadline = Date.now() + BOUND_MS;
        let replies: string[] = [];
        while (!replies.includes(reply) && Date.now() < deadline) replies = [...replies, ...(await world.readReplies())];
        expect(replies).toContain(reply);
      });

      it('refuses a reply to a queue that does not exist with QueueNotFoundError naming it', async () => {
        // Prepare
        const world = await setup();
        const missing = `nosuch-${randomUUID().slice(0, 8)}`;

        // Act
        const error = await world.transport.sendReply(missing, body()).catch((caught: unknown) => caught);

        // Assess
        expect(error).toBeInstanceOf(QueueNotFoundError);
        expect((error as QueueNotFoundError).queueName).toBe(missing);
      });
    });
  });
}
