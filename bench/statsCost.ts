/**
 * `npm run bench:stats`: what the stats aggregation costs per command, measured on the embedded stack.
 * Runs N commands (1 KB payloads; every 20th fails once, so latencies and failures vary) through a
 * CommandBus and a Worker, then aggregates the table's stream again and again, each time into a
 * scratch table of its own with a different batch size — the commands a Lambda batch holds depends on
 * the traffic, the batching window and the number of stream shards (see docs/data-model.md) — and
 * reports, per command, the write units DynamoDB reports for the stats writes (ConsumedCapacity) and
 * the watermark reads, then checks the counts are exact.
 *
 * Environment: N (3000) · BATCHES (comma-separated records per batch: 3 records ≈ 1 command;
 * default 30,90,270,1000).
 */
import { randomUUID } from 'node:crypto';
import {
  aggregateRecords,
  CommandBus,
  DynamoStatsStore,
  DynamoStreamPoller,
  HandlerRegistry,
  readStats,
  silentLogger,
  toChangeRecords,
  TransientCommandError,
  Worker,
} from '@commandbus/core';
import { createClients, startLocalStack } from '@commandbus/local';

const log = (message: string) => console.log(`[bench:stats +${(performance.now() / 1000).toFixed(1)}s] ${message}`);
const DOMAIN = 'bench';

async function main(): Promise<number> {
  const n = Number(process.env.N ?? 3000);
  const batchSizes = (process.env.BATCHES ?? '30,90,270,1000').split(',').map(Number);
  const stack = await startLocalStack();
  const clients = createClients(stack);
  try {
    const namespace = `stats-cost-${randomUUID().slice(0, 8)}`;
    const { table, queueUrls } = await stack.provision(namespace, [DOMAIN]);
    const config = { namespace, queueUrls, logger: silentLogger, dynamodb: clients.dynamodb, sqs: clients.sqs };
    const bus = new CommandBus(config);
    const failedOnce = new Set<string>();
    const registry = new HandlerRegistry().register(DOMAIN, 'Bench', (command) => {
      if (command.data.fail === true && !failedOnce.has(command.commandId)) {
        failedOnce.add(command.commandId);
        throw new TransientCommandError('FLAKY', 'fails once');
      }
      return { ok: true };
    });
    const worker = new Worker({
      ...config,
      domain: DOMAIN,
      registry,
      concurrency: 32,
      waitTimeSeconds: 1,
      retryPolicy: { baseDelaySeconds: 0, maxDelaySeconds: 0 },
    });
    const running = worker.run();
    const started = new Date(Date.now() - 60_000).toISOString();
    log(`sending ${n} commands`);
    const payload = 'x'.repeat(1000);
    for (let i = 0; i < n; i += 64) {
      await Promise.all(
        Array.from({ length: Math.min(64, n - i) }, (_, j) =>
          bus.send({ domain: DOMAIN, commandType: 'Bench', commandId: randomUUID(), data: { payload, fail: (i + j) % 20 === 0 } }),
        ),
      );
    }
    for (;;) {
      const counts = await bus.countByStatus({ domain: DOMAIN, from: started, maxItems: 100_000 });
      if (counts.counts.COMPLETED === n) break;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    await worker.stop();
    await running;
    log(`${n} commands completed; aggregating the stream with each batch size`);

    const rows: string[] = [];
    let exact = true;
    for (const batchSize of batchSizes) {
      const scratch = await stack.provision(`${namespace}-s${batchSize}`, []);
      const stats = new DynamoStatsStore(clients.dynamodb, scratch.table);
      const sums = { batches: 0, records: 0, written: 0, reads: 0, writeUnits: 0 };
      const poller = new DynamoStreamPoller({
        dynamodb: clients.dynamodb,
        tableName: table,
        batchSize,
        handler: async (event) => {
          const result = await aggregateRecords(stats, event.shardId as string, toChangeRecords(event.Records));
          sums.batches++;
          sums.records += result.records;
          sums.written += result.written;
          sums.reads += result.written + result.skipped + result.conflicts;
          sums.writeUnits += result.writeUnits;
        },
      });
      await poller.drain();
      const report = await readStats(stats, { domain: DOMAIN, from: started, to: new Date(Date.now() + 120_000).toISOString() });
      const ok = report.counts.COMPLETED === n && report.totals.sent === n && report.totals.completed === n && report.totals.failed === Math.ceil(n / 20);
      exact &&= ok;
      rows.push(
        [
          String(batchSize).padStart(6),
          (sums.records / sums.batches / 3).toFixed(0).padStart(9),
          String(sums.batches).padStart(8),
          (sums.written / sums.batches).toFixed(1).padStart(13),
          sums.writeUnits.toFixed(0).padStart(6),
          (sums.writeUnits / n).toFixed(4).padStart(9),
          (sums.reads / n).toFixed(4).padStart(10),
          ok ? '   exact' : '   WRONG',
        ].join(' '),
      );
    }
    console.log('');
    console.log(`stats aggregation cost for ${n} commands (3 stream records each, plus retries)`);
    console.log('records commands/  batches  items written    WCU  WCU/cmd  reads/cmd  counts');
    console.log(' /batch     batch                /batch');
    for (const row of rows) console.log(row);
    console.log('(reads: strongly consistent GetItem of a stats item, 1 RCU each up to 4 KB)');
    return exact ? 0 : 1;
  } finally {
    clients.dynamodb.destroy();
    clients.sqs.destroy();
    await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
