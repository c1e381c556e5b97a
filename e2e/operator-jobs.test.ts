/**
 * Operator jobs on the embedded target (the library against DynamoDB Local and the embedded SQS):
 * a filter's bulk action dry-run, started (a message on the jobs queue), run in this process at its
 * rate, crashed after acting on a page and before recording it, and resumed: every matching command
 * acted on once and counted once, nothing else touched.
 */
import { ReceiveMessageCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, DynamoJobStore, TroubleshootingQueue, type JobStore } from '@commandbus/core';
import { createScenario, type Scenario } from './support/fixtures.ts';

let s: Scenario;
let tsq: TroubleshootingQueue;
/** When set, the runner's next checkpoint that records a page throws: a crash after acting, before counting. */
let crashNextPageRecord = false;

beforeAll(async () => {
  s = await createScenario();
  const store = new DynamoJobStore(s.clients.dynamodb, s.names.table);
  const jobs: JobStore = {
    create: (job) => store.create(job),
    get: (domain, jobId) => store.get(domain, jobId),
    list: (domain, options) => store.list(domain, options),
    setStatus: (...args) => store.setStatus(...args),
    acquire: (...args) => store.acquire(...args),
    checkpoint: async (domain, jobId, lease, checkpoint, at) => {
      if (crashNextPageRecord && checkpoint.pending === null) {
        crashNextPageRecord = false;
        throw new Error('the runner died after acting on its page');
      }
      return store.checkpoint(domain, jobId, lease, checkpoint, at);
    },
  };
  tsq = new TroubleshootingQueue({ ...s.config, jobs });
});
afterAll(async () => {
  await s.cleanup();
});

/** Parks one command per error code given. */
async function park(codes: string[]): Promise<string[]> {
  const ids = codes.map(() => crypto.randomUUID());
  await Promise.all(ids.map((commandId, i) => s.behaviours.create(commandId, { type: 'fail_permanent', error_code: codes[i]! })));
  await Promise.all(ids.map((commandId) => s.send({ commandId, data: { amount: -1 } })));
  await Promise.all(ids.map((commandId) => s.waitForStatus(commandId, CommandStatus.IN_TSQ, 30_000)));
  return ids;
}

const jobEvents = async (commandId: string, jobId: string) =>
  (await s.bus.getAuditTrail(commandId)).filter((event) => (event.details as { jobId?: string } | undefined)?.jobId === jobId);

describe('Operator jobs (embedded)', () => {
  it('dry-runs a filter, runs at its rate, survives a crash mid-job: each match cancelled once and counted once, nothing else', async () => {
    // Prepare: 30 parked with GATEWAY_DOWN, 10 with BAD_AMOUNT
    const codes = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 'BAD_AMOUNT' : 'GATEWAY_DOWN'));
    const ids = await park(codes);
    const matching = ids.filter((_, i) => codes[i] === 'GATEWAY_DOWN');

    // Act
    const job = await tsq.createJob({
      domain: 'test',
      action: 'cancel',
      reason: 'gateway replaced',
      filter: { errorCode: 'GATEWAY_DOWN' },
      rate: 20,
      operator: 'alice',
      operatorSession: 'incident-42',
    });
    await tsq.startJob({ domain: 'test', jobId: job.jobId });
    crashNextPageRecord = true;
    const started = Date.now();
    const crashed = await tsq.runJob({ domain: 'test', jobId: job.jobId, leaseMs: 3_000 }).catch((error: unknown) => error);
    const busy = await tsq.runJob({ domain: 'test', jobId: job.jobId, leaseMs: 3_000 });
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    const resumed = await tsq.runJob({ domain: 'test', jobId: job.jobId, leaseMs: 3_000 });
    const elapsed = Date.now() - started;

    // Assess
    expect(job.dryRun).toMatchObject({ count: 30, exact: true, countedBy: 'groups' });
    expect(job.dryRun.sample.length).toBe(10);
    expect(job.dryRun.sample.every((entry) => matching.includes(entry.commandId))).toBe(true);
    expect(crashed).toBeInstanceOf(Error);
    expect(busy.stopped).toBe('busy');
    expect(resumed.stopped).toBe('finished');
    expect(resumed.job).toMatchObject({ status: 'COMPLETED', progress: { matched: 30, done: 30, skipped: 0, failed: 0 } });
    // 30 at 20/s with a burst of 2: at least 1.4 s of pacing, on top of the lease wait
    expect(elapsed).toBeGreaterThanOrEqual(1_400 + 3_100);
    for (const commandId of matching) {
      const events = await jobEvents(commandId, job.jobId);
      expect(events.map((event) => event.eventType)).toEqual(['OPERATOR_CANCEL']);
      expect(events[0]!.details).toMatchObject({ operator: 'alice', operatorSession: 'incident-42', jobId: job.jobId, reason: 'gateway replaced' });
      expect((await s.bus.getCommand('test', commandId))?.status).toBe(CommandStatus.CANCELLED);
    }
    for (const commandId of ids.filter((id) => !matching.includes(id))) {
      expect((await s.bus.getCommand('test', commandId))?.status).toBe(CommandStatus.IN_TSQ);
    }
    // The start woke a runner through the jobs queue.
    const { QueueUrl } = await s.clients.sqs.send(new GetQueueUrlCommand({ QueueName: s.names.jobsQueue }));
    const { Messages = [] } = await s.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(Messages.map((message) => JSON.parse(message.Body!))).toContainEqual({ domain: 'test', jobId: job.jobId });
  });

  it('pauses, resumes and lists jobs; a window in the filter is counted by listing; commands parked after creation are left alone', async () => {
    // Prepare
    const before = await park(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    const job = await tsq.createJob({
      domain: 'test',
      action: 'complete',
      resultData: { settled: true },
      filter: { errorCode: 'RATE_LIMITED', from: '2020-01-01T00:00:00Z' },
      rate: 50,
      operator: 'bob',
    });
    const after = await park(['RATE_LIMITED']);

    // Act
    await tsq.startJob({ domain: 'test', jobId: job.jobId });
    const paused = await tsq.pauseJob({ domain: 'test', jobId: job.jobId });
    const idle = await tsq.runJob({ domain: 'test', jobId: job.jobId });
    await tsq.resumeJob({ domain: 'test', jobId: job.jobId });
    const done = await tsq.runJob({ domain: 'test', jobId: job.jobId });
    const listed = await tsq.listJobs({ domain: 'test', limit: 1 });

    // Assess
    expect(job.dryRun).toMatchObject({ count: 3, exact: true, countedBy: 'listing' });
    expect(paused.status).toBe('PAUSED');
    expect(idle.stopped).toBe('idle');
    expect(done.job).toMatchObject({ status: 'COMPLETED', progress: { matched: 3, done: 3, skipped: 0, failed: 0 } });
    for (const commandId of before)
      expect(await s.bus.getCommand('test', commandId)).toMatchObject({ status: CommandStatus.COMPLETED, result: { settled: true } });
    expect((await s.bus.getCommand('test', after[0]!))?.status).toBe(CommandStatus.IN_TSQ);
    expect(listed.items.map((item) => item.jobId)).toEqual([job.jobId]);
    expect(listed.nextCursor).toBeDefined();
    await expect(tsq.cancelJob({ domain: 'test', jobId: job.jobId })).rejects.toThrow(/COMPLETED/);
  });
});
