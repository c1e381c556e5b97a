import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CommandBus, CommandStatus, HandlerRegistry, TroubleshootingQueue, Worker } from '@commandbus/core';
import { inMemoryAdapters } from '@commandbus/core/testing';

describe('Function: inMemoryAdapters', () => {
  it('runs a handler end to end without AWS: send, a worker completes it, the audit trail shows it', async () => {
    // Prepare
    const adapters = inMemoryAdapters({ domains: ['payments'] });
    const registry = new HandlerRegistry().register('payments', 'Charge', (command) => ({ charged: command.data.amount! }));
    const bus = new CommandBus(adapters);
    const worker = new Worker({ ...adapters, domain: 'payments', registry, waitTimeSeconds: 1 });
    const running = worker.run();
    const commandId = randomUUID();

    // Act
    await bus.send({ domain: 'payments', commandType: 'Charge', commandId, data: { amount: 10 } });
    const deadline = Date.now() + 5_000;
    while ((await bus.getCommand('payments', commandId))?.status !== CommandStatus.COMPLETED && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await worker.stop();
    await running;

    // Assess
    expect(await bus.getCommand('payments', commandId)).toMatchObject({ status: CommandStatus.COMPLETED, result: { charged: 10 } });
    expect((await bus.getAuditTrail(commandId)).map((event) => event.eventType)).toEqual(['SENT', 'RECEIVED', 'COMPLETED']);
    expect((await new TroubleshootingQueue(adapters).list({ domain: 'payments' })).items).toEqual([]);
  });

  it('uses the namespace it is given for every queue name', () => {
    // Prepare
    const options = { namespace: 'shop', domains: ['payments'] };

    // Act
    const adapters = inMemoryAdapters(options);

    // Assess
    expect(adapters.transport.messages('shop-payments-commands')).toEqual([]);
    expect(adapters.transport.messages('shop-payments-tsq')).toEqual([]);
    expect(() => adapters.transport.messages('commandbus-payments-commands')).toThrow(/does not exist/);
  });
});
