/**
 * A domain's index shard count raised from 8 to 32 while commands flow (issue 8, "Scale ceiling"):
 * the bus, the worker and the TSQ on DynamoDB Local, writers switching at once (a change delay of 0
 * for this one process; in production writers switch 2 minutes after a change). Listings neither skip
 * nor repeat across a cursor issued before the change, and TSQ group counts stay exact when a command
 * parked at 8 shards leaves at 32.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandBus, CommandStatus, DynamoCommandStore, TroubleshootingQueue, ValidationError, type Command } from '@commandbus/core';
import { createScenario, type Scenario } from './support/fixtures.ts';

let s: Scenario;
let bus: CommandBus;
let tsq: TroubleshootingQueue;
const CODE = `SHARDS_${crypto.randomUUID().slice(0, 8)}`;
const before = { completed: [] as string[], parked: [] as string[] };
const after = { completed: [] as string[], parked: [] as string[] };
/** The first page of a listing read at 8 shards, and its cursor. */
let firstPage: { items: Command[]; nextCursor?: string };

async function all<T>(fetch: (cursor?: string) => Promise<{ items: T[]; nextCursor?: string }>, start?: string): Promise<T[]> {
  const items: T[] = [];
  let cursor = start;
  let pages = 0;
  do {
    const page = await fetch(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
    if (++pages > 200) throw new Error('the cursor does not advance');
  } while (cursor);
  return items;
}

/** Sent with this file's bus (the scenario's own bus has a store of its own, which would switch 60 s later). */
async function sendSome(into: { completed: string[]; parked: string[] }, completing: number, parking: number): Promise<void> {
  const send = async (commandId: string, data = {}) => {
    await bus.send({ domain: 'test', commandType: 'TestCommand', commandId, data });
    return commandId;
  };
  for (let i = 0; i < completing; i++) into.completed.push(await send(crypto.randomUUID(), { i }));
  for (let i = 0; i < parking; i++) {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: CODE });
    into.parked.push(await send(commandId));
  }
  await Promise.all(into.completed.map((id) => s.waitForCompletion(id)));
  await Promise.all(into.parked.map((id) => s.waitForStatus(id, CommandStatus.IN_TSQ)));
}

beforeAll(async () => {
  s = await createScenario({ startWorker: false });
  // One store for bus, TSQ and worker: a change is seen by every writer at once.
  const store = new DynamoCommandStore(s.clients.dynamodb, s.names.table, { shardChangeDelayMs: 0 });
  bus = new CommandBus({ ...s.config, store });
  tsq = new TroubleshootingQueue({ ...s.config, store });
  s.startWorker({ store });

  await sendSome(before, 12, 4);
  firstPage = await bus.queryCommands({ domain: 'test', limit: 5 });
  expect(await bus.setShardCount({ domain: 'test', shards: 32, operator: 'e2e-admin' })).toMatchObject({ writeShards: 32, readShards: 32 });
  await sendSome(after, 12, 4);
});
afterAll(async () => {
  await s.cleanup();
});

describe('A shard count raised from 8 to 32', () => {
  it('spreads the commands written since over 32 shards, those before staying in the first 8', async () => {
    const shardsOf = async (ids: string[]) =>
      Promise.all(
        ids.map(async (id) => {
          const { Items = [] } = await s.clients.dynamodb.send(
            new QueryCommand({ TableName: s.names.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: id } } }),
          );
          return Number(Items[0]?.gsi1pk?.S?.split('#')[1]);
        }),
      );

    const old = await shardsOf([...before.completed, ...before.parked]);
    const recent = await shardsOf([...after.completed, ...after.parked]);

    expect(old.every((shard) => shard >= 0 && shard < 8)).toBe(true);
    expect(recent.every((shard) => shard >= 0 && shard < 32)).toBe(true);
    expect(recent.some((shard) => shard >= 8)).toBe(true);
  });

  it('goes on from a cursor issued at 8 shards without skipping or repeating, and lists everything once from the start', async () => {
    const rest = await all((cursor) => bus.queryCommands({ domain: 'test', limit: 4, ...(cursor ? { cursor } : {}) }), firstPage.nextCursor);
    const everything = await all((cursor) => bus.queryCommands({ domain: 'test', limit: 7, ...(cursor ? { cursor } : {}) }));

    // The first listing continues below its first page: the commands sent before the change.
    const beforeIds = [...before.completed, ...before.parked];
    expect([...firstPage.items, ...rest].map((item) => item.commandId).sort()).toEqual([...beforeIds].sort());
    const ids = everything.map((item) => item.commandId);
    expect([...ids].sort()).toEqual([...beforeIds, ...after.completed, ...after.parked].sort());
    const created = everything.map((item) => `${item.createdAt}#${item.commandId}`);
    expect(created).toEqual([...created].sort().reverse());
  });

  it('keeps the TSQ group count exact when commands parked at 8 shards leave at 32, and lists the TSQ once', async () => {
    for (const commandId of before.parked.slice(0, 3)) await tsq.operatorCancel({ domain: 'test', commandId, operator: 'e2e', reason: 'resolved' });

    const groups = (await tsq.groups({ domain: 'test' })).filter((group) => group.errorCode === CODE);
    const listed = await all((cursor) => tsq.list({ domain: 'test', errorCode: CODE, limit: 2, ...(cursor ? { cursor } : {}) }));

    expect(groups.map((group) => group.count)).toEqual([5]);
    expect(listed.map((item) => item.commandId).sort()).toEqual([...before.parked.slice(3), ...after.parked].sort());
  });

  it('shows the settings, keeps the read count when lowered, and refuses a count out of bounds', async () => {
    const lowered = await bus.setShardCount({ domain: 'test', shards: 16, operator: 'e2e-admin' });

    expect(lowered).toMatchObject({ domain: 'test', writeShards: 16, readShards: 32, updatedBy: 'e2e-admin' });
    expect(await bus.getShardSettings('test')).toMatchObject({ writeShards: 16, readShards: 32 });
    const everything = await all((cursor) => bus.queryCommands({ domain: 'test', limit: 50, ...(cursor ? { cursor } : {}) }));
    expect(everything).toHaveLength(32);
    await expect(bus.setShardCount({ domain: 'test', shards: 257, operator: 'e2e-admin' })).rejects.toThrow(/^shards: must be an integer from 1 to 256/);
    await expect(bus.setShardCount({ domain: 'test', shards: 0, operator: 'e2e-admin' })).rejects.toBeInstanceOf(ValidationError);
  });

  it('applies a change made elsewhere to writers only after the delay (a store with the default settings)', async () => {
    const production = new CommandBus({ ...s.config });
    const elsewhere = `d${crypto.randomUUID().slice(0, 8)}`;

    const changed = await production.setShardCount({ domain: elsewhere, shards: 64, operator: 'e2e-admin' });

    expect(changed).toMatchObject({ writeShards: 8, readShards: 64, pending: { writeShards: 64 } });
    const from = Date.parse(changed.pending!.from) - Date.parse(changed.updatedAt!);
    expect(from).toBe(120_000);
  });
});
