/**
 * GET /domains/{domain}/stats through the HTTP API of the deployed shape: the worker a Lambda, and the
 * stats function fed from the table's stream by the runtime (as the stack's event source mapping
 * does). The domain is shared with the other API tests, so counts are checked as growing by ours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, type StatsReport } from '@commandbus/core';
import { DomainStats } from '../../functions/schemas.ts';
import { createScenario, target, waitFor, type Scenario } from '../support/fixtures.ts';

let s: Scenario;
const from = new Date(Date.now() - 60_000).toISOString();
const to = () => new Date(Date.now() + 120_000).toISOString();

beforeAll(async () => {
  if (target().kind !== 'api') throw new Error('this file runs against an API target');
  s = await createScenario();
});
afterAll(async () => {
  await s.cleanup();
});

describe('GET /domains/{domain}/stats', () => {
  it('counts what was sent, completed and parked, in the documented shape, with a series', { timeout: 240_000 }, async () => {
    const before = await s.client!.stats({ domain: 'test', from, to: to() });
    const ok = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const bad = crypto.randomUUID();
    await s.behaviours.create(bad, { type: 'fail_permanent', error_code: 'STATS_NOPE' });
    for (const commandId of [...ok, bad]) await s.send({ commandId });
    await Promise.all(ok.map((id) => s.waitForCompletion(id)));
    await s.waitForStatus(bad, CommandStatus.IN_TSQ);

    const after = await waitFor(
      'the stats to count our commands',
      async () => {
        const report: StatsReport = await s.client!.stats({ domain: 'test', from, to: to(), series: 'minute' });
        return report.totals.sent >= before.totals.sent + 4 &&
          report.totals.completed >= before.totals.completed + 3 &&
          report.totals.parked >= before.totals.parked + 1 &&
          // Other suites cancel and retry parked commands of this domain meanwhile: per-status counts
          // may move either way, but commands are never removed, so the total only grows.
          report.total >= before.total + 4
          ? report
          : undefined;
      },
      // On a deployed stack the stream is batched for up to 30 s (statsBatchingWindow); locally 1 s.
      (target() as { where?: string }).where === 'remote' ? 180_000 : 30_000,
    );
    expect(after.total).toBe(Object.values(after.counts).reduce((a, b) => a + b, 0));
    expect(after.series?.granularity).toBe('minute');
    expect(after.series?.points.reduce((sum, point) => sum + point.sent, 0)).toBe(after.totals.sent);
    expect(after.totals.latencyP50Ms).toBeGreaterThan(0);
    expect(after.asOf).toBeDefined();

    const response = await s.client!.fetch('GET', `/domains/test/stats?from=${encodeURIComponent(from)}&series=hour`);
    expect(response.status).toBe(200);
    const body: unknown = await response.json();
    expect(() => DomainStats.parse(body)).not.toThrow();
  });

  it('pages one status through the minutes the stats point to (GET /domains/{domain}/statuses/{status}/commands)', { timeout: 120_000 }, async () => {
    const cancelled = crypto.randomUUID();
    await s.behaviours.create(cancelled, { type: 'fail_permanent', error_code: 'STATS_CANCEL' });
    await s.send({ commandId: cancelled });
    await s.waitForStatus(cancelled, CommandStatus.IN_TSQ);
    await s.client!.operatorCancel({ domain: 'test', commandId: cancelled, reason: 'by status' });
    const found = await waitFor(
      'the cancelled command in its status page',
      async () => {
        let cursor: string | undefined;
        do {
          const page = await s.client!.queryByStatus({ domain: 'test', status: CommandStatus.CANCELLED, from, limit: 100, ...(cursor ? { cursor } : {}) });
          expect(page.items.every((command) => command.status === CommandStatus.CANCELLED)).toBe(true);
          const match = page.items.find((command) => command.commandId === cancelled);
          if (match) return match;
          cursor = page.nextCursor;
        } while (cursor);
        return undefined;
      },
      (target() as { where?: string }).where === 'remote' ? 180_000 : 30_000,
    );
    expect(found.status).toBe(CommandStatus.CANCELLED);
    const refused = await s.client!.fetch('GET', '/domains/test/statuses/DONE/commands');
    expect(refused.status).toBe(400);
  });

  it('refuses a series of more than 1,500 points and a window that ends before it starts', async () => {
    const series = await s.client!.fetch('GET', '/domains/test/stats?from=2020-01-01T00:00:00Z&to=2020-03-01T00:00:00Z&series=minute');
    expect(series.status).toBe(400);
    expect(await series.json()).toMatchObject({ error: { field: 'series' } });
    const window = await s.client!.fetch('GET', '/domains/test/stats?from=2020-01-02&to=2020-01-01');
    expect(window.status).toBe(400);
  });
});
