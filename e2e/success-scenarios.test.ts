/** S023 — success scenarios: the happy path, delays, concurrency, correlation, replies, results (both targets). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus } from '@commandbus/core';
import { createScenario, type Scenario } from './support/fixtures.ts';

let s: Scenario;
beforeAll(async () => {
  s = await createScenario({ concurrency: 4 });
});
afterAll(async () => {
  await s.cleanup();
});

describe('Happy path', () => {
  it('goes PENDING → IN_PROGRESS → COMPLETED with SENT, RECEIVED, COMPLETED', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'success' });

    const sent = await s.bus.send({ domain: 'test', commandType: 'TestCommand', commandId, data: {} });
    // The message is enqueued before the command is recorded, so a fast worker may record it first:
    // send answers the status as it was recorded, which is PENDING unless the worker got there first.
    expect([CommandStatus.PENDING, CommandStatus.IN_PROGRESS, CommandStatus.COMPLETED]).toContain(sent.status);
    const command = await s.waitForCompletion(commandId);

    expect(command.attempts).toBe(1);
    const events = await s.bus.getAuditTrail(commandId);
    expect(events.map((event) => [event.eventType, event.attempt])).toEqual([
      ['SENT', 0],
      ['RECEIVED', 1],
      ['COMPLETED', 1],
    ]);
    expect(events.every((event) => !Number.isNaN(Date.parse(event.timestamp)))).toBe(true);
  });

  it('takes at least delay_ms for a delayed success', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'success', delay_ms: 500 });

    await s.send({ commandId });
    await s.waitForCompletion(commandId);

    const events = await s.bus.getAuditTrail(commandId);
    const received = events.find((event) => event.eventType === 'RECEIVED')!;
    const completed = events.find((event) => event.eventType === 'COMPLETED')!;
    expect(Date.parse(completed.timestamp) - Date.parse(received.timestamp)).toBeGreaterThanOrEqual(500);
  });

  it('runs 10 commands of 100 ms concurrently, clearly faster than one after another', async () => {
    const ids = Array.from({ length: 10 }, () => crypto.randomUUID());
    await Promise.all(ids.map((commandId) => s.behaviours.create(commandId, { type: 'success', delay_ms: 100 })));

    await Promise.all(ids.map((commandId) => s.send({ commandId })));
    await Promise.all(ids.map((commandId) => s.waitForCompletion(commandId, 20_000)));

    // Intervals from the audit trail: how many ran at the same time, and for how long in all.
    const intervals = await Promise.all(
      ids.map(async (commandId) => {
        const events = await s.bus.getAuditTrail(commandId);
        return [
          Date.parse(events.find((event) => event.eventType === 'RECEIVED')!.timestamp),
          Date.parse(events.find((event) => event.eventType === 'COMPLETED')!.timestamp),
        ] as const;
      }),
    );
    const peak = Math.max(...intervals.map(([start]) => intervals.filter(([a, b]) => a <= start && start < b).length));
    // Time during which at least one handler ran, against the time one after another would take.
    const sequential = intervals.reduce((sum, [start, end]) => sum + (end - start), 0);
    const sorted = [...intervals].sort((x, y) => x[0] - y[0]);
    let busy = 0;
    let coveredUntil = -Infinity;
    for (const [start, end] of sorted) {
      busy += Math.max(0, end - Math.max(start, coveredUntil));
      coveredUntil = Math.max(coveredUntil, end);
    }
    expect(sequential).toBeGreaterThanOrEqual(10 * 100);
    expect(peak).toBeGreaterThanOrEqual(2);
    expect(peak).toBeLessThanOrEqual(s.maxParallel);
    expect(busy).toBeLessThan(0.7 * sequential);
  });

  it('keeps the correlationId given, and generates one when absent', async () => {
    const given = crypto.randomUUID();
    const withId = await s.send({ correlationId: given });
    const without = await s.send();

    expect((await s.waitForCompletion(withId)).correlationId).toBe(given);
    const generated = (await s.waitForCompletion(without)).correlationId;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated).not.toBe(given);
  });

  it('sends exactly one reply to replyTo on completion', async () => {
    const commandId = crypto.randomUUID();
    const correlationId = crypto.randomUUID();

    await s.send({ commandId, correlationId, replyTo: s.names.repliesQueue, data: { order: 7 } });
    await s.waitForCompletion(commandId);

    const replies = await s.collectReplies(commandId);

    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ commandId, correlationId, outcome: 'SUCCESS', domain: 'test', commandType: 'TestCommand' });
    expect(replies[0]?.result).toMatchObject({ ok: true, received: { order: 7 } });
  });

  it('gives the handler the data sent and records its result', async () => {
    const data = { customer: 'c-1', lines: [{ sku: 'A', qty: 2 }], note: 'ünïcødé ✓' };

    const commandId = await s.send({ data });
    const command = await s.waitForCompletion(commandId);

    expect(command.result).toEqual({ ok: true, attempt: 1, received: data });
  });
});
