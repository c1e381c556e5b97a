/**
 * Counts and rates from the table's stream (issue 8): the aggregator over DynamoDB Local's stream
 * API counts a mix of outcomes exactly, and counts each change once when batches are applied again
 * or two aggregators read the same stream at once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CommandBus,
  CommandStatus,
  DynamoStatsStore,
  DynamoStreamPoller,
  StatsAggregator,
  TroubleshootingQueue,
  type StatsReport,
  type StreamBatchEvent,
} from '@commandbus/core';
import { TEST_DOMAIN } from '@commandbus/testapp';
import { describeStatsStoreContract } from '../packages/commandbus/tests/contract/statsStoreContract.ts';
import { createScenario, waitFor, type Scenario } from './support/fixtures.ts';

let s: Scenario;
let bus: CommandBus;
let tsq: TroubleshootingQueue;
const started = new Date(Date.now() - 60_000).toISOString();
const window = () => ({ domain: TEST_DOMAIN, from: started, to: new Date(Date.now() + 120_000).toISOString() });

beforeAll(async () => {
  s = await createScenario();
  bus = new CommandBus(s.config);
  tsq = new TroubleshootingQueue(s.config);
});
afterAll(async () => {
  await s.cleanup();
});

/** Sends the mix and waits for every command to settle: 5 completed, 1 completed after 2 failures, 3 parked (1 then cancelled, 1 then completed by an operator). */
async function sendMix(): Promise<void> {
  const ids = { ok: [] as string[], flaky: randomUUID(), parked: randomUUID(), cancelled: randomUUID(), operatorCompleted: randomUUID() };
  for (let i = 0; i < 5; i++) ids.ok.push(randomUUID());
  await s.behaviours.create(ids.flaky, { type: 'fail_transient_then_succeed', transient_failures: 2 });
  for (const id of [ids.parked, ids.cancelled, ids.operatorCompleted]) {
    await s.behaviours.create(id, { type: 'fail_permanent', error_code: 'NOPE', error_message: 'no' });
  }
  const all = [...ids.ok, ids.flaky, ids.parked, ids.cancelled, ids.operatorCompleted];
  await Promise.all(all.map((commandId) => s.send({ commandId })));
  await Promise.all([...ids.ok, ids.flaky].map((id) => s.waitForCompletion(id)));
  await Promise.all([ids.parked, ids.cancelled, ids.operatorCompleted].map((id) => s.waitForStatus(id, CommandStatus.IN_TSQ)));
  await tsq.operatorCancel({ domain: TEST_DOMAIN, commandId: ids.cancelled, operator: 'op', reason: 'r' });
  await tsq.operatorComplete({ domain: TEST_DOMAIN, commandId: ids.operatorCompleted, operator: 'op' });
}

function expectMix(report: StatsReport, times = 1): void {
  expect(report.counts).toEqual({
    [CommandStatus.PENDING]: 0,
    [CommandStatus.IN_PROGRESS]: 0,
    [CommandStatus.COMPLETED]: 7 * times,
    [CommandStatus.IN_TSQ]: 1 * times,
    [CommandStatus.CANCELLED]: 1 * times,
  });
  expect(report.total).toBe(9 * times);
  expect(report.totals).toMatchObject({ sent: 9 * times, completed: 7 * times, failed: 5 * times, parked: 3 * times, cancelled: 1 * times });
}

describe('stats from the stream', () => {
  it('counts a mix of outcomes exactly, and a batch applied again changes nothing', async () => {
    await sendMix();
    const aggregator = new StatsAggregator(s.config);
    expect(await aggregator.drain()).toBeGreaterThan(0);
    const report = await bus.stats({ ...window(), series: 'minute' });
    expectMix(report);
    expect(report.totals.latencyP50Ms).toBeGreaterThan(0);
    expect(report.totals.latencyP99Ms).toBeGreaterThanOrEqual(report.totals.latencyP50Ms as number);
    expect(report.asOf).toBeDefined();
    expect(report.series?.points.reduce((sum, p) => sum + p.sent, 0)).toBe(9);
    expect(report.queries).toBeLessThanOrEqual(8);

    // A page of a rare status reads only the minutes the counts point to.
    const cancelled = await bus.queryByStatus({ domain: TEST_DOMAIN, status: CommandStatus.CANCELLED });
    expect(cancelled.items.map((c) => c.status)).toEqual([CommandStatus.CANCELLED]);
    expect(cancelled.nextCursor).toBeUndefined();

    // The same batches again (a Lambda retry, a restarted poller from TRIM_HORIZON): nothing moves.
    const batches: StreamBatchEvent[] = [];
    const capture = new DynamoStreamPoller({
      dynamodb: s.clients.dynamodb,
      tableName: s.names.table,
      batchSize: 5,
      handler: async (event) => {
        batches.push(event);
      },
    });
    await capture.drain();
    for (const batch of batches) {
      const again = await aggregator.handle(batch);
      expect(again.written).toBe(0);
    }
    expectMix(await bus.stats(window()));
  });

  it('counts each change once with two aggregators reading the same stream at once, in different batches', async () => {
    const a = new StatsAggregator({ ...s.config, batchSize: 3, idleMs: 50 });
    const b = new StatsAggregator({ ...s.config, batchSize: 7, idleMs: 50 });
    a.start();
    b.start();
    try {
      await sendMix();
      await waitFor(
        'both mixes counted',
        async () => {
          const report = await bus.stats(window());
          return report.counts.CANCELLED === 2 && report.counts.COMPLETED === 14 && report.totals.completed === 14 ? report : undefined;
        },
        30_000,
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    await new StatsAggregator(s.config).drain();
    expectMix(await bus.stats(window()), 2);
  });
});

describe('the stream poller', () => {
  it('hands a batch whose handler failed over again, from the same record, until it succeeds', async () => {
    // At least 4 records on the stream, whatever ran before.
    await Promise.all([s.send(), s.send()].map(async (sent) => s.waitForCompletion(await sent)));
    const seen: string[][] = [];
    let fail = true;
    const poller = new DynamoStreamPoller({
      dynamodb: s.clients.dynamodb,
      tableName: s.names.table,
      batchSize: 4,
      handler: async (event) => {
        seen.push(event.Records.map((record) => record.dynamodb?.SequenceNumber as string));
        if (fail) {
          fail = false;
          throw new Error('the function failed');
        }
      },
    });
    await expect(poller.pollOnce()).rejects.toThrow('the function failed');
    await poller.pollOnce();
    expect(seen[0]?.length).toBe(4);
    expect(seen[1]).toEqual(seen[0]);
    await poller.drain();
    const all = seen.slice(1).flat();
    expect(new Set(all).size).toBe(all.length);
  });
});

describeStatsStoreContract('DynamoStatsStore on DynamoDB Local', () => ({
  stats: new DynamoStatsStore(s.clients.dynamodb, s.names.table),
  domain: `d${randomUUID().slice(0, 8)}`,
}));
