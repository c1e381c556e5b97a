import { describe, expect, it } from 'vitest';
import { ShardSettingsCache } from '../../../../src/adapters/dynamodb/ShardSettingsCache.ts';
import type { StoredShardSettings } from '../../../../src/domain/shards.ts';

const settings = (writeShards: number, readShards: number): StoredShardSettings => ({
  writeShards,
  previousWriteShards: writeShards,
  writeShardsFrom: '2000-01-01T00:00:00.000Z',
  readShards,
  updatedAt: '2000-01-01T00:00:00.000Z',
  updatedBy: 'ops',
  version: 1,
});

function world(initial: StoredShardSettings | undefined) {
  let now = 1_000_000;
  let stored = initial;
  const loads: string[] = [];
  const cache = new ShardSettingsCache(
    async (domain) => {
      loads.push(domain);
      return stored;
    },
    60_000,
    () => now,
  );
  return {
    cache,
    loads,
    advance: (ms: number) => {
      now += ms;
    },
    store: (next: StoredShardSettings) => {
      stored = next;
    },
  };
}

describe('Class: ShardSettingsCache', () => {
  it('reads a domain once per TTL, however many writes and reads ask', async () => {
    // Prepare
    const { cache, loads, advance } = world(undefined);

    // Act
    const counts = await Promise.all([cache.writeShards('d'), cache.writeShards('d'), cache.readShards('d')]);
    advance(59_000);
    await cache.writeShards('d');
    await cache.readShards('d');

    // Assess
    expect(counts).toEqual([8, 8, 8]);
    expect(loads).toEqual(['d']);
  });

  it('gives writers the copy it has past the TTL (refreshing it behind them), and makes readers wait for a fresh one', async () => {
    // Prepare
    const { cache, loads, advance, store } = world(settings(8, 8));
    await cache.writeShards('d');
    store(settings(32, 32));
    advance(61_000);

    // Act
    const writer = await cache.writeShards('d');
    const reader = await cache.readShards('d');

    // Assess
    expect(writer).toBe(8);
    expect(reader).toBe(32);
    expect(loads).toEqual(['d', 'd']);
    expect(await cache.writeShards('d')).toBe(32);
  });

  it('uses what this process wrote at once', async () => {
    // Prepare
    const { cache, loads } = world(undefined);
    await cache.readShards('d');

    // Act
    cache.remember('d', settings(16, 16));

    // Assess
    expect(await cache.readShards('d')).toBe(16);
    expect(await cache.writeShards('d')).toBe(16);
    expect(loads).toEqual(['d']);
  });

  it('keeps what this process wrote when a read started before it answers after it', async () => {
    // Prepare: a slow read of the old settings is under way.
    let answer: (stored: StoredShardSettings | undefined) => void = () => {};
    const cache = new ShardSettingsCache(
      () =>
        new Promise((resolve) => {
          answer = resolve;
        }),
      60_000,
      () => 1_000,
    );
    const reading = cache.readShards('d');

    // Act
    cache.remember('d', settings(32, 32));
    answer(undefined);

    // Assess
    expect(await reading).toBe(32);
    expect(await cache.writeShards('d')).toBe(32);
  });
});
