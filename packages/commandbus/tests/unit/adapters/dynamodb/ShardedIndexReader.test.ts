import type { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/errors.ts';
import { INDEX_SHARDS } from '../../../../src/resources.ts';
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
  const reader = new ShardedIndexReader(client, 'table', index, (sortKey, domain) => ({ pk: sortKey.slice(sortKey.lastIndexOf('#') + 1), sk: domain }));
  return { reader, sent };
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v: number; q: string; s: (string | null | true)[] };

describe('Class: ShardedIndexReader', () => {
  describe('Method: page', () => {
    it('continues from a cursor it issued for the same query, whatever the page size', async () => {
      // Prepare
      const { reader, sent } = fakeIndex();
      const scope = { from: '2026-01-01T00:00:00.000Z', filters: { commandType: 'T' } };
      const first = await reader.page('test', scope, 2, undefined);
      sent.length = 0;

      // Act
      await reader.page('test', { ...scope, filters: { commandType: 'T', status: undefined } }, 5, first.cursor);

      // Assess
      const starts = sent.map((input) => input.ExclusiveStartKey?.gsi1sk).filter((key) => key !== undefined);
      expect(starts).toHaveLength(2);
    });

    it.each([
      ['another domain', 'other', {}],
      ['another command type', 'test', { filters: { commandType: 'Other' } }],
      ['another status', 'test', { filters: { commandType: 'T', status: 'PENDING' } }],
      ['another start', 'test', { from: '2025-01-01T00:00:00.000Z', filters: { commandType: 'T' } }],
      ['another end', 'test', { to: '2027-01-01T00:00:00.000Z', filters: { commandType: 'T' } }],
    ])('refuses a cursor issued for another query (%s) before reading anything', async (_, domain, scope) => {
      // Prepare
      const { reader, sent } = fakeIndex();
      const { cursor } = await reader.page('test', { filters: { commandType: 'T' } }, 2, undefined);
      sent.length = 0;

      // Act
      const attempt = reader.page(domain, scope, 2, cursor);

      // Assess
      await expect(attempt).rejects.toThrow(/^cursor: was issued for another query/);
      expect(sent).toHaveLength(0);
    });

    it('refuses crafted cursors, naming the cursor, before reading anything', async () => {
      // Prepare
      const { reader, sent } = fakeIndex();
      const { cursor } = await reader.page('test', {}, 2, undefined);
      const issued = decode(cursor!);
      const at = (shard: number, position: unknown) => encode({ ...issued, s: issued.s.map((p, n) => (n === shard ? position : p)) });
      const shardOfId = (shard: number) =>
        `00000000-0000-4000-8000-${String([...Array(64).keys()].find((n) => shardOf(`00000000-0000-4000-8000-${String(n).padStart(12, '0')}`) === shard)).padStart(12, '0')}`;
      const crafted = [
        'not base64!',
        encode('just a string'),
        encode({ v: 1, s: ['#', null, null, null, null, null, null, null] }),
        encode({ ...issued, s: [null] }),
        encode({ ...issued, s: new Array(INDEX_SHARDS).fill(true) }),
        at(0, '#'),
        at(0, 42),
        at(0, `2026-01-01T00:00:00.000Z#`),
        at(0, `2026-13-01#${shardOfId(0)}`),
        at(0, `2026-01-01T00:00:00.000Z#${shardOfId(1)}`),
        'A'.repeat(20_000),
      ];
      sent.length = 0;

      // Act
      const results = await Promise.allSettled(crafted.map((value) => reader.page('test', {}, 2, value)));

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
      const { cursor } = await reader.page('test', scope, 2, undefined);
      const issued = decode(cursor!);
      const shard = issued.s.findIndex((position) => typeof position === 'string');
      const id = (issued.s[shard] as string).split('#')[1];

      // Act
      const attempt = reader.page('test', scope, 2, encode({ ...issued, s: issued.s.map((p, n) => (n === shard ? `2026-01-05T00:00:00.000Z#${id}` : p)) }));

      // Assess
      await expect(attempt).rejects.toThrow(/outside the query's time range/);
    });
  });
});
