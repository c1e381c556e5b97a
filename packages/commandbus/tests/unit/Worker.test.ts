import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PermanentCommandError, ValidationError } from '../../src/errors.ts';
import { HandlerRegistry } from '../../src/HandlerRegistry.ts';
import { CommandStatus } from '../../src/types.ts';
import { resolveWorkerOptions, Worker, type WorkerOptions } from '../../src/Worker.ts';
import { METRICS_NAMESPACE } from '../../src/adapters/powertools/EmfMetricsObserver.ts';
import { METRIC_NAMES, NOOP_OBSERVER } from '../../src/ports/CommandObserver.ts';
import { COMMAND_TYPE, createWorld, DOMAIN, elapse, gate, recordingLogger, START, until, useFakeClock, type World } from './application/support.ts';

const registry = new HandlerRegistry();

function options(overrides: Partial<WorkerOptions> = {}): WorkerOptions {
  return { domain: 'payments', registry, ...overrides };
}

function validationErrorOf(act: () => unknown): ValidationError {
  try {
    act();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw new Error(`expected a ValidationError, got ${String(error)}`);
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('Function: resolveWorkerOptions', () => {
  it('applies the defaults: concurrency 10, visibility 30 s, handler timeout 24 s, long poll 20 s', () => {
    // Prepare
    const input = options();

    // Act
    const resolved = resolveWorkerOptions(input);

    // Assess
    expect(resolved).toEqual({ concurrency: 10, visibilityTimeout: 30, handlerTimeoutMs: 24_000, waitTimeSeconds: 20, sweepIntervalSeconds: 300 });
  });

  it.each([
    [1, 800],
    [45, 36_000],
    [43_200, 34_560_000],
  ])('defaults handlerTimeoutMs to 80%% of a %i s visibility timeout (%i ms)', (visibilityTimeout, handlerTimeoutMs) => {
    // Prepare
    const input = options({ visibilityTimeout });

    // Act
    const resolved = resolveWorkerOptions(input);

    // Assess
    expect(resolved.handlerTimeoutMs).toBe(handlerTimeoutMs);
  });

  it('keeps explicit values, including an explicit handlerTimeoutMs', () => {
    // Prepare
    const input = options({ concurrency: 4, visibilityTimeout: 60, handlerTimeoutMs: 5_000, waitTimeSeconds: 5 });

    // Act
    const resolved = resolveWorkerOptions(input);

    // Assess
    expect(resolved).toMatchObject({ concurrency: 4, visibilityTimeout: 60, handlerTimeoutMs: 5_000, waitTimeSeconds: 5 });
  });

  it('accepts every boundary value', () => {
    // Prepare
    const lowest = options({ concurrency: 1, visibilityTimeout: 1, handlerTimeoutMs: 1, waitTimeSeconds: 1 });
    const highest = options({ concurrency: 1000, visibilityTimeout: 43_200, handlerTimeoutMs: 43_200_000, waitTimeSeconds: 20 });

    // Act
    const low = resolveWorkerOptions(lowest);
    const high = resolveWorkerOptions(highest);

    // Assess
    expect(low).toMatchObject({ concurrency: 1, visibilityTimeout: 1, handlerTimeoutMs: 1, waitTimeSeconds: 1 });
    expect(high).toMatchObject({ concurrency: 1000, visibilityTimeout: 43_200, handlerTimeoutMs: 43_200_000, waitTimeSeconds: 20 });
  });

  it.each([
    ['concurrency', 0, 'concurrency: must be an integer from 1 to 1000 (got 0)'],
    ['concurrency', 1001, 'concurrency: must be an integer from 1 to 1000 (got 1001)'],
    ['concurrency', 2.5, 'concurrency: must be an integer from 1 to 1000 (got 2.5)'],
    ['visibilityTimeout', 0, 'visibilityTimeout: must be an integer from 1 to 43200 (got 0)'],
    ['visibilityTimeout', 43_201, 'visibilityTimeout: must be an integer from 1 to 43200 (got 43201)'],
    ['visibilityTimeout', 1.5, 'visibilityTimeout: must be an integer from 1 to 43200 (got 1.5)'],
    ['handlerTimeoutMs', 0, 'handlerTimeoutMs: must be an integer from 1 to 43200000 (got 0)'],
    ['handlerTimeoutMs', 43_200_001, 'handlerTimeoutMs: must be an integer from 1 to 43200000 (got 43200001)'],
    ['waitTimeSeconds', 0, 'waitTimeSeconds: must be an integer from 1 to 20 (got 0)'],
    ['waitTimeSeconds', 21, 'waitTimeSeconds: must be an integer from 1 to 20 (got 21)'],
    ['waitTimeSeconds', Number.NaN, 'waitTimeSeconds: must be an integer from 1 to 20 (got NaN)'],
  ] as const)('rejects %s = %s with a message naming the option and its range', (name, value, message) => {
    // Prepare
    const input = options({ [name]: value });

    // Act
    const error = validationErrorOf(() => resolveWorkerOptions(input));

    // Assess
    expect(error.field).toBe(name);
    expect(error.message).toBe(message);
  });

  it('has no heartbeat unless asked, and keeps one below the visibility timeout with a handler limit above it', () => {
    // Prepare
    const plain = options();
    const beating = options({ visibilityTimeout: 30, heartbeatIntervalSeconds: 29, handlerTimeoutMs: 600_000 });

    // Act
    const off = resolveWorkerOptions(plain);
    const on = resolveWorkerOptions(beating);

    // Assess
    expect(off).not.toHaveProperty('heartbeatIntervalSeconds');
    expect(on).toMatchObject({ visibilityTimeout: 30, heartbeatIntervalSeconds: 29, handlerTimeoutMs: 600_000 });
  });

  it.each([
    [30, 30, 'heartbeatIntervalSeconds: must be an integer from 1, below visibilityTimeout (30 s) (got 30)'],
    [30, 45, 'heartbeatIntervalSeconds: must be an integer from 1, below visibilityTimeout (30 s) (got 45)'],
    [30, 0, 'heartbeatIntervalSeconds: must be an integer from 1, below visibilityTimeout (30 s) (got 0)'],
    [30, 2.5, 'heartbeatIntervalSeconds: must be an integer from 1, below visibilityTimeout (30 s) (got 2.5)'],
    [1, 1, 'heartbeatIntervalSeconds: must be an integer from 1, below visibilityTimeout (1 s) (got 1)'],
  ] as const)(
    'rejects heartbeatIntervalSeconds = %s with a visibility timeout of %s s, naming the option and the rule',
    (visibilityTimeout, heartbeatIntervalSeconds, message) => {
      // Prepare
      const input = options({ visibilityTimeout, heartbeatIntervalSeconds });

      // Act
      const error = validationErrorOf(() => resolveWorkerOptions(input));

      // Assess
      expect(error.field).toBe('heartbeatIntervalSeconds');
      expect(error.message).toBe(message);
    },
  );

  it('rejects an invalid domain, naming it', () => {
    // Prepare
    const input = options({ domain: 'pay ments' });

    // Act
    const error = validationErrorOf(() => resolveWorkerOptions(input));

    // Assess
    expect(error.field).toBe('domain');
  });

  it('requires a registry', () => {
    // Prepare
    const input = { domain: 'payments' } as unknown as WorkerOptions;

    // Act
    const error = validationErrorOf(() => resolveWorkerOptions(input));

    // Assess
    expect(error.field).toBe('registry');
    expect(error.message).toBe('registry: is required (a HandlerRegistry)');
  });
});

describe('Class: Worker', () => {
  beforeEach(() => useFakeClock());
  afterEach(() => {
    vi.useRealTimers();
  });

  function startWorker(world: World, overrides: Partial<WorkerOptions> = {}) {
    const worker = new Worker({ ...world.config, domain: DOMAIN, registry: world.registry, waitTimeSeconds: 1, sweepIntervalSeconds: 0, ...overrides });
    const running = worker.run();
    return { worker, running };
  }

  const statuses = async (world: World, ids: string[]) => Promise.all(ids.map(async (commandId) => (await world.state(commandId)).status));
  const allCompleted = (world: World, ids: string[]) => async () => (await statuses(world, ids)).every((status) => status === CommandStatus.COMPLETED);

  describe('Method: run', () => {
    it('never runs more handlers at once than its concurrency, and completes every command', async () => {
      // Prepare
      const world = createWorld();
      const release = gate();
      let running = 0;
      let most = 0;
      world.handle(async () => {
        running++;
        most = Math.max(most, running);
        await release.promise;
        running--;
        return 'done';
      });
      const ids: string[] = [];
      for (let n = 0; n < 8; n++) ids.push(await world.send());

      // Act
      const { worker, running: loop } = startWorker(world, { concurrency: 3 });
      await until(() => running === 3, 'three handlers to run');
      await elapse(5_000);
      const whileHeld = { running, most };
      release.open();
      await until(allCompleted(world, ids), 'every command to complete');
      await worker.stop();
      await loop;

      // Assess
      expect(whileHeld).toEqual({ running: 3, most: 3 });
      expect(most).toBe(3);
      expect(world.commandsQueue()).toEqual([]);
    });

    it('deletes finished messages in batches of up to ten', async () => {
      // Prepare
      const world = createWorld();
      world.handle(() => 'done');
      const ids: string[] = [];
      for (let n = 0; n < 12; n++) ids.push(await world.send());

      // Act
      const { worker, running } = startWorker(world, { concurrency: 20 });
      await until(async () => (await allCompleted(world, ids)()) && world.commandsQueue().length === 0, 'every message to be deleted');
      await worker.stop();
      await running;

      // Assess
      expect(world.transport.deleteRequests.map((request) => request.receiptHandles.length)).toEqual([10, 2]);
    });

    it('keeps polling after a receive fails, backing off, and still completes the command', async () => {
      // Prepare
      const logger = recordingLogger();
      const world = createWorld({ logger });
      world.handle(() => 'done');
      const commandId = await world.send();
      world.transport.failNext('receive', new Error('simulated SQS outage'), { times: 2 });

      // Act
      const { worker, running } = startWorker(world);
      await until(allCompleted(world, [commandId]), 'the command to complete');
      await worker.stop();
      await running;

      // Assess
      const failures = logger.lines.filter((line) => line.message === 'receive failed').map((line) => line.context?.failures);
      expect(failures).toEqual([1, 2]);
    });

    it('redelivers a message whose handler outlives the visibility timeout: the redelivery is attempt 2, the late attempt 1 changes nothing', async () => {
      // Prepare
      const world = createWorld();
      let lateReturned = false;
      world.handle(async (_, { attempt }) => {
        if (attempt === 1) {
          await new Promise((resolve) => setTimeout(resolve, 5_000)); // ignores its signal
          lateReturned = true;
          return 'late';
        }
        return `attempt ${attempt}`;
      });
      const commandId = await world.send();

      // Act
      const { worker, running } = startWorker(world, { concurrency: 2, visibilityTimeout: 2, handlerTimeoutMs: 10_000 });
      await until(() => lateReturned, 'attempt 1 to return');
      await worker.stop();
      await running;

      // Assess
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 2, result: 'attempt 2' });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'RECEIVED#2', 'COMPLETED#2']);
      expect(world.commandsQueue()).toEqual([]);
    });

    it('with heartbeatIntervalSeconds, keeps the message of a handler running 3× the visibility timeout hidden: one attempt, one receive', async () => {
      // Prepare
      const world = createWorld();
      const handler = vi.fn(async (_: unknown, { attempt }: { attempt: number }) => {
        await new Promise((resolve) => setTimeout(resolve, 6_000));
        return `attempt ${attempt}`;
      });
      world.handle(handler);
      const commandId = await world.send();

      // Act
      const { worker, running } = startWorker(world, { concurrency: 2, visibilityTimeout: 2, handlerTimeoutMs: 10_000, heartbeatIntervalSeconds: 1 });
      await until(allCompleted(world, [commandId]), 'the command to complete');
      await worker.stop();
      await running;

      // Assess
      expect(handler).toHaveBeenCalledTimes(1);
      expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, attempts: 1, result: 'attempt 1' });
      expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'COMPLETED#1']);
      expect(world.transport.callsOf('delay').length).toBeGreaterThanOrEqual(5);
      expect(world.transport.callsOf('delay').every((call) => call[2] === 2)).toBe(true);
      expect(world.commandsQueue()).toEqual([]);
    });

    it('leaves a message it could not process for redelivery, which then completes', async () => {
      // Prepare
      const logger = recordingLogger();
      const world = createWorld({ logger });
      world.handle(() => 'done');
      const commandId = await world.send();
      world.store.failNext('apply', new Error('simulated bug'));

      // Act
      const { worker, running } = startWorker(world, { visibilityTimeout: 5 });
      await until(allCompleted(world, [commandId]), 'the command to complete');
      await worker.stop();
      await running;

      // Assess
      expect(logger.lines.filter((line) => line.message === 'processing failed; the message will be redelivered')).toHaveLength(1);
      expect(await world.state(commandId)).toMatchObject({ attempts: 1 });
      expect(Date.now() - START.getTime()).toBeGreaterThanOrEqual(5_000);
    });
  });

  describe('Method: stop', () => {
    it('waits for in-flight handlers, then sends their deletes before resolving', async () => {
      // Prepare
      const world = createWorld();
      const release = gate();
      let started = false;
      world.handle(async () => {
        started = true;
        await release.promise;
        return 'done';
      });
      const commandId = await world.send();
      const { worker, running } = startWorker(world);
      await until(() => started, 'the handler to start');

      // Act
      let stopped = false;
      const stopping = worker.stop().then(() => {
        stopped = true;
      });
      await elapse(10_000);
      const stoppedWhileBusy = stopped;
      release.open();
      await stopping;
      await running;

      // Assess
      expect(stoppedWhileBusy).toBe(false);
      expect((await world.state(commandId)).status).toBe(CommandStatus.COMPLETED);
      expect(world.commandsQueue()).toEqual([]);
      expect(world.transport.deleteRequests).toHaveLength(1);
      expect(worker.activeCount).toBe(0);
    });

    it('ends a long poll in progress at once when idle', async () => {
      // Prepare
      const world = createWorld();
      const { worker, running } = startWorker(world, { waitTimeSeconds: 20 });
      await until(() => world.transport.callsOf('receive').length === 1, 'the first long poll');

      // Act
      let stopped = false;
      const stopping = worker.stop().then(() => {
        stopped = true;
      });
      await elapse(0);

      // Assess
      expect(stopped).toBe(true);
      await stopping;
      await running;
      expect(world.transport.callsOf('receive')).toHaveLength(1);
    });
  });

  describe('Option: sweepIntervalSeconds', () => {
    it('sweeps the TSQ queue on that interval while running, and no more once stopped', async () => {
      // Prepare
      const world = createWorld();
      world.handle(() => {
        throw new PermanentCommandError('BROKEN', 'broken');
      });
      const commandId = await world.send();
      await world.deliver();
      await world.tsq.operatorCancel({ domain: DOMAIN, commandId, operator: 'ops', reason: 'not needed' });
      const sweeps = () => world.transport.callsOf('receiveParked').length;

      // Act
      const { worker, running } = startWorker(world, { sweepIntervalSeconds: 60 });
      await elapse(59_000);
      const before = { sweeps: sweeps(), copies: world.tsqQueue().length };
      await elapse(1_000);
      const after = { sweeps: sweeps(), copies: world.tsqQueue().length };
      await elapse(60_000);
      const second = sweeps();
      await worker.stop();
      await running;
      await elapse(600_000);

      // Assess
      expect(before).toEqual({ sweeps: 0, copies: 1 });
      expect(after.copies).toBe(0);
      expect(after.sweeps).toBeGreaterThan(0);
      expect(second).toBeGreaterThan(after.sweeps);
      expect(sweeps()).toBe(second);
    });

    it('does not sweep when set to 0', async () => {
      // Prepare
      const world = createWorld();

      // Act
      const { worker, running } = startWorker(world, { sweepIntervalSeconds: 0 });
      await elapse(3_600_000);
      await worker.stop();
      await running;

      // Assess
      expect(world.transport.callsOf('receiveParked')).toEqual([]);
    });
  });
});

