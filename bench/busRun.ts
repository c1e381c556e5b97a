/**
 * The system under test: a CommandBus (producer) and a Worker (consumer) on a fresh namespace, each
 * with its own metered SDK clients, and a trivial handler. COMPLETED times come from the worker's
 * store port (see completion.ts), so nothing polls the table.
 */
import { CommandBus, CommandStatus, DynamoCommandStore, HandlerRegistry, silentLogger, Worker } from '@commandbus/core';
import { observeCompletions } from './completion.ts';
import type { createClients, LocalStack } from '@commandbus/local';
import type { BenchConfig } from './config.ts';
import { benchData } from './config.ts';
import type { BenchSystem } from './phase.ts';
import { queueDepth, readStatuses, settle } from './verify.ts';
import { BENCH_COMMAND, BENCH_DOMAIN, meteredSetup } from './meteredSetup.ts';

export { BENCH_COMMAND, BENCH_DOMAIN };
const SPOT_CHECKS = 5;

export async function createBusSystem(
  stack: LocalStack,
  config: BenchConfig,
  namespace: string,
  inspect: ReturnType<typeof createClients>,
): Promise<BenchSystem> {
  const { table, queueUrls, queueUrl, meter, tracker, probe, producer, consumer, onCompleted } = await meteredSetup(stack, namespace, 'bus');

  // Queue URLs as a deployment would pass them from stack outputs (otherwise: one GetQueueUrl per process).
  const common = { namespace, queueUrls, logger: silentLogger };
  const bus = new CommandBus({ ...common, dynamodb: producer.dynamodb, sqs: producer.sqs });
  const registry = new HandlerRegistry().register(BENCH_DOMAIN, BENCH_COMMAND, () => ({ ok: true }));
  const worker = new Worker({
    ...common,
    store: observeCompletions(new DynamoCommandStore(consumer.dynamodb, table), onCompleted),
    sqs: consumer.sqs,
    domain: BENCH_DOMAIN,
    registry,
    concurrency: config.concurrency,
    waitTimeSeconds: 20,
  });
  const running = worker.run();
  const data = benchData(config.dataBytes);

  return {
    label: 'bus',
    meter,
    tracker,
    probe,
    async send(commandId) {
      await bus.send({ domain: BENCH_DOMAIN, commandType: BENCH_COMMAND, commandId, data });
    },
    async finalState(commandIds, settleMs) {
      const final = await settle(
        { statuses: () => readStatuses(inspect.dynamodb, table, BENCH_DOMAIN, commandIds), queueDepth: () => queueDepth(inspect.sqs, queueUrl) },
        settleMs,
      );
      const problems: string[] = [];
      // Through the library's own read API too, for a few of them.
      for (const commandId of commandIds.slice(0, SPOT_CHECKS)) {
        const command = await bus.getCommand(BENCH_DOMAIN, commandId);
        if (command?.status !== CommandStatus.COMPLETED || JSON.stringify(command.result) !== '{"ok":true}') {
          problems.push(`getCommand(${commandId}): ${command ? `${command.status} ${JSON.stringify(command.result)}` : 'not found'}`);
        }
      }
      return { ...final, problems, notes: [] };
    },
    async stop() {
      await worker.stop();
      await running;
      for (const clients of [producer, consumer]) {
        clients.dynamodb.destroy();
        clients.sqs.destroy();
      }
    },
  };
}
