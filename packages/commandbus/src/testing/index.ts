/**
 * `@commandbus/core/testing`: in-memory twins of the bus's ports, so handlers, workers and operator
 * flows can be tested without AWS. The twins are held to the DynamoDB and SQS adapters by one
 * contract suite (tests/contract) run against both; their headers list what they do not reproduce.
 *
 * @example
 * import { CommandBus, HandlerRegistry, Worker } from '@commandbus/core';
 * import { inMemoryAdapters } from '@commandbus/core/testing';
 *
 * const adapters = inMemoryAdapters({ domains: ['payments'] });
 * const registry = new HandlerRegistry().register('payments', 'Charge', async (command) => ({ charged: command.data.amount }));
 * const bus = new CommandBus(adapters);
 * const worker = new Worker({ ...adapters, domain: 'payments', registry, waitTimeSeconds: 1 });
 * const running = worker.run();
 * await bus.send({ domain: 'payments', commandType: 'Charge', commandId: crypto.randomUUID(), data: { amount: 10 } });
 * // ... poll bus.getCommand until COMPLETED, then:
 * await worker.stop();
 * await running;
 */
import { silentLogger } from '../logger.ts';
import { DEFAULT_NAMESPACE, resourceNames } from '../resources.ts';
import type { Logger } from '../types.ts';
import { InMemoryCommandStore } from './InMemoryCommandStore.ts';
import { InMemoryStatsStore } from './InMemoryStatsStore.ts';
import { planBatch } from '../domain/stats.ts';
import { InMemoryTransport, type InMemoryTransportOptions } from './InMemoryTransport.ts';

export { InMemoryCommandStore, itemSize, MAX_ITEM_BYTES } from './InMemoryCommandStore.ts';
export { InMemoryStatsStore } from './InMemoryStatsStore.ts';
export { InMemoryJobQueue, InMemoryJobStore } from './InMemoryJobStore.ts';
export { InMemoryTransport, systemClock, type Clock, type InMemoryTransportOptions, type QueuedMessage } from './InMemoryTransport.ts';
export {
  FaultInjector,
  FaultyCommandStore,
  FaultyTransport,
  transportUnavailable,
  type BeforeCall,
  type FaultOptions,
  type PortMethod,
  type RecordedCall,
} from './faults.ts';

export interface InMemoryAdapters {
  namespace: string;
  store: InMemoryCommandStore;
  transport: InMemoryTransport;
  logger: Logger;
  /** Fed from the store's writes as they happen (`bus.stats` with no lag). */
  stats: InMemoryStatsStore;
}

/**
 * A store and a transport for one namespace (default 'commandbus'), with the given domains' queues:
 * spread into the options of CommandBus, Worker or TroubleshootingQueue.
 */
export function inMemoryAdapters(options: Omit<InMemoryTransportOptions, 'names'> & { namespace?: string; logger?: Logger } = {}): InMemoryAdapters {
  const { namespace = DEFAULT_NAMESPACE, logger = silentLogger, ...transportOptions } = options;
  const store = new InMemoryCommandStore();
  const stats = new InMemoryStatsStore();
  // The twin applies at once (no await inside), so the counts move with the write.
  store.onChange = (record) => void stats.applyUpdates('memory', planBatch([record]));
  return {
    namespace,
    store,
    stats,
    transport: new InMemoryTransport({ ...transportOptions, names: resourceNames(namespace) }),
    logger,
  };
}
