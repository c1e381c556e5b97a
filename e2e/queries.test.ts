/** Browsing commands by domain / status / type / time, and listing the TSQ, with pagination. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, ValidationError, type Command } from '@commandbus/core';
import { createScenario, type Scenario } from './support/fixtures.ts';

let s: Scenario;
const completed: string[] = [];
const parked: string[] = [];
let firstSentAt: string;
let betweenAt: string;
/** Unhandled type: it lands in the TSQ with NO_HANDLER. */
const otherId = crypto.randomUUID();
/** One correlation spanning completed and parked commands. */
const correlationId = `order-${crypto.randomUUID().slice(0, 8)}`;
const correlated: string[] = [];

beforeAll(async () => {
  s = await createScenario({ concurrency: 8 });
  firstSentAt = new Date().toISOString();
  for (let i = 0; i < 13; i++) {
    const commandId = await s.send({ data: { i }, ...(i % 4 === 0 ? { correlationId } : {}) });
    completed.push(commandId);
    if (i % 4 === 0) correlated.unshift(commandId);
  }
  await new Promise((resolve) => setTimeout(resolve, 5)); // distinct creation times on each side of the boundary
  betweenAt = new Date().toISOString();
  for (let i = 0; i < 9; i++) {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: `E${i}` });
    await s.send({ commandId, ...(i === 4 ? { correlationId } : {}) });
    parked.push(commandId);
    if (i === 4) correlated.unshift(commandId);
  }
  await s.bus.send({ domain: 'test', commandType: 'OtherType', commandId: otherId, data: {} });
  await Promise.all(completed.map((id) => s.waitForCompletion(id)));
  await Promise.all([...parked, otherId].map((id) => s.waitForStatus(id, CommandStatus.IN_TSQ)));
});
afterAll(async () => {
  await s.cleanup();
});

/** Follows nextCursor to the end. */
async function all(fetch: (cursor?: string) => Promise<{ items: Command[]; nextCursor?: string }>): Promise<Command[]> {
  const items: Command[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await fetch(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  return items;
}

describe('Method: queryCommands', () => {
  it('pages through every command of the domain exactly once, newest first', async () => {
    const items = await all((cursor) => s.bus.queryCommands({ domain: 'test', limit: 4, ...(cursor ? { cursor } : {}) }));

    expect(items).toHaveLength(13 + 9 + 1);
    expect(new Set(items.map((item) => item.commandId)).size).toBe(items.length);
    const created = items.map((item) => item.createdAt);
    expect(created).toEqual([...created].sort().reverse());
  });

  it('filters by status across pages', async () => {
    const items = await all((cursor) => s.bus.queryCommands({ domain: 'test', status: CommandStatus.IN_TSQ, limit: 4, ...(cursor ? { cursor } : {}) }));
    const done = await all((cursor) => s.bus.queryCommands({ domain: 'test', status: CommandStatus.COMPLETED, limit: 5, ...(cursor ? { cursor } : {}) }));

    expect(items.map((item) => item.commandId).sort()).toEqual([...parked, otherId].sort());
    expect(done.map((item) => item.commandId).sort()).toEqual([...completed].sort());
  });

  it('filters by command type and by creation time', async () => {
    const other = await all((cursor) => s.bus.queryCommands({ domain: 'test', commandType: 'OtherType', ...(cursor ? { cursor } : {}) }));
    const early = await all((cursor) => s.bus.queryCommands({ domain: 'test', from: firstSentAt, to: betweenAt, limit: 6, ...(cursor ? { cursor } : {}) }));

    expect(other).toHaveLength(1);
    expect(other[0]?.commandType).toBe('OtherType');
    expect(early.map((item) => item.commandId).sort()).toEqual([...completed].sort());
  });

  it('finds every command of one correlation, newest first, across pages, with their statuses', async () => {
    const items = await all((cursor) => s.bus.queryCommands({ domain: 'test', correlationId, limit: 2, ...(cursor ? { cursor } : {}) }));
    const parkedOnes = await s.bus.queryCommands({ domain: 'test', correlationId, status: CommandStatus.IN_TSQ });

    expect(items.map((item) => item.commandId)).toEqual(correlated);
    expect(items.every((item) => item.correlationId === correlationId)).toBe(true);
    expect(items.filter((item) => item.status === CommandStatus.COMPLETED)).toHaveLength(4);
    expect(parkedOnes.items.map((item) => item.commandId)).toEqual([parked[4]]);
    await expect(s.bus.queryCommands({ domain: 'test', correlationId: '' })).rejects.toThrow(/^correlationId: must be a non-empty string/);
    await expect(s.bus.queryCommands({ domain: 'test', correlationId: 'x'.repeat(129) })).rejects.toThrow(/^correlationId: must be at most 128/);
  });

  it('rejects a bad status, limit or cursor with a ValidationError naming it', async () => {
    await expect(s.bus.queryCommands({ domain: 'test', status: 'DONE' as CommandStatus })).rejects.toThrow(/^status: must be one of/);
    await expect(s.bus.queryCommands({ domain: 'test', limit: 0 })).rejects.toThrow(/^limit: must be an integer from 1 to 100/);
    await expect(s.bus.queryCommands({ domain: 'test', cursor: 'bogus' })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('Method: TroubleshootingQueue.list', () => {
  it('lists every parked command once across pages, with its error details and payload', async () => {
    const items = await all((cursor) => s.tsq.list({ domain: 'test', commandType: 'TestCommand', limit: 2, ...(cursor ? { cursor } : {}) }));
    const everything = await all((cursor) => s.tsq.list({ domain: 'test', limit: 3, ...(cursor ? { cursor } : {}) }));

    expect(everything.map((item) => item.commandId).sort()).toEqual([...parked, otherId].sort());
    expect(everything.find((item) => item.commandId === otherId)?.lastError?.code).toBe('NO_HANDLER');

    expect(items.map((item) => item.commandId).sort()).toEqual([...parked].sort());
    for (const item of items) {
      expect(item.status).toBe(CommandStatus.IN_TSQ);
      expect(item.lastError?.type).toBe('PERMANENT');
      expect(item.lastError?.code).toMatch(/^E\d$/);
      expect(item.data).toEqual({});
    }
  });

  it('drops a command from the list once an operator has acted', async () => {
    const [first] = parked;
    await s.tsq.operatorCancel({ domain: 'test', commandId: first!, operator: 'ops', reason: 'listed test' });

    const items = await all((cursor) => s.tsq.list({ domain: 'test', commandType: 'TestCommand', limit: 50, ...(cursor ? { cursor } : {}) }));

    expect(items.map((item) => item.commandId)).not.toContain(first);
    expect(items).toHaveLength(parked.length - 1);
    parked.shift();
  });
});
