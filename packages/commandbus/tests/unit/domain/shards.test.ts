import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.ts';
import { changeShardCount, shardSettingsView, validateShardCount, writeShardsAt, type StoredShardSettings } from '../../../src/domain/shards.ts';

const T0 = Date.parse('2026-11-25T12:00:00.000Z');
const MINUTE = 60_000;

describe('Function: changeShardCount', () => {
  it('raises the read count at once and the write count only after the delay', () => {
    // Act
    const next = changeShardCount(undefined, { shards: 32, operator: 'ops', now: T0, delayMs: 2 * MINUTE });

    // Assess
    expect(next).toEqual({
      writeShards: 32,
      previousWriteShards: 8,
      writeShardsFrom: '2026-11-25T12:02:00.000Z',
      readShards: 32,
      updatedAt: '2026-11-25T12:00:00.000Z',
      updatedBy: 'ops',
      version: 1,
    });
    expect(writeShardsAt(next, T0 + 2 * MINUTE - 1)).toBe(8);
    expect(writeShardsAt(next, T0 + 2 * MINUTE)).toBe(32);
    expect(shardSettingsView('d', next, T0)).toMatchObject({ writeShards: 8, readShards: 32, pending: { writeShards: 32, from: '2026-11-25T12:02:00.000Z' } });
    expect(shardSettingsView('d', next, T0 + 3 * MINUTE)).not.toHaveProperty('pending');
  });

  it('lowers the write count only: readers keep every shard ever written to', () => {
    // Prepare
    const raised = changeShardCount(undefined, { shards: 64, operator: 'ops', now: T0, delayMs: 2 * MINUTE });

    // Act
    const lowered = changeShardCount(raised, { shards: 16, operator: 'ops', now: T0 + 10 * MINUTE, delayMs: 2 * MINUTE });

    // Assess
    expect(lowered).toMatchObject({ writeShards: 16, previousWriteShards: 64, readShards: 64, version: 2 });
    expect(writeShardsAt(lowered, T0 + 11 * MINUTE)).toBe(64);
    expect(writeShardsAt(lowered, T0 + 12 * MINUTE)).toBe(16);
  });

  it('switches from the count in effect when a change comes while another is pending, and keeps the larger read count', () => {
    // Prepare
    const first = changeShardCount(undefined, { shards: 32, operator: 'a', now: T0, delayMs: 2 * MINUTE });

    // Act
    const second = changeShardCount(first, { shards: 16, operator: 'b', now: T0 + MINUTE, delayMs: 2 * MINUTE });

    // Assess: the pending 32 never takes effect; 8 until 12:03, then 16; readers still read 32.
    expect(second).toMatchObject({ writeShards: 16, previousWriteShards: 8, writeShardsFrom: '2026-11-25T12:03:00.000Z', readShards: 32 });
  });

  it('keeps a pending change pending when the same count is asked for again', () => {
    // Prepare
    const first = changeShardCount(undefined, { shards: 32, operator: 'a', now: T0, delayMs: 2 * MINUTE });

    // Act
    const again = changeShardCount(first, { shards: 32, operator: 'b', now: T0 + MINUTE, delayMs: 2 * MINUTE });

    // Assess
    expect(again).toMatchObject({ writeShards: 32, previousWriteShards: 8, writeShardsFrom: first.writeShardsFrom, updatedBy: 'b', version: 2 });
  });

  it('has the default of 8 for writers and readers when there are no settings', () => {
    // Act
    const stored: StoredShardSettings | undefined = undefined;

    // Assess
    expect(writeShardsAt(stored, T0)).toBe(8);
    expect(shardSettingsView('d', stored, T0)).toEqual({ domain: 'd', writeShards: 8, readShards: 8 });
  });
});

describe('Function: validateShardCount', () => {
  it.each([0, -1, 257, 1.5, Number.NaN, '8', null, undefined])('refuses %s with a ValidationError on shards', (value) => {
    // Act
    const attempt = () => validateShardCount(value);

    // Assess
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/^shards: must be an integer from 1 to 256/);
  });

  it.each([1, 8, 128, 256])('accepts %s', (value) => {
    // Act, Assess
    expect(validateShardCount(value)).toBe(value);
  });
});
