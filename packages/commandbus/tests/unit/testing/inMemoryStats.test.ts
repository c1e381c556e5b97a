import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CommandBus, CommandStatus, HandlerRegistry, PermanentCommandError, TroubleshootingQueue, Worker } from '@commandbus/core';
import { inMemoryAdapters } from '@commandbus/core/testing';

describe('Function: inMemoryAdapters, stats', () => {
  it('answers bus.stats from the writes as they happen: statuses of the commands created, events and latency', async () => {
    // Prepare
    const adapters = inMemoryAdapters({ domains: ['payments'] });
    const registry = new HandlerRegistry().register('payments', 'Charge', (command) => {
      if (command.data.declined === true) throw new PermanentCommandError('CARD_DECLINED', 'declined');
      return { ok: true };
    });
    const bus = new CommandBus(adapters);
    const worker = new Worker({ ...adapters, domain: 'payments', registry, waitTimeSeconds: 1 });
    const running = worker.run();
    const ids = [randomUUID(), randomUUID(), randomUUID()];

    // Act
    for (const [i, commandId] of ids.entries()) {
      await bus.send({ domain: 'payments', commandType: 'Charge', commandId, data: { declined: i === 2 } });
    }
    const settled = async () => {
      const statuses = await Promise.all(ids.map(async (id) => (await bus.getCommand('payments', id))?.status));
      return statuses.filter((status) => status === CommandStatus.COMPLETED || status === CommandStatus.IN_TSQ).length === ids.length;
    };
    const deadline = Date.now() + 5_000;
    while (!(await settled()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    await worker.stop();
    await running;
    await new TroubleshootingQueue(adapters).operatorCancel({ domain: 'payments', commandId: ids[2]!, operator: 'alice', reason: 'r' });
    const stats = await bus.stats({ domain: 'payments', series: 'minute' });

    // Assess
    expect(stats.counts).toEqual({ PENDING: 0, IN_PROGRESS: 0, COMPLETED: 2, CANCELLED: 1, IN_TSQ: 0 });
    expect(stats.totals).toMatchObject({ sent: 3, completed: 2, failed: 1, parked: 1, cancelled: 1 });
    expect(stats.totals.latencyP50Ms).toBeGreaterThan(0);
    expect(stats.series?.points.reduce((sum, point) => sum + point.sent, 0)).toBe(3);
  });
});
