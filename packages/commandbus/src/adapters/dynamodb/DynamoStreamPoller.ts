/**
 * Plays the DynamoDB stream event source mapping where there is no Lambda (DynamoDB Local, a
 * long-running process): reads every shard of the table's stream from TRIM_HORIZON and hands each
 * shard's records, in order, to a handler in batches, as Lambda would. A batch whose handler throws
 * is handed over again (after a pause) until it succeeds: nothing is skipped. Several pollers may read
 * the same stream at once; the stats watermarks make that safe.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { StreamBatchEvent, StreamRecord } from './streamEvent.ts';

export interface DynamoStreamPollerOptions {
  dynamodb: DynamoDBClient;
  /** Default: a client with the DynamoDB client's region, credentials and endpoint. */
  streams?: DynamoDBStreamsClient;
  tableName: string;
  handler: (event: StreamBatchEvent) => Promise<unknown>;
  /** Records per GetRecords (and per batch); default 1000, DynamoDB's maximum. */
  batchSize?: number;
  /** Pause when every shard is caught up; default 1000 ms. */
  idleMs?: number;
  onError?: (error: unknown) => void;
}

interface ShardState {
  shardId: string;
  iterator?: string;
  /** A batch read but not yet handled successfully. */
  pending?: _Record[];
  next?: string;
  done: boolean;
}

export class DynamoStreamPoller {
  private readonly options: DynamoStreamPollerOptions;
  private streams: DynamoDBStreamsClient | undefined;
  private streamArn: string | undefined;
  private readonly shards = new Map<string, ShardState>();
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(options: DynamoStreamPollerOptions) {
    this.options = options;
    this.streams = options.streams;
  }

  /** Reads until stop(). */
  start(): void {
    if (this.running !== undefined) return;
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        let handled = 0;
        try {
          handled = await this.pollOnce();
        } catch (error) {
          this.options.onError?.(error);
        }
        if (handled === 0 && !this.stopping) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.options.idleMs ?? 1000);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  /** One round over every shard: reads and handles up to one batch per shard; returns the records handled. */
  async pollOnce(): Promise<number> {
    await this.refreshShards();
    let handled = 0;
    for (const shard of this.shards.values()) {
      if (shard.done) continue;
      if (!shard.pending) {
        if (!shard.iterator) {
          shard.done = true;
          continue;
        }
        const out = await this.client().send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: this.options.batchSize ?? 1000 }));
        shard.pending = out.Records ?? [];
        shard.next = out.NextShardIterator;
      }
      if (shard.pending.length > 0) {
        await this.options.handler({
          Records: shard.pending as StreamRecord[],
          shardId: shard.shardId,
          ...(this.streamArn ? { eventSourceARN: this.streamArn } : {}),
        });
        handled += shard.pending.length;
      }
      shard.pending = undefined;
      shard.iterator = shard.next;
      if (!shard.iterator) shard.done = true;
    }
    return handled;
  }

  /** Rounds until a round finds nothing new: everything written before the call is handled. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const handled = await this.pollOnce();
      total += handled;
      if (handled === 0) return total;
    }
  }

  private client(): DynamoDBStreamsClient {
    if (!this.streams) {
      const config = this.options.dynamodb.config;
      // The streams API is served where DynamoDB is (DynamoDB Local, LocalStack): follow its endpoint.
      const endpoint = config.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB;
      this.streams = new DynamoDBStreamsClient({
        region: config.region,
        credentials: config.credentials,
        ...(endpoint ? { endpoint } : {}),
      });
    }
    return this.streams;
  }

  private async refreshShards(): Promise<void> {
    if (!this.streamArn) {
      const { Table } = await this.options.dynamodb.send(new DescribeTableCommand({ TableName: this.options.tableName }));
      this.streamArn = Table?.LatestStreamArn;
      if (!this.streamArn) throw new Error(`table ${this.options.tableName} has no stream (StreamSpecification NEW_AND_OLD_IMAGES is needed for stats)`);
    }
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await this.client().send(new DescribeStreamCommand({ StreamArn: this.streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }));
      shards.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (!shardId || this.shards.has(shardId)) continue;
      const { ShardIterator } = await this.client().send(
        new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      this.shards.set(shardId, { shardId, ...(ShardIterator ? { iterator: ShardIterator } : {}), done: false });
    }
  }
}