describe('Class: Worker (metrics)', () => {
  beforeEach(() => useFakeClock());
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it("with COMMANDBUS_METRICS=emf, prints the worker Lambda's metrics as EMF lines: every 10 s, and what is left when it stops", async () => {
    // Prepare
    vi.stubEnv('COMMANDBUS_METRICS', 'emf');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const printed: Record<string, unknown>[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      for (const line of String(chunk).split('\n')) if (line.startsWith('{')) printed.push(JSON.parse(line) as Record<string, unknown>);
      return true;
    });
    const world = createWorld();
    world.handle(() => 'done');
    const first = await world.send();
    const worker = new Worker({ ...world.config, domain: DOMAIN, registry: world.registry, waitTimeSeconds: 1, sweepIntervalSeconds: 0 });
    const running = worker.run();
    await until(async () => (await world.state(first)).status === CommandStatus.COMPLETED, 'the first command to complete');

    // Act
    await elapse(10_000);
    const afterTenSeconds = printed.length;
    const second = await world.send();
    await until(async () => (await world.state(second)).status === CommandStatus.COMPLETED, 'the second command to complete');
    await worker.stop();
    await running;

    // Assess
    expect(afterTenSeconds).toBe(1);
    expect(printed).toHaveLength(2);
    for (const line of printed) {
      expect(line).toMatchObject({
        _aws: { CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [['domain', 'commandType']] }] },
        domain: DOMAIN,
        commandType: COMMAND_TYPE,
        [METRIC_NAMES.completed]: 1,
        [METRIC_NAMES.duration]: expect.any(Number),
        [METRIC_NAMES.latency]: expect.any(Number),
      });
    }
  });

  it('takes an observer of its own', async () => {
    // Prepare
    const completed: string[] = [];
    const world = createWorld();
    world.handle(() => 'done');
    const commandId = await world.send();
    const observer = { ...NOOP_OBSERVER, commandCompleted: (event: { commandId: string }) => void completed.push(event.commandId) };

    // Act
    const worker = new Worker({ ...world.config, domain: DOMAIN, registry: world.registry, waitTimeSeconds: 1, sweepIntervalSeconds: 0, observer });
    const running = worker.run();
    await until(() => completed.length === 1, 'the command to be observed');
    await worker.stop();
    await running;

    // Assess
    expect(completed).toEqual([commandId]);
  });
});
