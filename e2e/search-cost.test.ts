/**
 * What a correlationId search reads, metered on DynamoDB Local's ConsumedCapacity (docs/data-model.md,
 * "Searching by correlationId"): it examines every index entry of the window in bounded rounds, each
 * round reading `limit` entries from every shard to hand out `limit` in order. Printed for the docs,
 * and held to a bound so a change that reads more is seen.
 */
import { describe, expect, it } from 'vitest';
import { CommandBus, DynamoCommandStore, silentLogger } from '@commandbus/core';
import { createScenario } from './support/fixtures.ts';

describe('Searching by correlationId', () => {
  it('reads ≈ 0.3 RCU per index entry examined with limit 25 and ≈ 0.2 with limit 100 (8 shards), plus one item read per match', async () => {
    // Prepare: 1,000 commands, 4 of one correlation, on a metered client.
    const s = await createScenario({ startWorker: false });
    const client = s.clients.dynamodb;
    const metered = { queries: 0, queryRcu: 0, itemRcu: 0 };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
        const units = [consumed ?? []].flat().reduce((sum, capacity) => sum + (capacity.CapacityUnits ?? 0), 0);
        if (context.commandName === 'QueryCommand') {
          metered.queries++;
          metered.queryRcu += units;
        } else if (context.commandName === 'BatchGetItemCommand') metered.itemRcu += units;
        return result;
      },
      { step: 'initialize', name: 'meterCapacity' },
    );
    const bus = new CommandBus({ ...s.config, store: new DynamoCommandStore(client, s.names.table), logger: silentLogger });
    const N = 1000;
    const correlationId = `order-${crypto.randomUUID()}`;
    for (let i = 0; i < N; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          bus.send({
            domain: 'test',
            commandType: 'TestCommand',
            commandId: crypto.randomUUID(),
            data: { n: i + j },
            ...((i + j) % 250 === 0 ? { correlationId } : {}),
          }),
        ),
      );
    }

    // Act
    const runs = [];
    for (const limit of [25, 100]) {
      Object.assign(metered, { queries: 0, queryRcu: 0, itemRcu: 0 });
      let cursor: string | undefined;
      let calls = 0;
      let found = 0;
      do {
        const page = await bus.queryCommands({ domain: 'test', correlationId, limit, ...(cursor ? { cursor } : {}) });
        found += page.items.length;
        cursor = page.nextCursor;
        calls++;
      } while (cursor);
      runs.push({ limit, entries: N, found, calls, ...metered, rcuPerEntry: Number((metered.queryRcu / N).toFixed(3)) });
    }
    console.log(`correlationId search cost: ${JSON.stringify(runs)}`);

    // Assess
    expect(runs.map((run) => run.found)).toEqual([4, 4]);
    expect(runs[0]!.rcuPerEntry).toBeLessThanOrEqual(0.35);
    expect(runs[1]!.rcuPerEntry).toBeLessThanOrEqual(0.2);
    expect(runs.map((run) => run.itemRcu)).toEqual([4, 4]);
    await s.cleanup();
  }, 120_000);
});
