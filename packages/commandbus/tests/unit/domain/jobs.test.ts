import { describe, expect, it } from 'vitest';
import { addOutcomes, controlJob, emptyProgress, jobWindow, newJobId, pageSizeFor, TokenBucket, validateRate, type Clock } from '../../../src/domain/jobs.ts';
import { InvalidOperationError, ValidationError } from '../../../src/errors.ts';
import { queueDefinitions, resourceNames } from '../../../src/resources.ts';

/** A clock that only moves when slept on. */
function fakeClock(start = 0): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('Function: controlJob (the job state machine)', () => {
  it.each([
    ['DRAFT', 'start', 'RUNNING'],
    ['RUNNING', 'pause', 'PAUSED'],
    ['PAUSED', 'resume', 'RUNNING'],
    ['DRAFT', 'cancel', 'CANCELLED'],
    ['RUNNING', 'cancel', 'CANCELLED'],
    ['PAUSED', 'cancel', 'CANCELLED'],
  ] as const)('%s --%s--> %s', (from, control, to) => {
    expect(controlJob(from, control)).toBe(to);
  });

  it.each([
    ['RUNNING', 'start'],
    ['PAUSED', 'pause'],
    ['RUNNING', 'resume'],
    ['COMPLETED', 'cancel'],
    ['CANCELLED', 'resume'],
    ['COMPLETED', 'start'],
  ] as const)('refuses %s --%s--> with the status that forbids it', (from, control) => {
    expect(() => controlJob(from, control)).toThrow(InvalidOperationError);
    expect(() => controlJob(from, control)).toThrow(new RegExp(`${control} a job that is ${from}`));
  });
});

describe('Function: jobWindow', () => {
  it('closes the window at the creation: nothing parked later is touched', () => {
    expect(jobWindow({}, '2026-01-02T00:00:00.000Z')).toEqual({ to: '2026-01-02T00:00:00.001Z' });
    expect(jobWindow({ from: 'a', to: '2026-01-03T00:00:00.000Z' }, '2026-01-02T00:00:00.000Z')).toEqual({ from: 'a', to: '2026-01-02T00:00:00.001Z' });
    expect(jobWindow({ to: '2026-01-01T00:00:00.000Z' }, '2026-01-02T00:00:00.000Z')).toEqual({ to: '2026-01-01T00:00:00.000Z' });
  });
});

describe('Function: addOutcomes (progress arithmetic)', () => {
  it('counts every outcome once, matched = done + skipped + failed, problems by code, the recent ones bounded', () => {
    let job = { progress: emptyProgress(), problemCodes: {}, recentProblems: [] as never[] } as Parameters<typeof addOutcomes>[0];
    for (let page = 0; page < 5; page++) {
      job = addOutcomes(job, [
        { commandId: `d${page}`, outcome: 'done' },
        { commandId: `s${page}`, outcome: 'skipped', code: 'INVALID_OPERATION', reason: 'it is COMPLETED' },
        { commandId: `f${page}`, outcome: 'failed', code: 'SEND_FAILED', reason: 'x'.repeat(1000) },
        { commandId: `g${page}`, outcome: 'done' },
        { commandId: `h${page}`, outcome: 'skipped', code: 'COMMAND_NOT_FOUND', reason: 'gone' },
      ]);
    }
    expect(job.progress).toEqual({ matched: 25, done: 10, skipped: 10, failed: 5 });
    expect(job.progress.matched).toBe(job.progress.done + job.progress.skipped + job.progress.failed);
    expect(job.problemCodes).toEqual({ INVALID_OPERATION: 5, SEND_FAILED: 5, COMMAND_NOT_FOUND: 5 });
    expect(job.recentProblems).toHaveLength(15);
    expect(job.recentProblems.every((problem) => problem.reason.length <= 300)).toBe(true);
  });
});

describe('Class: TokenBucket', () => {
  it('paces takes at the rate after a burst of rate/10', async () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new TokenBucket(100, clock);

    // Act: 1,000 takes at 100/s
    for (let i = 0; i < 1000; i++) await bucket.take();

    // Assess: the first 10 are free, the remaining 990 are 10 ms apart
    expect(clock.now()).toBe(9900);
    expect(clock.slept.length).toBe(990);
  });

  it('holds the rate over any span when takers are concurrent (reservations queue in order)', () => {
    const bucket = new TokenBucket(10, fakeClock(), 1);
    const waits = Array.from({ length: 5 }, () => bucket.reserve(1000));
    expect(waits).toEqual([0, 100, 200, 300, 400]);
  });

  it('does not save up more than its burst while idle', () => {
    const bucket = new TokenBucket(10, fakeClock(), 2);
    bucket.reserve(0);
    const waits = Array.from({ length: 4 }, () => bucket.reserve(60_000));
    expect(waits).toEqual([0, 0, 100, 200]);
  });
});

describe('Helpers', () => {
  it('validateRate accepts 0.1–1,000 commands/s', () => {
    expect(validateRate(500)).toBe(500);
    for (const rate of [0, 0.01, 1001, Number.NaN, '5', undefined]) expect(() => validateRate(rate)).toThrow(ValidationError);
  });

  it('pageSizeFor: about two seconds of work, 10–100', () => {
    expect([pageSizeFor(1), pageSizeFor(20), pageSizeFor(500)]).toEqual([10, 40, 100]);
  });

  it('newJobId: a UUID v7 that sorts by time', () => {
    const earlier = newJobId(Date.parse('2026-01-01T00:00:00Z'));
    const later = newJobId(Date.parse('2026-01-01T00:00:00.001Z'));
    expect(earlier).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(earlier < later).toBe(true);
  });
});

describe('Resources: the jobs queue', () => {
  it('is one of the bus queues, so no command may name it as its replyTo', () => {
    const names = resourceNames('shop');
    expect(names.jobsQueue).toBe('shop-jobs');
    expect(names.isBusQueue('shop-jobs')).toBe(true);
    expect(names.isBusQueue('shop-replies')).toBe(false);
    expect(queueDefinitions(names, ['payments']).map((queue) => queue.name)).toContain('shop-jobs');
  });
});
