import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_STORE_CALLS, queryByStatus } from '../../../src/application/statusPages.ts';
import type { CommandState } from '../../../src/domain/lifecycle.ts';
import { planBatch, type ChangeRecord } from '../../../src/domain/stats.ts';
import type { CommandStore } from '../../../src/ports/CommandStore.ts';
import { InMemoryStatsStore } from '../../../src/testing/index.ts';
import { CommandStatus, type CommandQuery, type Page } from '../../../src/types.ts';

const T0 = Date.UTC(2026, 2, 1);
const DOMAIN = 'shop';

/** A store that answers `query` as DynamoCommandStore does (newest first, [from, to), status, limit, cursor), and counts the commands it reads. */
function fakeStore(commands: CommandState[]) {
  const sorted = [...commands].sort((a, b) => (a.createdAt === b.createdAt ? (a.commandId < b.commandId ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
  const counter = { calls: 0, examined: 0 };
  const store = {
    async query(query: CommandQuery): Promise<Page<CommandState>> {
      counter.calls++;
      const inWindow = sorted.filter((c) => (query.from === undefined || c.createdAt >= query.from) && (query.to === undefined || c.createdAt < query.to));
      const offset = query.cursor ? Number(query.cursor) : 0;
      // Like the real store: a filtered page examines a bounded number of entries in order.
      const examined = inWindow.slice(offset, offset + (query.limit ?? 25) * 4);
      counter.examined += examined.length;
      const items: CommandState[] = [];
      let used = 0;
      for (const c of examined) {
        used++;
        if (c.status === query.status) items.push(c);
        if (items.length === (query.limit ?? 25)) break;
      }
      const next = offset + used;
      return { items, ...(next < inWindow.length ? { nextCursor: String(next) } : {}) };
    },
  } as unknown as CommandStore;
  return { store, counter };
}

function command(i: number, createdAtMs: number, status: CommandStatus): CommandState {
  return {
    domain: DOMAIN,
    commandId: `c${String(i).padStart(6, '0')}`,
    commandType: 'T',
    status,
    attempts: 1,
    maxAttempts: 3,
    token: 't',
    correlationId: 'x',
    createdAt: new Date(createdAtMs).toISOString(),
    updatedAt: new Date(createdAtMs).toISOString(),
  };
}

async function statsOf(commands: CommandState[]): Promise<InMemoryStatsStore> {
  const stats = new InMemoryStatsStore();
  const records: ChangeRecord[] = commands.map((c, i) => ({
    sequenceNumber: String(i + 1),
    eventName: 'INSERT',
    newImage: { pk: c.commandId, sk: c.domain, status: c.status, createdAt: c.createdAt, events: [{ e: 'SENT', t: c.createdAt }] },
  }));
  await stats.applyUpdates('s', planBatch(records));
  return stats;
}

async function allPages(store: CommandStore, stats: InMemoryStatsStore, status: CommandStatus, limit: number, now: number) {
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await queryByStatus(
      store,
      stats,
      { domain: DOMAIN, status, limit, from: new Date(T0 - 86_400_000).toISOString(), ...(cursor ? { cursor } : {}) },
      now,
    );
    expect(page.reads.store).toBeLessThanOrEqual(MAX_STORE_CALLS);
    seen.push(...page.items.map((c) => c.commandId));
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 1000);
  return seen;
}

describe('Function: queryByStatus', () => {
  it('hands out every command in the status, newest first, once, whatever the page size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 3 * 24 * 60 - 1 }), fc.constantFrom(CommandStatus.COMPLETED, CommandStatus.COMPLETED, CommandStatus.CANCELLED)),
          {
            maxLength: 80,
          },
        ),
        fc.integer({ min: 1, max: 7 }),
        async (spec, limit) => {
          const commands = spec.map(([minute, status], i) => command(i, T0 + minute * 60_000 + (i % 50) * 1000, status));
          const { store } = fakeStore(commands);
          const stats = await statsOf(commands);
          const expected = [...commands]
            .filter((c) => c.status === CommandStatus.CANCELLED)
            .sort((a, b) => (a.createdAt === b.createdAt ? (a.commandId < b.commandId ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1))
            .map((c) => c.commandId);
          expect(await allPages(store, stats, CommandStatus.CANCELLED, limit, T0 + 4 * 86_400_000)).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads only the minutes that hold the status: a rare one among 20,000 completed commands in a few store calls', async () => {
    const commands: CommandState[] = [];
    for (let i = 0; i < 20_000; i++) commands.push(command(i, T0 + i * 10_000, CommandStatus.COMPLETED));
    const rare = [1_000, 9_000, 17_500].map((at, j) => command(100_000 + j, T0 + at * 10_000 + 5_000, CommandStatus.CANCELLED));
    commands.push(...rare);
    const { store, counter } = fakeStore(commands);
    const stats = await statsOf(commands);

    const page = await queryByStatus(store, stats, { domain: DOMAIN, status: CommandStatus.CANCELLED, limit: 10 }, T0 + 3 * 86_400_000);

    expect(page.items.map((c) => c.commandId)).toEqual([...rare].reverse().map((c) => c.commandId));
    expect(page.nextCursor).toBeUndefined();
    // Three minutes of ≤ 7 commands each (and the unguided minute after the aggregation's progress), not 20,000.
    expect(counter.examined).toBeLessThan(30);
    expect(page.reads.stats).toBeLessThanOrEqual(10);
  });

  it('reads what the aggregation has not seen yet unguided, so a new command is not missed', async () => {
    const old = command(1, T0, CommandStatus.PENDING);
    const fresh = command(2, T0 + 3_600_000, CommandStatus.PENDING);
    const { store } = fakeStore([old, fresh]);
    const stats = await statsOf([old]); // the aggregator has not seen `fresh` yet

    const page = await queryByStatus(store, stats, { domain: DOMAIN, status: CommandStatus.PENDING }, T0 + 2 * 3_600_000);

    expect(page.items.map((c) => c.commandId)).toEqual([fresh.commandId, old.commandId]);
  });

  it('refuses a cursor of another query', async () => {
    const { store } = fakeStore([command(1, T0, CommandStatus.PENDING), command(2, T0 + 1000, CommandStatus.PENDING)]);
    const stats = await statsOf([]);
    const page = await queryByStatus(store, stats, { domain: DOMAIN, status: CommandStatus.PENDING, limit: 1 }, T0 + 60_000);
    expect(page.nextCursor).toBeDefined();

    await expect(queryByStatus(store, stats, { domain: DOMAIN, status: CommandStatus.CANCELLED, cursor: page.nextCursor! }, T0 + 60_000)).rejects.toMatchObject(
      {
        name: 'ValidationError',
      },
    );
    await expect(queryByStatus(store, stats, { domain: DOMAIN, status: CommandStatus.PENDING, cursor: 'garbage' }, T0 + 60_000)).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });
});
