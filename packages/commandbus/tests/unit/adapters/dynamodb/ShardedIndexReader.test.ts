import type { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/errors.ts';
import { shardOf, timeSortKey } from '../../../../src/adapters/dynamodb/keys.ts';
import { ShardedIndexReader } from '../../../../src/adapters/dynamodb/ShardedIndexReader.ts';

const index = { indexName: 'byTime', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' };

/** Three entries per shard, each shard saying there is more; records every query it is sent. */
function fakeIndex() {
  const sent: QueryCommand['input'][] = [];
  const ids = Array.from({ length: 64 }, (_, n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`);
  const client = {
    send: async (command: QueryCommand) => {
      sent.push(command.input);
      const shard = Number(String(command.input.ExpressionAttributeValues![':pk']).split('#')[1]);
      const items = ids
        .filter((id) => shardOf(id) === shard)
        .slice(0, 3)
        .map((id, n) => ({ gsi1pk: `test#${shard}`, gsi1sk: timeSortKey(`2026-01-0${n + 1}T00:00:00.000Z`, id), pk: id, sk: 'test' }))
        .reverse();
      return { Items: items, LastEvaluatedKey: items.length > 0 ? { any: 1 } : undefined };
    },
  } as unknown as DynamoDBDocumentClient;
  const reader = new ShardedIndexReader(client, 'table', index);
  return { reader, sent };
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v: number; q: string; b: string };
/** The id of the n-th fake entry id that falls in `shard` of 8. */
const idInShard = (shard: number) =>
  `00000000-0000-4000-8000-${String([...Array(64).keys()].find((n) => shardOf(`00000000-0000-4000-8000-${String(n).padStart(12, '0')}`) === shard)).padStart(12, '0')}`;

describe('Class: ShardedIndexReader', () => {
  describe('Method: page', () => {
    it('continues from a cursor it issued for the same query, every shard up to the last entry handed out (dropped), one more read for it', async () => {
      // Prepare
      const { reader, sent } = fakeIndex();
      const scope = { from: '2026-01-01T00:00:00.000Z', filters: { commandType: 'T' } };
      const first = await reader.page('test', scope, 2, undefined, 8);
      const lastHandedOut = first.items[1]!.gsi1sk;
      sent.length = 0;

      // Act
      await reader.page('test', { ...scope, filters: { commandType: 'T', status: undefined } }, 5, first.cursor, 8);

      // Assess
      expect(sent).toHaveLength(8);
      expect(new Set(sent.map((input) => input.ExpressionAttributeValues![':hi']))).toEqual(new Set([lastHandedOut]));
      expect(sent.every((input) => input.ExclusiveStartKey === undefined && input.Limit === 6)).toBe(true);
    });

    it('reads every shard of a higher count with a cursor issued at a lower one, the new shards from the same boundary', async () => {
      // Prepare
      const { reader, sent } = fakeIndex();
      const first = await reader.page('test', {}, 3, undefined, 8);
      sent.length = 0;

      // Act
      await reader.page('test', {}, 3, first.cursor, 32);

      // Assess
      expect(sent.map((input) => input.ExpressionAttributeValues![':pk'])).toEqual(Array.from({ length: 32 }, (_, shard) => `test#${shard}`));
      expect(new Set(sent.map((input) => input.ExpressionAttributeValues![':hi']))).toEqual(new Set([first.items[2]!.gsi1sk]));
    });

    it('reads an exhausted shard again on the next page, so an entry written below the boundary since is listed', async () => {
      // Prepare: shard 0 empty at first; the other shards three entries each, none beyond.
      let late: Record<string, unknown> | undefined;
      const client = {
        send: async (command: QueryCommand) => {
          const input = command.input;
          const shard = Number(String(input.ExpressionAttributeValues![':pk']).split('#')[1]);
          const upTo = input.ExpressionAttributeValues![':hi'] as string;
          const items =
            shard === 0
              ? late
                ? [late]
                : []
              : [3, 2, 1].map((day) => ({
                  gsi1pk: `test#${shard}`,
                  gsi1sk: `2026-01-0${day}T00:00:0${shard}.000Z#${idInShard(shard)}`,
                  pk: idInShard(shard),
                  sk: 'test',
                }));
          const below = items.filter((item) => (item.gsi1sk as string) <= upTo).slice(0, input.Limit);
          return { Items: below };
        },
      } as unknown as DynamoDBDocumentClient;
      const reader = new ShardedIndexReader(client, 'table', index);
      const first = await reader.page('test', {}, 7, undefined, 8);
      late = { gsi1pk: 'test#0', gsi1sk: `2026-01-01T12:00:00.000Z#${idInShard(0)}`, pk: idInShard(0), sk: 'test' };

      // Act
      const rest = await reader.page('test', {}, 100, first.cursor, 8);

      // Assess
      expect(first.items).toHaveLength(7);
      expect(rest.items.map((item) => item.gsi1sk)).toContain(late.gsi1sk);
      expect(first.items.length + rest.items.length).toBe(22);
      expect(rest.cursor).toBeUndefined();
    });

    it('reads a version 2 cursor (a position per shard of 8) from its lowest position, in every shard', async () => {
      // Prepare
      const { reader, sent } = fakeIndex();
      const { cursor } = await reader.page('test', {}, 2, undefined, 8);
      const { q } = decode(cursor!);
      const low = `2026-01-01T00:00:00.000Z#${idInShard(2)}`;
      const high = `2026-01-03T00:00:00.000Z#${idInShard(5)}`;
      const legacy = encode({ v: 2, q, s: [true, null, low, null, null, high, null, true] });
      sent.length = 0;

      // Act
      await reader.page('test', {}, 2, legacy, 8);

      // Assess
      expect(sent.map((input) => input.ExpressionAttributeValues![':pk'])).toEqual(Array.from({ length: 8 }, (_, shard) => `test#${shard}`));
      expect(new Set(sent.map((input) => input.ExpressionAttributeValues![':hi']))).toEqual(new Set([low]));
    });

    it.each([
      ['another domain', 'other', {}],
      ['another command type', 'test', { filters: { commandType: 'Other' } }],
      ['another status', 'test', { filters: { commandType: 'T', status: 'PENDING' } }],
      ['another correlation id', 'test', { filters: { commandType: 'T', correlationId: 'c-1' } }],
      ['another start', 'test', { from: '2025-01-01T00:00:00.000Z', filters: { commandType: 'T' } }],
      ['another end', 'test', { to: '2027-01-01T00:00:00.000Z', filters: { commandType: 'T' } }],
    ])('refuses a cursor issued for another query (%s) before reading anything', async (_, domain, scope) => {
      // Prepare
      const { reader, sent } = fakeIndex();
      const { cursor } = await reader.page('test', { filters: { commandType: 'T' } }, 2, undefined, 8);
      sent.length = 0;

      // Act
      const attempt = reader.page(domain, scope, 2, cursor, 8);

      // Assess
      await expect(attempt).rejects.toThrow(/^cursor: was issued for another query/);
      expect(sent).toHaveLength(0);
    });

    it('refuses crafted cursors, naming the cursor, before reading anything', async () => {
      // Prepare
      const { reader, sent } = fakeIndex();
      const { cursor } = await reader.page('test', {}, 2, undefined, 8);
      const issued = decode(cursor!);
      const { q } = issued;
      const legacyAt = (shard: number, position: unknown) => encode({ v: 2, q, s: Array.from({ length: 8 }, (_, n) => (n === shard ? position : null)) });
      const crafted = [
        'not base64!',
        encode('just a string'),
        encode({ v: 1, s: ['#', null, null, null, null, null, null, null] }),
        encode({ ...issued, v: 4 }),
        encode({ ...issued, b: null }),
        encode({ ...issued, b: '#' }),
        encode({ ...issued, b: 42 }),
        encode({ ...issued, b: '2026-01-01T00:00:00.000Z#' }),
        encode({ ...issued, b: `2026-13-01#${idInShard(0)}` }),
        encode({ ...issued, b: undefined }),
        encode({ ...issued, q: 42 }),
        encode({ v: 2, q, s: [null] }),
        encode({ v: 2, q, s: new Array(8).fill(true) }),
        encode({ v: 2, q, s: new Array(8).fill(null) }),
        legacyAt(0, '#'),
        legacyAt(0, 42),
        legacyAt(0, `2026-13-01#${idInShard(0)}`),
        legacyAt(0, `2026-01-01T00:00:00.000Z#${idInShard(1)}`),
        'A'.repeat(20_000),
      ];
      sent.length = 0;

      // Act
      const results = await Promise.allSettled(crafted.map((value) => reader.page('test', {}, 2, value, 8)));

      // Assess
      for (const result of results) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ValidationError);
        expect(((result as PromiseRejectedResult).reason as ValidationError).field).toBe('cursor');
      }
      expect(sent).toHaveLength(0);
    });

    it('refuses a position outside the time range of the query', async () => {
      // Prepare
      const { reader } = fakeIndex();
      const scope = { from: '2026-01-02T00:00:00.000Z', to: '2026-01-03T00:00:00.000Z' };
      const { cursor } = await reader.page('test', scope, 2, undefined, 8);
      const issued = decode(cursor!);
      const id = issued.b.split('#')[1];

      // Act
      const attempt = reader.page('test', scope, 2, encode({ ...issued, b: `2026-01-05T00:00:00.000Z#${id}` }), 8);

      // Assess
      await expect(attempt).rejects.toThrow(/outside the query's time range/);
    });
  });
});
