/**
 * A domain's index shard count (see docs/data-model.md, "Shards"): how many partition key values its
 * `byTime` and `tsq` index entries and its TSQ group counters are spread over. Pure: the rules of a
 * change; the store keeps the settings and caches them.
 *
 * Writers (a send's insert, the worker's upsert, a park, a group counter) use the *write* count in
 * effect at the time of the write; readers query every shard up to the *read* count, the most ever
 * used, which never shrinks. A raise takes effect for readers at once and for writers only after a
 * delay longer than any process caches the settings, so no reader ever misses an entry and nothing
 * already written moves (old entries stay in their shards, all below the read count).
 */
import { ValidationError } from '../errors.ts';
import { INDEX_SHARDS, MAX_INDEX_SHARDS } from '../resources.ts';

/** How long a process keeps a domain's settings before reading them again (one GetItem per domain per period). */
export const SHARD_SETTINGS_TTL_MS = 60_000;

/**
 * How long after a change writers switch to the new count: more than SHARD_SETTINGS_TTL_MS, so every
 * reader has read the new read count before any writer uses it, with a minute to spare for clocks.
 */
export const SHARD_CHANGE_DELAY_MS = 120_000;

/** The settings as the store keeps them (absent for a domain never changed: INDEX_SHARDS throughout). */
export interface StoredShardSettings {
  /** The write count from `writeShardsFrom` on. */
  writeShards: number;
  /** The write count before `writeShardsFrom`. */
  previousWriteShards: number;
  /** ISO-8601: when writers switch from previousWriteShards to writeShards. */
  writeShardsFrom: string;
  /** Readers query shards 0 … readShards − 1: the most ever written to; never shrinks. */
  readShards: number;
  updatedAt: string;
  updatedBy: string;
  /** Bumped by every change; a change is written only over the version it was computed from. */
  version: number;
}

/** A domain's shard settings as callers see them. */
export interface ShardSettings {
  domain: string;
  /** The count writers use now. */
  writeShards: number;
  /** The count readers query: the most ever used. */
  readShards: number;
  /** A change writers have not switched to yet. */
  pending?: { writeShards: number; from: string };
  /** Absent for a domain never changed (the default, INDEX_SHARDS). */
  updatedAt?: string;
  updatedBy?: string;
}

export function defaultShardSettings(domain: string): ShardSettings {
  return { domain, writeShards: INDEX_SHARDS, readShards: INDEX_SHARDS };
}

/** The count writers use at `now` (ms since the epoch). */
export function writeShardsAt(stored: StoredShardSettings | undefined, now: number): number {
  if (!stored) return INDEX_SHARDS;
  return now >= Date.parse(stored.writeShardsFrom) ? stored.writeShards : stored.previousWriteShards;
}

export function readShardsOf(stored: StoredShardSettings | undefined): number {
  return stored?.readShards ?? INDEX_SHARDS;
}

export function shardSettingsView(domain: string, stored: StoredShardSettings | undefined, now: number): ShardSettings {
  if (!stored) return defaultShardSettings(domain);
  const writeShards = writeShardsAt(stored, now);
  return {
    domain,
    writeShards,
    readShards: stored.readShards,
    ...(writeShards === stored.writeShards ? {} : { pending: { writeShards: stored.writeShards, from: stored.writeShardsFrom } }),
    updatedAt: stored.updatedAt,
    updatedBy: stored.updatedBy,
  };
}

/** A shard count: an integer from 1 to MAX_INDEX_SHARDS; a ValidationError naming `shards` otherwise. */
export function validateShardCount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_INDEX_SHARDS) {
    throw new ValidationError('shards', `must be an integer from 1 to ${MAX_INDEX_SHARDS} (got ${JSON.stringify(value) ?? String(value)})`);
  }
  return value;
}

/**
 * The settings after a change to `shards` at `now`: readers at once (the read count only grows),
 * writers from `now + delayMs` (from the count in effect now). Asking for the count already set
 * changes nothing but the record of who asked.
 */
export function changeShardCount(
  current: StoredShardSettings | undefined,
  change: { shards: number; operator: string; now: number; delayMs: number },
): StoredShardSettings {
  const inEffect = writeShardsAt(current, change.now);
  const settled = current !== undefined && current.writeShards === change.shards;
  return {
    writeShards: change.shards,
    previousWriteShards: settled ? current.previousWriteShards : inEffect,
    writeShardsFrom: settled ? current.writeShardsFrom : new Date(change.now + change.delayMs).toISOString(),
    readShards: Math.max(readShardsOf(current), change.shards),
    updatedAt: new Date(change.now).toISOString(),
    updatedBy: change.operator,
    version: (current?.version ?? 0) + 1,
  };
}
