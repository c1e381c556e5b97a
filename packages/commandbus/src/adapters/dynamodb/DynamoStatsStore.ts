import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterWatermark, startOf, type StatsItem, type StatsItemUpdate, type StatsRange } from '../../domain/stats.ts';
import { StoreUnavailableError } from '../../ports/CommandStore.ts';
import type { StatsApplyResult, StatsStore } from '../../ports/StatsStore.ts';

/** Tries of one stats item's write against concurrent writers before giving up (the batch is then retried whole). */
const CONFLICT_ATTEMPTS = 20;
/** Stats items written at once. */
const CONCURRENCY = 8;
/** Attributes of a stats item that are not counters. */
const NOT_COUNTERS = new Set(['pk', 'sk', 'lastEventAt']);
const WATERMARK_PREFIX = 'wm_';

/**
 * Stats items in the commands table: `stats#<domain>#<yyyy-mm-dd>` / `m#HH:MM` (minutes),
 * `stats#<domain>#<yyyy-mm>` / `h#dd:HH` (hours), `stats#<domain>` / `d#yyyy-mm-dd` (days). Counters
 * are top-level numbers (`sent`, `sPENDING`, `l42` …); watermarks are `wm_<12 hex digits of
 * sha256(shardId)>` (48 bits: short, as an item collects one per stream shard that ever wrote it),
 * each holding the last sequence number applied (compared as a number).
 * No index keys, and a partition key that is never a command id.
 */
export class DynamoStatsStore implements StatsStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.tableName = tableName;
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async applyUpdates(shardId: string, updates: readonly StatsItemUpdate[]): Promise<StatsApplyResult> {
    const result: StatsApplyResult = { written: 0, skipped: 0, conflicts: 0, writeUnits: 0 };
    const queue = [...updates];
    const work = async () => {
      for (let update = queue.shift(); update; update = queue.shift()) await this.applyOne(shardId, update, result);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, work));
    return result;
  }

  private async applyOne(shardId: string, update: StatsItemUpdate, result: StatsApplyResult): Promise<void> {
    const watermark = watermarkName(shardId);
    for (let attempt = 1; ; attempt++) {
      const { Item } = await call(
        this.doc.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { pk: update.key.pk, sk: update.key.sk },
            ConsistentRead: true,
            ProjectionExpression: '#wm, lastEventAt',
            ExpressionAttributeNames: { '#wm': watermark },
          }),
        ),
      );
      const seen = Item?.[watermark] as string | undefined;
      const fresh = afterWatermark(update, seen);
      if (!fresh) {
        result.skipped++;
        return;
      }
      const names: Record<string, string> = { '#wm': watermark, '#at': 'lastEventAt' };
      const values: Record<string, unknown> = { ':wm': fresh.sequenceNumber.replace(/^0+(?=\d)/, '') };
      const adds: string[] = [];
      Object.entries(fresh.delta).forEach(([counter, n], i) => {
        names[`#c${i}`] = counter;
        values[`:c${i}`] = n;
        adds.push(`#c${i} :c${i}`);
      });
      const lastEventAt = Item?.lastEventAt as string | undefined;
      values[':at'] = lastEventAt !== undefined && lastEventAt > fresh.eventTime ? lastEventAt : fresh.eventTime;
      if (seen !== undefined) values[':seen'] = seen;
      try {
        const out = await call(
          this.doc.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: update.key.pk, sk: update.key.sk },
              UpdateExpression: `SET #wm = :wm, #at = :at${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
              ConditionExpression: seen === undefined ? 'attribute_not_exists(#wm)' : '#wm = :seen',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
        result.written++;
        result.writeUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        result.conflicts++;
        if (attempt >= CONFLICT_ATTEMPTS) {
          throw new StoreUnavailableError(`stats item ${update.key.pk}/${update.key.sk}: ${CONFLICT_ATTEMPTS} writes lost to concurrent writers`);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  async read(ranges: readonly StatsRange[]): Promise<StatsItem[]> {
    const pages = await Promise.all(ranges.map((range) => this.readRange(range)));
    return pages.flat();
  }

  private async readRange(range: StatsRange): Promise<StatsItem[]> {
    const items: StatsItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await call(
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': range.pk, ':from': range.skFrom, ':to': range.skTo },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) items.push(toStatsItem(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

export function watermarkName(shardId: string): string {
  return `${WATERMARK_PREFIX}${createHash('sha256').update(shardId).digest('hex').slice(0, 12)}`;
}

export function toStatsItem(item: Record<string, unknown>): StatsItem {
  const counters: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (!NOT_COUNTERS.has(name) && !name.startsWith(WATERMARK_PREFIX) && typeof value === 'number') counters[name] = value;
  }
  return {
    ...startOf(item.pk as string, item.sk as string),
    counters,
    ...(typeof item.lastEventAt === 'string' ? { lastEventAt: item.lastEventAt } : {}),
  };
}

const UNAVAILABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
]);

/** DynamoDB's answers in the port's language: no answer (a timeout, throttling, a 5xx) is StoreUnavailableError. */
async function call<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    const sdk = error as { name?: string; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
    const status = sdk.$metadata?.httpStatusCode;
    const unavailable = UNAVAILABLE.has(sdk.name ?? '') || sdk.$fault === 'server' || (status ?? 0) >= 500 || status === undefined;
    if (unavailable && !(error instanceof ConditionalCheckFailedException)) {
      throw new StoreUnavailableError(`DynamoDB did not answer: ${sdk.name}: ${sdk.message}`, { cause: error });
    }
    throw error;
  }
}
