/**
 * The visibility heartbeat: while a handler runs, the processor keeps its message hidden by changing
 * its visibility every interval, so a handler allowed to run longer than the visibility timeout is not
 * handed out again meanwhile.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HeartbeatOptions } from '../../../src/application/CommandProcessor.ts';
import { TransientCommandError } from '../../../src/errors.ts';
import { CommandStatus } from '../../../src/types.ts';
import { createWorld, DOMAIN, elapse, gate, recordingLogger, START, until, type World } from './support.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: START });
});
afterEach(() => {
  vi.useRealTimers();
});

const VISIBILITY = 2;
const heartbeat = (intervalSeconds = 1, visibility = VISIBILITY): HeartbeatOptions => ({ intervalSeconds, visibilitySeconds: () => visibility });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Processes the next message in the background; `until` reports whether its message ever became visible meanwhile. */
async function processInBackground(world: World, visibility = VISIBILITY) {
  const message = await world.receive(visibility);
  let outcome: string | undefined;
  const processing = world.processor.process(message).then((result) => {
    outcome = result;
  });
  let sawVisible = false;
  const watch = () => {
    if (world.commandsQueue().some((queued) => queued.visible)) sawVisible = true;
    return outcome !== undefined;
  };
  return {
    message,
    processing,
    finished: async () => {
      await until(watch, 'the processing to finish');
      await processing;
      return { outcome: outcome!, sawVisible };
    },
  };
}

const heartbeatCalls = (world: World, seconds = VISIBILITY) => world.transport.callsOf('delay').filter((call) => call[2] === seconds);

describe('Class: CommandProcessor', () => {
  describe('Option: heartbeat', () => {
    it('keeps the message hidden while a handler runs three times the visibility timeout, and completes at attempt 1', async () => {
      // Prepare
      const world = createWorld({ heartbeat: heartbeat() });
      world.handle(async (_, { attempt }) => {
        await sleep(3 * VISIBILITY * 1000);
        return { attempt };
      });
      const commandId = await world.send();

      // Act
      const run = await processInBackground(world);
      const { outcome, sawVisible } = await run.finished();

      // Assess
      expect(outcome).toBe('ack');
      expect(sawVisible).toBe(false);
      expect(heartbeatCalls(world).length).toBeGreaterThanOrEqual(5);
      expect(heartbeatCalls(world).every((call) => call[0] === DOMAIN && call[1] === run.message.receiptHandle)).toBe(true);
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1, result: { attempt: 1 } });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'COMPLETED#1']);
    });

    it('without a heartbeat, lets the message come back after the visibility timeout: the redelivery is attempt 2', async () => {
      // Prepare
      const world = createWorld();
      world.handle(async (_, { attempt }) => {
        if (attempt === 1) await sleep(3 * VISIBILITY * 1000);
        return { attempt };
      });
      const commandId = await world.send();
      const first = await processInBackground(world);
      await elapse(VISIBILITY * 1000);

      // Act
      const second = await world.deliver(VISIBILITY);
      const late = await first.finished();

      // Assess
      expect(second.message.receiveCount).toBe(2);
      expect(second.outcome).toBe('ack');
      expect(late.outcome).toBe('abandon');
      expect(world.transport.callsOf('delay')).toEqual([]);
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 2, result: { attempt: 2 } });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'RECEIVED#2', 'COMPLETED#2']);
    });

    it('stops beating when the handler ends', async () => {
      // Prepare
      const world = createWorld({ heartbeat: heartbeat() });
      const release = gate();
      world.handle(async () => {
        await release.promise;
        return 'done';
      });
      await world.send();
      const run = await processInBackground(world);
      await elapse(3_500);

      // Act
      release.open();
      await run.finished();
      const beatsAtEnd = heartbeatCalls(world).length;
      await elapse(60_000);

      // Assess
      expect(beatsAtEnd).toBe(3);
      expect(heartbeatCalls(world)).toHaveLength(3);
    });

    it('stops beating at the time limit of a handler that ignores its signal; the backoff then decides the visibility', async () => {
      // Prepare
      const world = createWorld({ heartbeat: heartbeat(), handlerTimeoutMs: 5_000 });
      let returned = false;
      world.handle(async () => {
        await sleep(20_000);
        returned = true;
        return 'too late';
      });
      const commandId = await world.send();

      // Act
      const run = await processInBackground(world);
      const { outcome } = await run.finished();
      const beatsAtLimit = heartbeatCalls(world).length;
      await until(() => returned, 'the handler to return');

      // Assess
      expect(outcome).toBe('release');
      expect(beatsAtLimit).toBeGreaterThanOrEqual(4);
      expect(beatsAtLimit).toBeLessThanOrEqual(5);
      expect(heartbeatCalls(world)).toHaveLength(beatsAtLimit);
      expect(world.transport.callsOf('delay').at(-1)).toEqual([DOMAIN, run.message.receiptHandle, 4]);
      expect(world.commandsQueue()).toMatchObject([{ visibleAt: START.getTime() + 5_000 + 4_000 }]);
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.PENDING, attempts: 1, lastError: { type: 'TIMEOUT' } });
    });

    it('logs a failed beat and goes on: the next beat keeps the message hidden, and the attempt completes', async () => {
      // Prepare
      const logger = recordingLogger();
      const world = createWorld({ logger, heartbeat: heartbeat(1, 3) });
      world.handle(async () => {
        await sleep(6_000);
        return 'done';
      });
      const commandId = await world.send();
      world.transport.failNext('delay', new Error('simulated SQS outage'));

      // Act
      const run = await processInBackground(world, 3);
      const { outcome, sawVisible } = await run.finished();

      // Assess
      expect(outcome).toBe('ack');
      expect(sawVisible).toBe(false);
      const failures = logger.lines.filter((line) => line.message === 'visibility heartbeat failed; the attempt goes on');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ level: 'warn', context: { commandId, attempt: 1, error: 'Error: simulated SQS outage' } });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'COMPLETED#1']);
    });

    it("waits for a beat in flight before the retry's backoff, so the beat cannot shorten it", async () => {
      // Prepare
      const world = createWorld({ heartbeat: heartbeat(), retryPolicy: { baseDelaySeconds: 4, maxDelaySeconds: 300, jitter: false } });
      const delay = world.transport.delay.bind(world.transport);
      vi.spyOn(world.transport, 'delay').mockImplementation(async (domain, handle, seconds) => {
        if (seconds === VISIBILITY) await sleep(500); // a slow ChangeMessageVisibility
        return delay(domain, handle, seconds);
      });
      world.handle(async () => {
        await sleep(1_200);
        throw new TransientCommandError('FLAKY', 'try again');
      });
      await world.send();

      // Act
      const run = await processInBackground(world);
      const { outcome } = await run.finished();

      // Assess: the beat sent at 1 s lands at 1.5 s, then the backoff of 4 s
      expect(outcome).toBe('release');
      expect(world.commandsQueue()).toMatchObject([{ visibleAt: START.getTime() + 1_500 + 4_000 }]);
    });
  });
});
