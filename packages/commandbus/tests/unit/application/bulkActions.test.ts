import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BULK_CONCURRENCY, MAX_BULK_IDS, runBulk, validateBulkIds } from '../../../src/application/bulkActions.ts';
import { InvalidOperationError, PermanentCommandError, SendFailedError, ValidationError } from '../../../src/errors.ts';
import { CommandStatus } from '../../../src/types.ts';
import { createWorld, DOMAIN, REPLY_QUEUE, useFakeClock, type World } from './support.ts';

beforeEach(() => useFakeClock());
afterEach(() => {
  vi.useRealTimers();
});

/** `count` commands parked by a permanent failure; the handler then succeeds. */
async function parked(world: World, count: number, options: { replyTo?: string } = {}): Promise<string[]> {
  let failing = true;
  world.handle(() => {
    if (failing) throw new PermanentCommandError('NOPE', 'refused');
    return { ok: true };
  });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await world.send(options.replyTo === undefined ? {} : { replyTo: options.replyTo }));
  for (let i = 0; i < count; i++) await world.deliver();
  failing = false;
  return ids;
}

async function operatorEvents(world: World, commandId: string) {
  return (await world.store.auditTrail(commandId, DOMAIN)).filter((event) => event.eventType.startsWith('OPERATOR_'));
}

describe('Method: TroubleshootingQueue.bulk', () => {
  it('retries the parked, skips the completed meanwhile and the unknown, collapses duplicates; totals and bulkId on every event', async () => {
    // Prepare
    const world = createWorld();
    const [a, b, completed] = await parked(world, 3);
    await world.tsq.operatorComplete({ domain: DOMAIN, commandId: completed!, operator: 'bob' });
    const unknown = randomUUID();

    // Act
    const result = await world.tsq.bulk({
      domain: DOMAIN,
      action: 'retry',
      commandIds: [a!, completed!, unknown, a!.toUpperCase(), b!],
      operator: 'alice',
      operatorSession: 'alice-session',
    });

    // Assess
    expect(result).toEqual({
      bulkId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      domain: DOMAIN,
      action: 'retry',
      results: [
        { commandId: a, outcome: 'done' },
        { commandId: completed, outcome: 'skipped', code: 'INVALID_OPERATION', reason: expect.stringContaining('COMPLETED') },
        { commandId: unknown, outcome: 'skipped', code: 'COMMAND_NOT_FOUND', reason: expect.stringContaining('not found') },
        { commandId: b, outcome: 'done' },
      ],
      totals: { requested: 4, done: 2, skipped: 2, failed: 0 },
    });
    for (const id of [a!, b!]) {
      expect((await world.state(id)).status).toBe(CommandStatus.PENDING);
      const events = await operatorEvents(world, id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ eventType: 'OPERATOR_RETRY', details: { operator: 'alice', operatorSession: 'alice-session', bulkId: result.bulkId } });
    }
    expect(await operatorEvents(world, completed!)).toHaveLength(1); // bob's complete only
    await world.deliver();
    await world.deliver();
    expect((await world.state(a!)).status).toBe(CommandStatus.COMPLETED);
    expect((await world.state(b!)).status).toBe(CommandStatus.COMPLETED);
  });

  it('acts on each command once when two bulk requests race over the same ids', async () => {
    // Prepare
    const world = createWorld();
    const ids = await parked(world, 10);

    // Act
    const [first, second] = await Promise.all([
      world.tsq.bulk({ domain: DOMAIN, action: 'retry', commandIds: ids, operator: 'alice' }),
      world.tsq.bulk({ domain: DOMAIN, action: 'retry', commandIds: [...ids].reverse(), operator: 'bob' }),
    ]);

    // Assess
    expect(first.totals.done + second.totals.done).toBe(10);
    expect(first.totals.skipped + second.totals.skipped).toBe(10);
    expect(first.totals.failed + second.totals.failed).toBe(0);
    for (const id of ids) expect(await operatorEvents(world, id)).toHaveLength(1);
  });

  it('cancels with the reason, records the bulkId and replies CANCELLED', async () => {
    // Prepare
    const world = createWorld();
    const ids = await parked(world, 3, { replyTo: REPLY_QUEUE });

    // Act
    const result = await world.tsq.bulk({ domain: DOMAIN, action: 'cancel', commandIds: ids, operator: 'alice', reason: 'duplicate order' });

    // Assess
    expect(result.totals).toEqual({ requested: 3, done: 3, skipped: 0, failed: 0 });
    for (const id of ids) {
      expect((await world.state(id)).status).toBe(CommandStatus.CANCELLED);
      const [event] = await operatorEvents(world, id);
      expect(event).toMatchObject({ eventType: 'OPERATOR_CANCEL', details: { operator: 'alice', reason: 'duplicate order', bulkId: result.bulkId } });
    }
    expect(world.replies().map((reply) => [reply.commandId, reply.outcome, reply.reason])).toEqual(
      expect.arrayContaining(ids.map((id) => [id, 'CANCELLED', 'duplicate order'])),
    );
  });

  it('completes with the result data and records the bulkId', async () => {
    // Prepare
    const world = createWorld();
    const ids = await parked(world, 2);

    // Act
    const result = await world.tsq.bulk({ domain: DOMAIN, action: 'complete', commandIds: ids, operator: 'alice', resultData: { manual: true } });

    // Assess
    expect(result.totals.done).toBe(2);
    for (const id of ids) {
      expect(await world.state(id)).toMatchObject({ status: CommandStatus.COMPLETED, result: { manual: true } });
      const [event] = await operatorEvents(world, id);
      expect(event).toMatchObject({ eventType: 'OPERATOR_COMPLETE', details: { operator: 'alice', bulkId: result.bulkId } });
    }
  });

  it('reports a command whose re-enqueue fails as failed and goes on with the others', async () => {
    // Prepare
    const world = createWorld();
    const ids = await parked(world, 4);
    world.transport.failNext('sendCommand', new Error('SQS is down'));

    // Act
    const result = await world.tsq.bulk({ domain: DOMAIN, action: 'retry', commandIds: ids, operator: 'alice' });

    // Assess
    expect(result.totals).toEqual({ requested: 4, done: 3, skipped: 0, failed: 1 });
    const failed = result.results.find((item) => item.outcome === 'failed');
    expect(failed).toMatchObject({ commandId: expect.any(String), reason: expect.any(String), code: expect.any(String) });
    expect((await world.state(failed!.commandId)).status).toBe(CommandStatus.IN_TSQ);
  });

  it.each([
    [{ commandIds: [] }, 'commandIds'],
    [{ commandIds: 'x' }, 'commandIds'],
    [{ commandIds: Array.from({ length: MAX_BULK_IDS + 1 }, () => randomUUID()) }, 'commandIds'],
    [{ commandIds: ['PLACEHOLDER', 'not-a-uuid'] }, 'commandIds[1]'],
    [{ commandIds: ['PLACEHOLDER', 'PLACEHOLDER', 42] }, 'commandIds[2]'],
    [{ action: 'cancel' }, 'reason'],
    [{ action: 'retry', reason: 'why' }, 'reason'],
    [{ action: 'retry', resultData: 1 }, 'resultData'],
    [{ action: 'edit' }, 'action'],
    [{ operator: '' }, 'operator'],
    [{ domain: 'bad domain' }, 'domain'],
  ])('refuses %j naming %s, and acts on nothing', async (override, field) => {
    // Prepare
    const world = createWorld();
    const [id] = await parked(world, 1);
    const overrides = override as Record<string, unknown>;
    const commandIds = Array.isArray(overrides.commandIds) ? overrides.commandIds.map((value) => (value === 'PLACEHOLDER' ? id : value)) : overrides.commandIds;
    const request = {
      domain: DOMAIN,
      action: 'retry',
      commandIds: [id],
      operator: 'alice',
      ...overrides,
      ...('commandIds' in overrides ? { commandIds } : {}),
    };

    // Act
    const refused = world.tsq.bulk(request as never);

    // Assess
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toMatchObject({ field });
    expect((await world.state(id!)).status).toBe(CommandStatus.IN_TSQ);
  });
});

