import { createHash } from 'node:crypto';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../errors.ts';
import { INDEX_SHARDS } from '../../resources.ts';
import { shardKey, shardOf } from './keys.ts';

type Item = Record<string, unknown>;

/** Per shard: null = not read yet, a sort key = read up to and including it, true = finished. */
type ShardCursor = (string | null | true)[];

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
 * The cursor records, per shard, the last entry handed out, so no entry is skipped or repeated. It
 * is bound to the query it was issued for (index, domain, range and filters, hashed), and every
 * position in it is checked before it becomes an ExclusiveStartKey: a cursor that was crafted, or
 * issued for another query, is a ValidationError, never a request DynamoDB refuses.
 */
export class ShardedIndexReader {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly index: IndexSpec;
  /** Rebuilds the table key of an index entry from its sort key (needed for ExclusiveStartKey). */
  private readonly tableKeyOf: (sortKey: string, domain: string) => Item;

  constructor(client: DynamoDBDocumentClient, tableName: string, index: IndexSpec, tableKeyOf: (sortKey: string, domain: string) => Item) {
    this.client = client;
    this.tableName = tableName;
    this.index = index;
    this.tableKeyOf = tableKeyOf;
  }

  async page(domain: string, scope: PageScope, limit: number, cursor?: string): Promise<ShardedPage> {
    const range = { from: scope.from ?? '0', to: scope.to ?? '~' };
    const binding = this.binding(domain, scope);
    const state = cursor === undefined ? new Array<string | null | true>(INDEX_SHARDS).fill(null) : decodeCursor(cursor, binding, range);
    const fetched = await Promise.all(
      state.map(async (position, shard) => {
        if (position === true) return { shard, items: [] as Item[], more: false };
        const pk = shardKey(domain, shard);
        const response = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: this.index.indexName,
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
            ExpressionAttributeNames: { '#pk': this.index.partitionKey, '#sk': this.index.sortKey },
            ExpressionAttributeValues: { ':pk': pk, ':lo': range.from, ':hi': range.to },
            ScanIndexForward: false,
            Limit: limit,
            ...(position === null
              ? {}
              : {
                  ExclusiveStartKey: {
                    [this.index.partitionKey]: pk,
                    [this.index.sortKey]: position,
                    ...this.tableKeyOf(position, domain),
                  },
                }),
          }),
        );
        return { shard, items: response.Items ?? [], more: response.LastEvaluatedKey !== undefined };
      }),
    );

    const merged = fetched
      .flatMap(({ shard, items }) => items.map((item) => ({ shard, item, sortKey: item[this.index.sortKey] as string })))
      .sort((a, b) => (a.sortKey < b.sortKey ? 1 : a.sortKey > b.sortKey ? -1 : 0))
      .slice(0, limit);

    const next: ShardCursor = [...state];
    for (const { shard, sortKey } of merged) next[shard] = sortKey;
    for (const { shard, items, more } of fetched) {
      const allTaken = items.length === 0 || next[shard] === items[items.length - 1]![this.index.sortKey];
      if (!more && allTaken) next[shard] = true;
    }
    const finished = next.every((position) => position === true);
    return { items: merged.map((entry) => entry.item), ...(finished ? {} : { cursor: encodeCursor(next, binding) }) };
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

const CURSOR_VERSION = 2;

function encodeCursor(cursor: ShardCursor, binding: string): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, q: binding, s: cursor })).toString('base64url');
}

/** The positions of a cursor issued for this query, each checked; a ValidationError otherwise. */
function decodeCursor(cursor: string, binding: string, range: { from: string; to: string }): ShardCursor {
  const invalid = (why: string) => new ValidationError('cursor', `is not a cursor returned by this API (${why}); start again without one`);
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid('not base64url text of the right size');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  const { v, q, s } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { v?: unknown; q?: unknown; s?: unknown };
  if (v !== CURSOR_VERSION || typeof q !== 'string' || !Array.isArray(s) || s.length !== INDEX_SHARDS) throw invalid('unknown version or shape');
  if (q !== binding) {
    throw new ValidationError(
      'cursor',
      'was issued for another query (another domain, status, command type, error code, error type or time range); start again without one',
    );
  }
  s.forEach((position: unknown, shard) => {
    if (position === null || position === true) return;
    if (typeof position !== 'string' || !SORT_KEY.test(position)) throw invalid(`position ${shard} is not an index key`);
    if (position < range.from || position > range.to) throw invalid(`position ${shard} is outside the query's time range`);
    if (shardOf(position.slice(position.lastIndexOf('#') + 1)) !== shard) throw invalid(`position ${shard} belongs to another shard`);
  });
  if (s.every((position) => position === true)) throw invalid('it says every shard is finished, and no such cursor is issued');
  return s as ShardCursor;
}
