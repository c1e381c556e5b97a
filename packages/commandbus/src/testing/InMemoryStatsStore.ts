/**
 * An in-memory StatsStore that behaves like DynamoStatsStore: the same items (by pk and sk), the same
 * per-shard watermarks and the same "apply only what lies after the watermark" rule, held to it by
 * the contract suite in tests/contract. Writes are instant, so there are never conflicts.
 */
import { afterWatermark, mergeInto, startOf, type StatsItem, type StatsItemUpdate, type StatsRange } from '../domain/stats.ts';
import type { StatsApplyResult, StatsStore } from '../ports/StatsStore.ts';

interface Stored {
  pk: string;
  sk: string;
  counters: Record<string, number>;
  watermarks: Record<string, string>;
  lastEventAt?: string;
}

export class InMemoryStatsStore implements StatsStore {
  private readonly items = new Map<string, Stored>();

  async applyUpdates(shardId: string, updates: readonly StatsItemUpdate[]): Promise<StatsApplyResult> {
    const result: StatsApplyResult = { written: 0, skipped: 0, conflicts: 0, writeUnits: 0 };
    for (const update of updates) {
      const id = `${update.key.pk}\u0000${update.key.sk}`;
      const item = this.items.get(id) ?? { pk: update.key.pk, sk: update.key.sk, counters: {}, watermarks: {} };
      const fresh = afterWatermark(update, item.watermarks[shardId]);
      if (!fresh) {
        result.skipped++;
        continue;
      }
      mergeInto(item.counters, fresh.delta);
      item.watermarks[shardId] = fresh.sequenceNumber;
      if (item.lastEventAt === undefined || fresh.eventTime > item.lastEventAt) item.lastEventAt = fresh.eventTime;
      this.items.set(id, item);
      result.written++;
    }
    return result;
  }

  async read(ranges: readonly StatsRange[]): Promise<StatsItem[]> {
    const out: StatsItem[] = [];
    for (const range of ranges) {
      const matching = [...this.items.values()]
        .filter((item) => item.pk === range.pk && item.sk >= range.skFrom && item.sk <= range.skTo)
        .sort((a, b) => (a.sk < b.sk ? -1 : 1));
      for (const item of matching) {
        out.push({
          ...startOf(item.pk, item.sk),
          counters: { ...item.counters },
          ...(item.lastEventAt === undefined ? {} : { lastEventAt: item.lastEventAt }),
        });
      }
    }
    return out;
  }
}
