import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoStreamPoller } from './adapters/dynamodb/DynamoStreamPoller.ts';
import { toChangeRecords, type StreamBatchEvent } from './adapters/dynamodb/streamEvent.ts';
import { aggregateRecords } from './application/statsAggregation.ts';
import { resolveAdapters, type Adapters, type CommandBusConfig } from './config.ts';
import type { StatsApplyResult, StatsStore } from './ports/StatsStore.ts';

export interface StatsAggregatorOptions extends CommandBusConfig {
  /** Client for the table's stream; default: one with the DynamoDB client's region, credentials and endpoint. */
  streams?: DynamoDBStreamsClient;
  /** Records per batch; default 1000. */
  batchSize?: number;
  /** Pause when the stream is caught up; default 1000 ms. */
  idleMs?: number;
}

export type StatsBatchResult = StatsApplyResult & { records: number };

/**
 * Keeps the counts `bus.stats` reads, from the table's stream (see docs/data-model.md, "Counts and
 * rates"). On AWS the stack's stats Lambda does this (the same `handle`); where there is no Lambda —
 * DynamoDB Local, a long-running service — run one (or several: the stats items' watermarks make
 * concurrent and repeated batches count once):
 *
 * @example
 * const aggregator = new StatsAggregator();
 * aggregator.start();            // reads the stream from TRIM_HORIZON until stop()
 * // ...
 * await aggregator.stop();
 */
export class StatsAggregator {
  private readonly adapters: Adapters;
  private readonly stats: StatsStore;
  private readonly options: StatsAggregatorOptions;
  private poller: DynamoStreamPoller | undefined;
  private readonly sums: StatsBatchResult & { batches: number } = { batches: 0, records: 0, written: 0, skipped: 0, conflicts: 0, writeUnits: 0 };

  constructor(options: StatsAggregatorOptions = {}) {
    this.options = options;
    this.adapters = resolveAdapters(options);
    if (!this.adapters.stats) throw new Error('StatsAggregator needs a stats store: give `stats` with a custom `store`');
    this.stats = this.adapters.stats;
  }

  /** Applies one shard's batch of stream records (Lambda's event with its `shardId`). Safe to repeat. */
  async handle(event: StreamBatchEvent): Promise<StatsBatchResult> {
    if (!event.shardId) throw new Error('a stream batch without shardId cannot be applied exactly once (the event source mapping needs a tumbling window)');
    const result = await aggregateRecords(this.stats, event.shardId, toChangeRecords(event.Records));
    this.sums.batches++;
    for (const key of ['records', 'written', 'skipped', 'conflicts', 'writeUnits'] as const) this.sums[key] += result[key];
    return result;
  }

  /** What this aggregator has done so far: batches, records, stats items written or skipped, conflicts, write units. */
  totals(): StatsBatchResult & { batches: number } {
    return { ...this.sums };
  }

  /** Reads the stream until stop(). */
  start(): void {
    this.streamPoller().start();
  }

  async stop(): Promise<void> {
    await this.poller?.stop();
  }

  /** Reads the stream until caught up (everything written before the call is counted); returns the records read. */
  async drain(): Promise<number> {
    return this.streamPoller().drain();
  }

  private streamPoller(): DynamoStreamPoller {
    if (!this.poller) {
      if (!this.adapters.dynamodb) throw new Error('StatsAggregator reads a DynamoDB stream: give `dynamodb` (or no custom `store`)');
      this.poller = new DynamoStreamPoller({
        dynamodb: this.adapters.dynamodb,
        tableName: this.adapters.tableName,
        handler: (event) => this.handle(event),
        onError: (error) => this.adapters.logger.error('stats aggregation failed; the batch is tried again', { error: String(error) }),
        ...(this.options.streams ? { streams: this.options.streams } : {}),
        ...(this.options.batchSize === undefined ? {} : { batchSize: this.options.batchSize }),
        ...(this.options.idleMs === undefined ? {} : { idleMs: this.options.idleMs }),
      });
    }
    return this.poller;
  }
}
