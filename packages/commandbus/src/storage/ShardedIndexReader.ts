import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.ts';
import { INDEX_SHARDS } from '../resources.ts';
import { shardKey } from './keys.ts';

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

/**
 * Reads one domain's entries of a sharded index newest first, merging the shards into one order.
 * The cursor records, per shard, the last entry handed out, so no entry is skipped or repeated.
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

  async page(domain: string, range: { from?: string; to?: string }, limit: number, cursor?: string): Promise<ShardedPage> {
    const state = cursor === undefined ? new Array<string | null | true>(INDEX_SHARDS).fill(null) : decodeCursor(cursor);
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
            ExpressionAttributeValues: { ':pk': pk, ':lo': range.from ?? '0', ':hi': range.to ?? '~' },
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
    return { items: merged.map((entry) => entry.item), ...(finished ? {} : { cursor: encodeCursor(next) }) };
  }
}

function encodeCursor(cursor: ShardCursor): string {
  return Buffer.from(JSON.stringify({ v: 1, s: cursor })).toString('base64url');
}

function decodeCursor(cursor: string): ShardCursor {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; s?: unknown };
    if (parsed.v === 1 && Array.isArray(parsed.s) && parsed.s.length === INDEX_SHARDS) {
      if (parsed.s.every((p) => p === null || p === true || typeof p === 'string')) return parsed.s as ShardCursor;
    }
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError('cursor', 'is not a cursor returned by this query');
}
