/**
 * The StatsStore contract: per-shard watermarks make every change record count once per stats item,
 * whatever the batch boundaries. Runs against the in-memory twin (unit: statsStore.twin.test.ts) and
 * against DynamoStatsStore on DynamoDB Local (e2e/stats.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { type ChangeRecord, planBatch, planWindow, mergeInto, statusCountsOf } from '../../src/domain/stats.ts';
import type { StatsStore } from '../../src/ports/StatsStore.ts';

export interface StatsWorld {
  stats: StatsStore;
  /** A domain no other test writes to. */
  domain: string;
}

const T0 = Date.UTC(2026, 2, 1, 10, 0);
const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();

/** A command created at minute `minute`, sent then completed 1 s later: two records. */
export function completedCommand(domain: string, id: string, minute: number, seq: () => string): ChangeRecord[] {
  const created = at(minute);
  const done = new Date(Date.parse(created) + 1000).toISOString();
  const sent = { pk: id, sk: domain, status: 'PENDING', createdAt: created, events: [{ e: 'SENT', t: created }] };
  const completed = { ...sent, status: 'COMPLETED', events: [...sent.events, { e: 'RECEIVED', t: created }, { e: 'COMPLETED', t: done }] };
  return [
    { sequenceNumber: seq(), eventName: 'INSERT', newImage: sent },
    { sequenceNumber: seq(), eventName: 'MODIFY', oldImage: sent, newImage: completed },
  ];
}

function sequence(start = 100): () => string {
  let n = start;
  return () => String(n++);
}

async function total(world: StatsWorld, from: number, to: number) {
  const items = await world.stats.read(planWindow(world.domain, T0 + from * 60_000, T0 + to * 60_000));
  const sum: Record<string, number> = {};
  for (const item of items) mergeInto(sum, item.counters);
  return { sum, counts: statusCountsOf(sum) };
}

export function describeStatsStoreContract(name: string, world: () => StatsWorld | Promise<StatsWorld>): void {
  describe(`StatsStore contract: ${name}`, () => {
    it('applies a batch and reads the window back, minutes, hours and days alike', async () => {
      const w = await world();
      const seq = sequence();
      const records = [
        ...completedCommand(w.domain, 'a', 0, seq),
        ...completedCommand(w.domain, 'b', 61, seq),
        ...completedCommand(w.domain, 'c', 24 * 60 + 5, seq),
      ];
      const result = await w.stats.applyUpdates('shard-1', planBatch(records));
      expect(result.written).toBeGreaterThan(0);
      expect((await total(w, 0, 1)).sum.sent).toBe(1);
      expect((await total(w, 0, 62)).sum.sent).toBe(2);
      expect((await total(w, -30, 2 * 24 * 60)).counts.COMPLETED).toBe(3);
      expect((await total(w, 2, 61)).sum.sent ?? 0).toBe(0);
    });

    it('counts a batch applied twice once', async () => {
      const w = await world();
      const seq = sequence();
      const updates = planBatch([...completedCommand(w.domain, 'a', 3, seq), ...completedCommand(w.domain, 'b', 4, seq)]);
      await w.stats.applyUpdates('shard-1', updates);
      const again = await w.stats.applyUpdates('shard-1', updates);
      expect(again.written).toBe(0);
      expect(again.skipped).toBe(updates.length);
      expect((await total(w, 0, 10)).sum).toMatchObject({ sent: 2, completed: 2, sCOMPLETED: 2 });
    });

    it('counts each record once when the same shard is read again in other batches, and counts every shard', async () => {
      const w = await world();
      const seq = sequence(8);
      // Sequence numbers of different lengths: compared as numbers.
      const records = Array.from({ length: 6 }, (_, i) => completedCommand(w.domain, `c${i}`, 7, seq)).flat();
      await w.stats.applyUpdates('shard-1', planBatch(records.slice(0, 5)));
      await w.stats.applyUpdates('shard-1', planBatch(records.slice(2, 9)));
      await w.stats.applyUpdates('shard-1', planBatch(records));
      await w.stats.applyUpdates('shard-2', planBatch(completedCommand(w.domain, 'other', 7, sequence(1))));
      expect((await total(w, 7, 8)).sum).toMatchObject({ sent: 7, completed: 7, sCOMPLETED: 7 });
      expect((await total(w, 7, 8)).counts.PENDING).toBe(0);
    });
  });
}
