/**
 * Edit-and-retry on the embedded target: a parked command retried with a corrected payload runs it,
 * and any number of edits keeps the command's item bounded while the history keeps every payload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, TroubleshootingQueue } from '@commandbus/core';
import { createScenario, type Scenario } from './support/fixtures.ts';

let s: Scenario;
let tsq: TroubleshootingQueue;
beforeAll(async () => {
  s = await createScenario();
  tsq = new TroubleshootingQueue(s.config);
});
afterAll(async () => {
  await s.cleanup();
});

describe('Edit-and-retry (embedded)', () => {
  it('completes a parked command with the corrected payload, and its history shows before, after and the operator', async () => {
    // Prepare
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: 'BAD_AMOUNT' });
    await s.send({ commandId, data: { amount: -5 } });
    await s.waitForStatus(commandId, CommandStatus.IN_TSQ);
    await s.behaviours.update(commandId, { type: 'success' });

    // Act
    await tsq.operatorEditAndRetry({ domain: 'test', commandId, operator: 'alice', data: { amount: 5 } });
    const completed = await s.waitForCompletion(commandId);

    // Assess
    expect(completed).toMatchObject({ edits: 1, result: { ok: true, received: { amount: 5 } } });
    const { items } = await tsq.getCommandHistory({ domain: 'test', commandId });
    expect(items).toEqual([
      { domain: 'test', commandId, editNumber: 1, editedAt: expect.any(String), operator: 'alice', before: { amount: -5 }, after: { amount: 5 } },
    ]);
    const retry = (await s.bus.getAuditTrail(commandId)).find((event) => event.eventType === 'OPERATOR_RETRY');
    expect(retry?.details).toEqual({ operator: 'alice', edited: true, editNumber: 1 });
  });

  it('takes 30 edits of a 100 KiB payload without outgrowing the item; the history keeps every one', async () => {
    // Prepare
    const commandId = crypto.randomUUID();
    const payload = (n: number) => ({ n, filler: 'z'.repeat(100 * 1024) });
    await s.behaviours.create(commandId, { type: 'fail_permanent' });
    await s.send({ commandId, data: payload(0) });
    await s.waitForStatus(commandId, CommandStatus.IN_TSQ);

    // Act: each edit is retried, fails again and is parked again
    for (let n = 1; n <= 30; n++) {
      await tsq.operatorEditAndRetry({ domain: 'test', commandId, operator: `op-${n}`, data: payload(n) });
      await s.waitForStatus(commandId, CommandStatus.IN_TSQ);
    }

    // Assess
    const parked = await s.getCommand(commandId);
    expect(parked).toMatchObject({ status: CommandStatus.IN_TSQ, edits: 30, data: payload(30) });
    const edits = [];
    let cursor: string | undefined;
    do {
      const page = await tsq.getCommandHistory({ domain: 'test', commandId, ...(cursor ? { cursor } : {}) });
      edits.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(edits.map((edit) => edit.editNumber)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(edits.every((edit, i) => edit.operator === `op-${i + 1}` && edit.before?.n === i && edit.after.n === i + 1)).toBe(true);
  }, 120_000);
});
