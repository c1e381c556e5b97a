import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { INDEX_SHARDS } from '../../../../src/resources.ts';
import { shardKey, shardOf, timeSortKey } from '../../../../src/adapters/dynamodb/keys.ts';

/** Deterministic, realistic-looking v4 UUIDs (no Math.random, so the spread check never flakes). */
function uuidFromSeed(seed: number): string {
  const hex = createHash('sha256').update(`seed-${seed}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Reference FNV-1a (32-bit) over UTF-8 bytes, as another language would compute it. */
function referenceFnv1a(text: string): number {
  let hash = 0x811c9dc5n;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= BigInt(byte);
    hash = (hash * 0x01000193n) & 0xffffffffn;
  }
  return Number(hash);
}

describe('Function: shardOf', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    // Prepare: FNV-1a("") = 0x811c9dc5, ("a") = 0xe40c292c, ("foobar") = 0xbf9cf968
    const inputs = ['', 'a', 'foobar'];

    // Act
    const shards = inputs.map((input) => shardOf(input));

    // Assess
    expect(INDEX_SHARDS).toBe(8);
    expect(shards).toEqual([0x811c9dc5 % 8, 0xe40c292c % 8, 0xbf9cf968 % 8]);
    expect(shards).toEqual([5, 4, 0]);
  });

  it('agrees with a byte-wise FNV-1a for UUIDs, so other languages compute the same shard', () => {
    // Prepare
    const ids = Array.from({ length: 200 }, (_, i) => uuidFromSeed(i));

    // Act
    const shards = ids.map((id) => shardOf(id));

    // Assess
    expect(shards).toEqual(ids.map((id) => referenceFnv1a(id) % INDEX_SHARDS));
  });

  it('returns the same shard for the same id every time', () => {
    // Prepare
    const id = '6f1c2a4e-8b7d-4c3a-9e5f-0a1b2c3d4e5f';

    // Act
    const shards = Array.from({ length: 5 }, () => shardOf(id));

    // Assess
    expect(new Set(shards).size).toBe(1);
    expect(shards[0]).toBe(referenceFnv1a(id) % INDEX_SHARDS);
  });

  it('spreads many UUIDs over every shard, each within 15% of an even share', () => {
    // Prepare
    const count = 8000;
    const perShard = new Array<number>(INDEX_SHARDS).fill(0);
    const outOfRange: number[] = [];

    // Act
    for (let i = 0; i < count; i++) {
      const shard = shardOf(uuidFromSeed(i));
      if (Number.isInteger(shard) && shard >= 0 && shard < INDEX_SHARDS) perShard[shard]!++;
      else outOfRange.push(shard);
    }

    // Assess
    const even = count / INDEX_SHARDS;
    expect(outOfRange).toEqual([]);
    expect(perShard.filter((n) => n === 0)).toEqual([]);
    for (const n of perShard) {
      expect(n).toBeGreaterThan(even * 0.85);
      expect(n).toBeLessThan(even * 1.15);
    }
  });
});

describe('Function: shardKey', () => {
  it('joins domain and shard with #', () => {
    // Prepare
    const domain = 'payments';

    // Act
    const key = shardKey(domain, 3);

    // Assess
    expect(key).toBe('payments#3');
  });
});

describe('Function: timeSortKey', () => {
  it('puts the timestamp first so keys sort by time, then by commandId', () => {
    // Prepare
    const earlier = timeSortKey('2024-05-01T10:00:00.000Z', 'ffffffff-0000-4000-8000-000000000000');
    const later = timeSortKey('2024-05-01T10:00:01.000Z', '00000000-0000-4000-8000-000000000000');

    // Act
    const sorted = [later, earlier].sort();

    // Assess
    expect(earlier).toBe('2024-05-01T10:00:00.000Z#ffffffff-0000-4000-8000-000000000000');
    expect(sorted).toEqual([earlier, later]);
  });
});
