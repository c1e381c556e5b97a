/**
 * Operator jobs through the HTTP API and the job-runner Lambda (the local runtime feeds it from the
 * jobs queue, as the stack's event source mapping does): create with a dry run, start, watch the
 * progress, pause, resume, cancel; the caller is recorded with the jobId on every command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, InvalidOperationError, JobNotFoundError, ValidationError, type OperatorJob } from '@commandbus/core';
import { createScenario, waitFor, type Scenario } from '../support/fixtures.ts';

let s: Scenario;
beforeAll(async () => {
  s = await createScenario();
});
afterAll(async () => {
  await s.cleanup();
});

/** Parks `count` commands with an error code of their own (the namespace is shared with other files). */
async function park(count: number, code: string): Promise<string[]> {
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  await Promise.all(ids.map((commandId) => s.behaviours.create(commandId, { type: 'fail_permanent', error_code: code })));
  await Promise.all(ids.map((commandId) => s.send({ commandId, data: { amount: -1 } })));
  await Promise.all(ids.map((commandId) => s.waitForStatus(commandId, CommandStatus.IN_TSQ, 30_000)));
  return ids;
}

const settled = (domain: string, jobId: string, status: OperatorJob['status']) =>
  waitFor(
    `job ${jobId} ${status}`,
    async () => {
      const job = await s.client!.getJob({ domain, jobId });
      return job.status === status ? job : undefined;
    },
    30_000,
  );

describe('HTTP API: operator jobs', () => {
  it('creates a job with its dry run, starts it; the job runner retries every match once, at its rate, as the caller', async () => {
    // Prepare
    const client = s.client!;
    const code = `JOB_${crypto.randomUUID().slice(0, 8)}`;
    const ids = await park(12, code);
    const others = await park(2, `${code}_OTHER`);
    await Promise.all(ids.map((commandId) => s.behaviours.update(commandId, { type: 'success' })));

    // Act
    const job = await client.createJob({ domain: 'test', action: 'retry', filter: { errorCode: code }, rate: 10 });
    const started = await client.startJob({ domain: 'test', jobId: job.jobId });
    const done = await settled('test', job.jobId, 'COMPLETED');
    await Promise.all(ids.map((commandId) => s.waitForCompletion(commandId, 30_000)));

    // Assess
    expect(job).toMatchObject({ status: 'DRAFT', action: 'retry', operator: s.operator, dryRun: { count: 12, exact: true, countedBy: 'groups' } });
    expect(job.dryRun.sample).toHaveLength(10);
    expect(started.status).toBe('RUNNING');
    expect(done.progress).toEqual({ matched: 12, done: 12, skipped: 0, failed: 0 });
    // 12 at 10/s, a burst of 1: at least 1.1 s from start to finish
    expect(Date.parse(done.finishedAt!) - Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(1_100);
    for (const commandId of ids) {
      const retries = (await client.getAuditTrail(commandId, 'test')).filter((event) => event.eventType === 'OPERATOR_RETRY');
      expect(retries.map((event) => event.details)).toEqual([expect.objectContaining({ operator: s.operator, jobId: job.jobId })]);
    }
    for (const commandId of others) expect((await client.getCommand('test', commandId))?.status).toBe(CommandStatus.IN_TSQ);
    const listed = await client.listJobs({ domain: 'test', limit: 50 });
    expect(listed.items.map((item) => item.jobId)).toContain(job.jobId);
  });

  it('pauses and resumes a running job, then cancels it: counts stay exact; finished jobs refuse controls (409)', async () => {
    // Prepare: 30 at 5/s take 6 s
    const client = s.client!;
    const code = `JOB_${crypto.randomUUID().slice(0, 8)}`;
    const ids = await park(30, code);
    const job = await client.createJob({
      domain: 'test',
      action: 'cancel',
      reason: 'superseded',
      filter: { errorCode: code, errorType: 'PERMANENT' },
      rate: 5,
    });

    // Act
    await client.startJob({ domain: 'test', jobId: job.jobId });
    await waitFor('some progress', async () => ((await client.getJob({ domain: 'test', jobId: job.jobId })).progress.matched > 0 ? true : undefined), 30_000);
    const paused = await client.pauseJob({ domain: 'test', jobId: job.jobId });
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // the runner stops at its page's end
    const whilePaused = await client.getJob({ domain: 'test', jobId: job.jobId });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const stillPaused = await client.getJob({ domain: 'test', jobId: job.jobId });
    await client.resumeJob({ domain: 'test', jobId: job.jobId });
    const done = await settled('test', job.jobId, 'COMPLETED');

    // Assess
    expect(paused.status).toBe('PAUSED');
    expect(stillPaused.progress).toEqual(whilePaused.progress);
    expect(whilePaused.progress.matched).toBeLessThan(30);
    expect(done.progress).toEqual({ matched: 30, done: 30, skipped: 0, failed: 0 });
    for (const commandId of ids) expect((await client.getCommand('test', commandId))?.status).toBe(CommandStatus.CANCELLED);
    await expect(client.cancelJob({ domain: 'test', jobId: job.jobId })).rejects.toBeInstanceOf(InvalidOperationError);
  });

  it('refuses bad requests (400) and unknown jobs (404)', async () => {
    const client = s.client!;
    await expect(client.createJob({ domain: 'test', action: 'retry', filter: {}, rate: 0 })).rejects.toMatchObject({ field: 'rate' });
    await expect(client.createJob({ domain: 'test', action: 'cancel', filter: {}, rate: 1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(client.createJob({ domain: 'test', action: 'retry', filter: { status: 'x' } as never, rate: 1 })).rejects.toBeInstanceOf(ValidationError);
    const unknown = crypto.randomUUID();
    await expect(client.getJob({ domain: 'test', jobId: unknown })).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(client.startJob({ domain: 'test', jobId: unknown })).rejects.toBeInstanceOf(JobNotFoundError);
  });
});
