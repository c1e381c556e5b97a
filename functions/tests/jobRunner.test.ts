import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { CommandStatus, silentLogger, TroubleshootingQueue } from '@commandbus/core';
import { InMemoryCommandStore, InMemoryJobQueue, InMemoryJobStore, InMemoryTransport } from '@commandbus/core/testing';
import { resourceNames } from '@commandbus/core/resources';
import { createJobRunnerHandler } from '../jobRunner.ts';

const record = (body: string, messageId = 'm-1') => ({ messageId, body }) as SQSRecord;
const context = { getRemainingTimeInMillis: () => 9_000 };

/** Parks `count` commands (records created parked, as a dead-lettered message is recorded). */
async function world(count: number) {
  const names = resourceNames('unit');
  const store = new InMemoryCommandStore();
  const transport = new InMemoryTransport({ names, domains: ['payments'] });
  const jobs = new InMemoryJobStore();
  const jobQueue = new InMemoryJobQueue();
  const config = { namespace: 'unit', store, transport, jobs, jobQueue, logger: silentLogger };
  const now = new Date(Date.now() - 1000).toISOString();
  for (let i = 0; i < count; i++) {
    const commandId = crypto.randomUUID();
    await store.insert({
      domain: 'payments',
      commandId,
      commandType: 'Charge',
      status: CommandStatus.IN_TSQ,
      attempts: 1,
      maxAttempts: 3,
      token: crypto.randomUUID(),
      correlationId: commandId,
      createdAt: now,
      updatedAt: now,
      lastError: { type: 'PERMANENT', code: 'DOWN', message: 'down' },
      data: { i },
      events: [],
    });
  }
  return { config, jobQueue, tsq: new TroubleshootingQueue(config), handler: createJobRunnerHandler({ config, logger: silentLogger }) };
}

describe('Function: the job-runner handler', () => {
  it('works on the job of the message until it completes', async () => {
    // Prepare
    const { tsq, handler } = await world(5);
    const job = await tsq.createJob({ domain: 'payments', action: 'cancel', reason: 'obsolete', filter: { errorCode: 'DOWN' }, rate: 1000, operator: 'alice' });
    await tsq.startJob({ domain: 'payments', jobId: job.jobId });

    // Act
    const answer = await handler({ Records: [record(JSON.stringify({ domain: 'payments', jobId: job.jobId }))] }, context);

    // Assess
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(await tsq.getJob({ domain: 'payments', jobId: job.jobId })).toMatchObject({ status: 'COMPLETED', progress: { matched: 5, done: 5 } });
  });

  it('sends a continuation when its budget runs out before the job is done', async () => {
    // Prepare: 30 commands at 10/s take 3 s; the budget is 2/3 of 1.5 s
    const { tsq, handler, jobQueue } = await world(30);
    const job = await tsq.createJob({ domain: 'payments', action: 'retry', filter: {}, rate: 10, operator: 'alice' });
    await tsq.startJob({ domain: 'payments', jobId: job.jobId });
    jobQueue.sent.length = 0;

    // Act
    const answer = await handler({ Records: [record(JSON.stringify({ domain: 'payments', jobId: job.jobId }))] }, { getRemainingTimeInMillis: () => 1_500 });

    // Assess
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(jobQueue.sent).toEqual([{ work: { domain: 'payments', jobId: job.jobId }, delaySeconds: 0 }]);
    expect((await tsq.getJob({ domain: 'payments', jobId: job.jobId })).status).toBe('RUNNING');
  });

  it('drops messages that name no job, and reports a failed run for SQS to hand out again', async () => {
    // Prepare
    const { config } = await world(0);
    const failing = createJobRunnerHandler({
      config: { ...config, jobs: { ...config.jobs, get: async () => Promise.reject(new Error('store down')) } as never },
      logger: silentLogger,
    });
    const handler = createJobRunnerHandler({ config, logger: silentLogger });
    const jobId = crypto.randomUUID();

    // Act
    const dropped = await handler(
      { Records: [record('not json', 'a'), record('{"domain":1}', 'b'), record(JSON.stringify({ domain: 'payments', jobId }), 'c')] },
      context,
    );
    const failed = await failing({ Records: [record(JSON.stringify({ domain: 'payments', jobId }), 'd')] }, context);

    // Assess
    expect(dropped).toEqual({ batchItemFailures: [] });
    expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: 'd' }] });
  });
});