describe('Function: validateBulkIds', () => {
  it('lower-cases and collapses duplicates, keeping the first order', () => {
    const [a, b] = [randomUUID(), randomUUID()];
    expect(validateBulkIds([a.toUpperCase(), b, a])).toEqual([a, b]);
    expect(validateBulkIds(Array.from({ length: MAX_BULK_IDS }, () => a))).toEqual([a]);
  });
});

describe('Function: runBulk', () => {
  it(`acts on at most ${BULK_CONCURRENCY} at a time and keeps the order of the ids`, async () => {
    // Prepare
    vi.useRealTimers();
    const ids = Array.from({ length: 100 }, (_, i) => String(i));
    let inFlight = 0;
    let most = 0;
    const act = async (id: string) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, Number(id) % 3));
      inFlight--;
      if (id === '7') throw new InvalidOperationError('not parked', 'COMPLETED');
      if (id === '8') throw new SendFailedError('queue down');
      if (id === '9') throw new TypeError('bug');
    };

    // Act
    const { results, totals } = await runBulk(ids, act);

    // Assess
    expect(most).toBe(BULK_CONCURRENCY);
    expect(results.map((result) => result.commandId)).toEqual(ids);
    expect(results.slice(6, 10)).toEqual([
      { commandId: '6', outcome: 'done' },
      { commandId: '7', outcome: 'skipped', code: 'INVALID_OPERATION', reason: 'not parked' },
      { commandId: '8', outcome: 'failed', code: 'SEND_FAILED', reason: 'queue down' },
      { commandId: '9', outcome: 'failed', code: 'INTERNAL_ERROR', reason: 'bug' },
    ]);
    expect(totals).toEqual({ requested: 100, done: 97, skipped: 1, failed: 2 });
  });

  it('runs fewer lanes than the bound for fewer ids', async () => {
    let inFlight = 0;
    let most = 0;
    await runBulk(['a', 'b', 'c'], async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await Promise.resolve();
      inFlight--;
    });
    expect(most).toBe(3);
  });
});
