import type { StatsItem, StatsItemUpdate, StatsRange } from '../domain/stats.ts';

/** What applying a batch's updates did. */
export interface StatsApplyResult {
  /** Stats items written. */
  written: number;
  /** Stats items the batch touched that had seen all of its records already (a batch delivered again). */
  skipped: number;
  /** Writes refused because another writer moved the item's watermark first (then read again and retried). */
  conflicts: number;
  /** Write capacity units the writes consumed, as DynamoDB reports them (0 where unknown). */
  writeUnits: number;
}

/**
 * Where the aggregated counts live (see docs/data-model.md, "Counts and rates"). Each stats item keeps,
 * per stream shard, the last sequence number applied to it; an update applies only the records after
 * it, with a write conditional on that watermark, so every record counts once per item whatever the
 * batch boundaries, retries or concurrent pollers.
 */
export interface StatsStore {
  /** Applies the updates of a batch of records from stream shard `shardId`. */
  applyUpdates(shardId: string, updates: readonly StatsItemUpdate[]): Promise<StatsApplyResult>;
  /** The stats items in the ranges (one Query each, paged to the end). */
  read(ranges: readonly StatsRange[]): Promise<StatsItem[]>;
}
