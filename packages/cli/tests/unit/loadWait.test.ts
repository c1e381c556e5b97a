/**
 * How `commandbus load` waits for a large run: the domain's stats show progress each second and the
 * run's window is listed only now and then (and once the stats say everything may have ended), not
 * every second. A fake API (no AWS here): commands end a fixed time after they are sent.
 */
import { describe, expect, it } from 'vitest';
import type { CommandBusClient } from '@commandbus/client';
import { CommandStatus, type Command, type CommandQuery, type Page, type SendCommandRequest, type StatsQuery, type StatsReport } from '@commandbus/core';
import { READ_BY_ID_BELOW, runLoad } from '../../src/load/runLoad.ts';

const END_AFTER_MS = 5_000;

function fakeApi() {
  const commands = new Map<string, { createdAt: number }>();
  const calls = { pages: 0, stats: 0, gets: 0 };
  const view = (commandId: string, { createdAt }: { createdAt: number }): Command => {
    const ended = Date.now() - createdAt >= END_AFTER_MS;
    const at = new Date(ended ? createdAt + END_AFTER_MS : createdAt).toISOString();
    return {
      domain: 'test',
      commandId,
      commandType: 'TestCommand',
      status: ended ? CommandStatus.COMPLETED : CommandStatus.PENDING,
      attempts: ended ? 1 : 0,
      maxAttempts: 3,
      correlationId: commandId,
      createdAt: new Date(createdAt).toISOString(),
      updatedAt: at,
    } as Command;
  };
  const client = {
    async send(request: SendCommandRequest) {
      commands.set(request.commandId, { createdAt: Date.now() });
      return { commandId: request.commandId, correlationId: request.commandId };
    },
    async getCommand(_domain: string, commandId: string) {
      calls.gets++;
      const command = commands.get(commandId);
      return command ? view(commandId, command) : undefined;
    },
    async queryCommands(query: CommandQuery): Promise<Page<Command>> {
      calls.pages++;
      const all = [...commands].map(([id, command]) => view(id, command));
      const offset = Number(query.cursor ?? 0);
      const next = offset + (query.limit ?? 100);
      return { items: all.slice(offset, next), ...(next < all.length ? { nextCursor: String(next) } : {}) };
    },
    async stats(query: StatsQuery): Promise<StatsReport> {
      calls.stats++;
      const completed = [...commands].filter(([id, command]) => view(id, command).status === CommandStatus.COMPLETED).length;
      return {
        domain: query.domain,
        from: '',
        to: '',
        counts: { COMPLETED: completed } as StatsReport['counts'],
        total: completed,
        totals: {} as StatsReport['totals'],
        queries: 1,
      };
    },
  };
  return { client: client as unknown as CommandBusClient, calls };
}

describe('commandbus load: waiting for a large run', () => {
  it('follows progress by the stats and lists the window a few times, not every second', async () => {
    const { client, calls } = fakeApi();
    const count = 3 * READ_BY_ID_BELOW;

    const report = await runLoad(
      { count, concurrency: 64, mix: [{ behaviour: 'success', weight: 1 }], domain: 'test', commandType: 'TestCommand', stallTimeoutSeconds: 30 },
      { client, description: 'fake' },
    );

    expect(report.ok, report.problems.join('; ')).toBe(true);
    expect(report.finalStatus.counts).toMatchObject({ COMPLETED: count });
    expect(report.finalStatus.unaccountedCount).toBe(0);
    const pagesPerListing = count / 100;
    // Each second of waiting reads the stats; the whole window is listed at most every 15 s and once at the end.
    expect(calls.stats).toBeGreaterThanOrEqual(2);
    expect(calls.pages).toBeLessThanOrEqual(3 * pagesPerListing);
  }, 60_000);
});
