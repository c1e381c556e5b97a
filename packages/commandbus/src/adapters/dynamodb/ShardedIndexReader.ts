import { createHash } from 'node:crypto';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../errors.ts';
import { shardKey, shardOf } from './keys.ts';

type Item = Record<string, unknown>;

/**
 * Where a listing stands: every entry sorting after it (the last one handed out) was handed out, in
 * every shard. Its meaning does not depend on the shard count, so a cursor survives a change of it:
 * every shard, whenever it came to be read, goes on strictly after it. (No shard is remembered as
 * finished: an entry may still be written below the position into any shard — a worker recording a
 * late message with its send time — and a later page must not skip it.)
 */
type Position = string;

export interface IndexSpec {
  indexName: string;
  partitionKey: string;
  sortKey: string;
}

export interface ShardedPage {
  items: Item[];
  cursor?: string;
}

/** What a query reads besides the index and domain: its time range and the filters applied to it. */
export interface PageScope {
  from?: string;
  to?: string;
  /** Filters applied to the entries (command type, status, error code and type): a cursor is only valid with the same. */
  filters?: Record<string, string | undefined>;
}

/** Longest cursor accepted: every shard's position at its longest, encoded. */
const MAX_CURSOR_LENGTH = 16 * 1024;
/** `<timestamp as toISOString writes it>#<commandId>`, as keys.ts's timeSortKey writes them. */
const SORT_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[^#]{1,1000}$/;

/**
 * Reads one domain's entries of a sharded index newest first, merging the shards into one order.
 * The cursor records the last entry handed out (the boundary: sort keys are unique within a domain,
 * and the merge hands out everything above it), so no entry is skipped or repeated, and it means the
 * same whatever the shard count: every shard is read from below the boundary. Version 2 cursors (a
 * position per shard of 8) are read as their lowest position. It
 * is bound to the query it was issued for (index, domain, range and filters, hashed), and its
 * position is checked before it becomes a key condition: a cursor that was crafted, or
 * issued for another query, is a ValidationError, never a request DynamoDB refuses.
 */
export class ShardedIndexReader {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly index: IndexSpec;

  constructor(client: DynamoDBDocumentClient, tableName: string, index: IndexSpec) {
    this.client = client;
    this.tableName = tableName;
    this.index = index;
  }

  /** One page of `limit` entries at most, newest first, over shards 0 … `shards` − 1. */
  async page(domain: string, scope: PageScope, limit: number, cursor: string | undefined, shards: number): Promise<ShardedPage> {
    const range = { from: scope.from ?? '0', to: scope.to ?? '~' };
    const binding = this.binding(domain, scope);
    const boundary: Position | null = cursor === undefined ? null : decodeCursor(cursor, binding, range);
    const fetched = await Promise.all(
      Array.from({ length: shards }, (_, shard) => shard).map(async (shard) => {
        const pk = shardKey(domain, shard);
        const response = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: this.index.indexName,
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
            ExpressionAttributeNames: { '#pk': this.index.partitionKey, '#sk': this.index.sortKey },
            // Up to the boundary, in every shard: the key condition, not an ExclusiveStartKey (the
            // boundary's entry is in one shard only). BETWEEN includes it: one more is read, and it is dropped.
            ExpressionAttributeValues: { ':pk': pk, ':lo': range.from, ':hi': boundary ?? range.to },
            ScanIndexForward: false,
            Limit: boundary === null ? limit : limit + 1,
          }),
        );
        const items = (response.Items ?? []).filter((item) => item[this.index.sortKey] !== boundary);
        return { shard, items, more: response.LastEvaluatedKey !== undefined };
      }),
    );

    const merged = fetched
      .flatMap(({ items }) => items.map((item) => ({ item, sortKey: item[this.index.sortKey] as string })))
      .sort((a, b) => (a.sortKey < b.sortKey ? 1 : a.sortKey > b.sortKey ? -1 : 0))
      .slice(0, limit);
    const next = merged[merged.length - 1]?.sortKey ?? boundary;
    // Done when no shard has more and everything they returned was handed out.
    const done =
      next === null || fetched.every(({ items, more }) => !more && (items.length === 0 || (items[items.length - 1]![this.index.sortKey] as string) >= next));
    return { items: merged.map((entry) => entry.item), ...(done ? {} : { cursor: encodeCursor(next, binding) }) };
  }

  /** A short hash of what the cursor's positions mean: the index, the domain, the range, the filters. */
  private binding(domain: string, scope: PageScope): string {
    const filters = Object.entries(scope.filters ?? {})
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const query = JSON.stringify([this.index.indexName, domain, scope.from ?? null, scope.to ?? null, filters]);
    return createHash('sha256').update(query).digest('base64url').slice(0, 16);
  }
}

const CURSOR_VERSION = 3;
/** Cursors of the per-shard kind (8 shards), still accepted: their lowest position is the boundary. */
const LEGACY_CURSOR_VERSION = 2;
const LEGACY_SHARDS = 8;

function encodeCursor(boundary: Position, binding: string): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, q: binding, b: boundary })).toString('base64url');
}

/** The position of a cursor issued for this query, every part checked; a ValidationError otherwise. */
function decodeCursor(cursor: string, binding: string, range: { from: string; to: string }): Position {
  const invalid = (why: string) => new ValidationError('cursor', `is not a cursor returned by this API (${why}); start again without one`);
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid('not base64url text of the right size');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  const { v, q, b, s } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { v?: unknown; q?: unknown; b?: unknown; s?: unknown };
  const current = v === CURSOR_VERSION && typeof b === 'string';
  const legacy = v === LEGACY_CURSOR_VERSION && Array.isArray(s) && s.length === LEGACY_SHARDS;
  if (typeof q !== 'string' || !(current || legacy)) throw invalid('unknown version or shape');
  if (q !== binding) {
    throw new ValidationError(
      'cursor',
      'was issued for another query (another domain, status, command type, correlation id, error code, error type or time range); start again without one',
    );
  }
  const checkKey = (key: unknown, what: string): string => {
    if (typeof key !== 'string' || !SORT_KEY.test(key)) throw invalid(`${what} is not an index key`);
    if (key < range.from || key > range.to) throw invalid(`${what} is outside the query's time range`);
    return key;
  };
  if (legacy) {
    // Per shard: null = nothing handed out yet, a key = the last handed out, true = finished.
    let finished = 0;
    const keys: string[] = [];
    (s as unknown[]).forEach((position, shard) => {
      if (position === true) finished++;
      else if (position !== null) {
        const key = checkKey(position, `position ${shard}`);
        if (shardOf(key.slice(key.lastIndexOf('#') + 1), LEGACY_SHARDS) !== shard) throw invalid(`position ${shard} belongs to another shard`);
        keys.push(key);
      }
    });
    if (keys.length === 0) throw invalid(finished === LEGACY_SHARDS ? 'it says every shard is finished, and no such cursor is issued' : 'it has no position');
    return keys.sort()[0]!;
  }
  return checkKey(b, 'its position');
}
