import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../../src/domain/jobs.ts';
import { InvalidOperationError, JobNotFoundError, PermanentCommandError, ValidationError } from '../../../src/errors.ts';
import type { CommandStore } from '../../../src/ports/CommandStore.ts';
import { InMemoryJobQueue, InMemoryJobStore } from '../../../src/testing/index.ts';
import { TroubleshootingQueue } from '../../../src/TroubleshootingQueue.ts';
import { CommandStatus } from '../../../src/types.ts';
import { createWorld, DOMAIN, elapse, useFakeClock, type World } from './support.ts';

beforeEach(() => useFakeClock());
afterEach(() => {
  vi.useRealTimers();
});

const handled = new WeakSet<World>();

/** Parks one command per code given (a permanent failure with that code, as its data says). */
async function park(world: World, codes: string[]): Promise<string[]> {
  if (!handled.has(world)) {
    handled.add(world);
    world.handle((command) => {
      throw new PermanentCommandError(String(command.data.code), 'refused');
    });
  }
  const ids: string[] = [];
  for (const code of codes) ids.push(await world.send({ data: { code } }));
  for (let i = 0; i < codes.length; i++) await world.deliver();
  return ids;
}

/** The store, with one method replaced (the others bound to the store, whose private fields they use). */
function replacing<K extends keyof CommandStore>(store: CommandStore, method: K, replacement: (original: CommandStore[K]) => CommandStore[K]): CommandStore {
  const original = (store[method] as (...args: unknown[]) => unknown).bind(store) as CommandStore[K];
  const wrapped = replacement(original);
  return new Proxy(store, {
    get(target, property) {
      if (property === method) return wrapped;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Virtual time for the runner: sleeping moves it on at once; `jump` moves it as a stall would. */
function runnerClock(): Clock & { jump(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: async (ms) => {
      offset += ms;
    },
    jump: (ms) => {
      offset += ms;
    },
  };
}

function jobsWorld(storeOverride?: (store: CommandStore) => CommandStore) {
  const world = createWorld();
  const jobs = new InMemoryJobStore();
  const jobQueue = new InMemoryJobQueue();
  const tsq = new TroubleshootingQueue({ ...world.config, store: storeOverride ? storeOverride(world.store) : world.store, jobs, jobQueue });
  return { world, jobs, jobQueue, tsq };
}

async function jobEvents(world: World, commandId: string, jobId: string) {
  return (await world.store.auditTrail(commandId, DOMAIN)).filter((event) => event.details?.jobId === jobId);
}

describe('Operator jobs (TroubleshootingQueue.createJob … runJob)', () => {
  it('dry-runs (exact count from the groups, a sample), starts, runs at its rate: every match retried once with operator and jobId, nothing else', async () => {
    // Prepare
    const { world, jobQueue, tsq } = jobsWorld();
    const codes = Array.from({ length: 45 }, (_, i) => (i % 3 === 0 ? 'OTHER' : 'DOWN'));
    const ids = await park(world, codes);
    const matching = ids.filter((_, i) => codes[i] === 'DOWN');

    // Act
    const job = await tsq.createJob({ domain: DOMAIN, action: 'retry', filter: { errorCode: 'DOWN' }, rate: 10, operator: 'alice', operatorSession: 's1' });
    const started = await tsq.startJob({ domain: DOMAIN, jobId: job.jobId });
    const clock = runnerClock();
    const t0 = clock.now();
    const result = await tsq.runJob({ domain: DOMAIN, jobId: job.jobId, clock, budgetMs: 600_000 });

    // Assess
    expect(job).toMatchObject({ status: 'DRAFT', action: 'retry', rate: 10, dryRun: { count: 30, exact: true, countedBy: 'groups' } });
    expect(job.dryRun.sample).toHaveLength(10);
    expect(job.dryRun.sample.every((entry) => entry.errorCode === 'DOWN')).toBe(true);
    expect(started.status).toBe('RUNNING');
    expect(jobQueue.sent).toEqual([{ work: { domain: DOMAIN, jobId: job.jobId }, delaySeconds: 0 }]);
    expect(result.stopped).toBe('finished');
    expect(result.job).toMatchObject({ status: 'COMPLETED', progress: { matched: 30, done: 30, skipped: 0, failed: 0 } });
    // 30 at 10/s with a burst of 1: 29 intervals of 100 ms at least
    expect(clock.now() - t0).toBeGreaterThanOrEqual(2900);
    for (const id of matching) {
      const events = await jobEvents(world, id, job.jobId);
      expect(events.map((event) => event.eventType)).toEqual(['OPERATOR_RETRY']);
      expect(events[0]!.details).toMatchObject({ operator: 'alice', operatorSession: 's1', jobId: job.jobId });
      expect((await world.bus.getCommand(DOMAIN, id))?.status).toBe(CommandStatus.PENDING);
    }
    for (const id of ids.filter((id) => !matching.includes(id))) expect((await world.bus.getCommand(DOMAIN, id))?.status).toBe(CommandStatus.IN_TSQ);
  });

  it('touches nothing parked after its creation; a time window is counted by listing', async () => {
    // Prepare
    const { world, tsq } = jobsWorld();
    const before = await park(world, ['DOWN', 'DOWN']);
    await elapse(1000);
    const job = await tsq.createJob({
      domain: DOMAIN,
      action: 'cancel',
      reason: 'obsolete',
      filter: { from: '2020-01-01T00:00:00Z' },
      rate: 100,
      operator: 'bob',
    });
    await elapse(1000);
    const after = await park(world, ['DOWN']);

    // Act
    await tsq.startJob({ domain: DOMAIN, jobId: job.jobId });
    const result = await tsq.runJob({ domain: DOMAIN, jobId: job.jobId, clock: runnerClock() });

    // Assess
    expect(job.dryRun).toMatchObject({ count: 2, exact: true, countedBy: 'listing' });
    expect(result.job?.progress).toEqual({ matched: 2, done: 2, skipped: 0, failed: 0 });
    for (const id of before) expect((await world.bus.getCommand(DOMAIN, id))?.status).toBe(CommandStatus.CANCELLED);
    expect((await world.bus.getCommand(DOMAIN, after[0]!))?.status).toBe(CommandStatus.IN_TSQ);
  });

  it('a runner that stalls past its lease mid-page stops uncounted; the next replays the page: each command acted on once, counted once', async () => {
    // Prepare: the clock jumps 40 s (past the 30 s lease) at the 5th write of an operator action
    const clock = runnerClock();
    let applies = 0;
    const { world, tsq } = jobsWorld((store) =>
      replacing(store, 'apply', (apply) => async (transition) => {
        const result = await apply(transition);
        if (transition.events.some((event) => event.eventType === 'OPERATOR_COMPLETE') && ++applies === 5) clock.jump(40_000);
        return result;
      }),
    );
    const ids = await park(
      world,
      Array.from({ length: 25 }, () => 'DOWN'),
    );
    const job = await tsq.createJob({
      domain: DOMAIN,
      action: 'complete',
      resultData: { by: 'job' },
      filter: { errorCode: 'DOWN' },
      rate: 20,
      operator: 'carol',
    });
    await tsq.startJob({ domain: DOMAIN, jobId: job.jobId });

    // Act
    const first = await tsq.runJob({ domain: DOMAIN, jobId: job.jobId, clock, concurrency: 1 });
    const second = await tsq.runJob({ domain: DOMAIN, jobId: job.jobId, clock, concurrency: 1 });

    // Assess
    expect(first.stopped).toBe('leaseLost');
    expect(second.stopped).toBe('finished');
    expect(second.job?.progress).toEqual({ matched: 25, done: 25, skipped: 0, failed: 0 });
    for (const id of ids) {
      expect(await jobEvents(world, id, job.jobId)).toHaveLength(1);
      expect(await world.bus.getCommand(DOMAIN, id)).toMatchObject({ status: CommandStatus.COMPLETED, result: { by: 'job' } });
    }
  });

  it('pauses and cancels between pages; counts commands resolved meanwhile as skipped', async () => {
    // Prepare: 60 parked, a page is 20 at 10/s; the operator pauses while the 5th command is acted on
    let acts = 0;
    let pause = async () => {};
    const { world, tsq } = jobsWorld((store) =>
      replacing(store, 'apply', (apply) => async (transition) => {
        if (transition.events.some((event) => event.eventType === 'OPERATOR_RETRY') && ++acts === 5) await pause();
        return apply(transition);
      }),
    );
    const ids = await park(
      world,
      Array.from({ length: 60 }, () => 'DOWN'),
    );
    const job = await tsq.createJob({ domain: DOMAIN, action: 'retry', filter: {}, rate: 10, operator: 'dave' });
    await tsq.startJob({ domain: DOMAIN, jobId: job.jobId });
    pause = async () => {
      await tsq.pauseJob({ domain: DOMAIN, jobId: job.jobId });
    };
    const clock = runnerClock();

    // Act
    const paused = await tsq.runJob({ domain: DOMAIN, jobId: job.jobId, clock });
    const idle = await tsq.runJob({ domain: DOMAIN, jobId: job.jobId, clock });
    // someone else completes one of the rest meanwhile
    const untouched = [];
    for (const id of ids) if ((await world.bus.getCommand(DOMAIN, id))?.status === CommandStatus.IN_TSQ) untouched.push(id);
    await world.tsq.operatorComplete({ domain: DOMAIN, commandId: untouched[untouched.length - 1]!, operator: 'eve' });
    await tsq.resumeJob({ domain: DOMAIN, jobId: job.jobId });
    const resumed = await tsq.runJob({ domain: DOMAIN, jobId: job.jobId, clock, budgetMs: 1 });
    await tsq.cancelJob({ domain: DOMAIN, jobId: job.jobId });
    const cancelled = await tsq.runJob({ domain: DOMAIN, jobId: job.jobId, clock });

    // Assess
    expect(paused).toMatchObject({ stopped: 'paused', job: { status: 'PAUSED', progress: { matched: 20, done: 20 } } });
    expect(idle.stopped).toBe('idle');
    expect(resumed.stopped).toBe('budget');
    expect(resumed.job?.progress.matched).toBe(40);
    expect(cancelled.stopped).toBe('idle');
    const final = await tsq.getJob({ domain: DOMAIN, jobId: job.jobId });
    expect(final.status).toBe('CANCELLED');
    expect(final.progress.matched).toBe(final.progress.done + final.progress.skipped);
    await expect(tsq.resumeJob({ domain: DOMAIN, jobId: job.jobId })).rejects.toThrow(InvalidOperationError);
    const { items } = await tsq.listJobs({ domain: DOMAIN });
    expect(items.map((item) => item.jobId)).toEqual([job.jobId]);
  });

  it('a resume that lands while the runner stops for a pause makes the runner say "go on" (its wake-up may have found the lease held)', async () => {
    // Prepare: the operator pauses during the first page, and resumes just before the runner lets go of the job
    const world = createWorld();
    const jobs = new InMemoryJobStore();
    let acts = 0;
    let pause = async () => {};
    let resumeBeforeRelease = async () => {};
    const store = replacing(world.store, 'apply', (apply) => async (transition) => {
      if (transition.events.some((event) => event.eventType === 'OPERATOR_RETRY') && ++acts === 3) await pause();
      return apply(transition);
    });
    const releasing: typeof jobs = Object.assign(Object.create(jobs) as typeof jobs, {
      checkpoint: async (...args: Parameters<typeof jobs.checkpoint>) => {
        if (args[3].leaseUntil === 0) await resumeBeforeRelease();
        return jobs.checkpoint(...args);
      },
    });
    const tsq = new TroubleshootingQueue({ ...world.config, store, jobs: releasing, jobQueue: new InMemoryJobQueue() });
    await park(
      world,
      Array.from({ length: 30 }, () => 'DOWN'),
    );
    const job = await tsq.createJob({ domain: DOMAIN, action: 'retry', filter: {}, rate: 10, operator: 'gina' });
    await tsq.startJob({ domain: DOMAIN, jobId: job.jobId });
    pause = async () => {
      await tsq.pauseJob({ domain: DOMAIN, jobId: job.jobId });
    };
    resumeBeforeRelease = async () => {
      resumeBeforeRelease = async () => {};
      await tsq.resumeJob({ domain: DOMAIN, jobId: job.jobId });
    };

    // Act
    const result = await tsq.runJob({ domain: DOMAIN, jobId: job.jobId, clock: runnerClock() });

    // Assess
    expect(result.stopped).toBe('budget');
    expect(result.job).toMatchObject({ status: 'RUNNING', progress: { matched: 20, done: 20 } });
  });

  it('counts a command whose state changed since it was listed as skipped, with the reason', async () => {
    // Prepare: the first action of the job finds its command completed by someone else just before
    let raced = false;
    let world!: World;
    const made = jobsWorld((store) =>
      replacing(store, 'get', (get) => async (domain, commandId) => {
        if (!raced) {
          raced = true;
          await world.tsq.operatorCancel({ domain, commandId, operator: 'eve', reason: 'mine' });
        }
        return get(domain, commandId);
      }),
    );
    world = made.world;
    const { tsq } = made;
    await park(world, ['DOWN', 'DOWN', 'DOWN']);
    const job = await tsq.createJob({ domain: DOMAIN, action: 'retry', filter: { errorType: 'PERMANENT' }, rate: 100, operator: 'frank' });
    await tsq.startJob({ domain: DOMAIN, jobId: job.jobId });

    // Act
    const result = await tsq.runJob({ domain: DOMAIN, jobId: job.jobId, clock: runnerClock(), concurrency: 1 });

    // Assess
    expect(result.job).toMatchObject({ progress: { matched: 3, done: 2, skipped: 1, failed: 0 }, problemCodes: { INVALID_OPERATION: 1 } });
    expect(result.job?.recentProblems[0]).toMatchObject({ outcome: 'skipped', code: 'INVALID_OPERATION', reason: expect.stringContaining('CANCELLED') });
  });

  it('refuses bad requests before anything is written', async () => {
    const { tsq } = jobsWorld();
    const base = { domain: DOMAIN, action: 'retry' as const, filter: {}, rate: 10, operator: 'alice' };
    await expect(tsq.createJob({ ...base, rate: 0 })).rejects.toThrow(ValidationError);
    await expect(tsq.createJob({ ...base, filter: { status: 'x' } as never })).rejects.toThrow(/filter.status/);
    await expect(tsq.createJob({ ...base, filter: { from: 'yesterday' } })).rejects.toThrow(/from/);
    await expect(tsq.createJob({ ...base, action: 'cancel' })).rejects.toThrow(/reason/);
    await expect(tsq.createJob({ ...base, reason: 'no' })).rejects.toThrow(/reason/);
    await expect(tsq.getJob({ domain: DOMAIN, jobId: '0f8fad5b-d9cb-469f-a165-70867728950e' })).rejects.toThrow(JobNotFoundError);
    await expect(tsq.startJob({ domain: DOMAIN, jobId: '0f8fad5b-d9cb-469f-a165-70867728950e' })).rejects.toThrow(JobNotFoundError);
    expect((await tsq.listJobs({ domain: DOMAIN })).items).toEqual([]);
  });
});
