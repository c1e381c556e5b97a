/**
 * Bulk operator actions on the embedded target: parked commands retried, cancelled by a list of ids,
 * each through its single-command path, with the request's bulkId on every command's audit event.
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

/** `count` commands parked by a permanent failure. */
async function park(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  await Promise.all(ids.map((commandId) => s.behaviours.create(commandId, { type: 'fail_permanent', error_code: 'BAD_AMOUNT' })));
  await Promise.all(ids.map((commandId) => s.send({ commandId, data: { amount: -1 } })));
  await Promise.all(ids.map((commandId) => s.waitForStatus(commandId, CommandStatus.IN_TSQ, 30_000)));
  return ids;
}

describe('Bulk operator actions (embedded)', () => {
  it('bulk-retries 20 parked commands once their handler succeeds: all complete, each retried once under the bulkId', async () => {
    // Prepare
    const ids = await park(20);
    await Promise.all(ids.map((commandId) => s.behaviours.update(commandId, { type: 'success' })));
    const unknown = crypto.randomUUID();

    // Act
    const result = await tsq.bulk({ domain: 'test', action: 'retry', commandIds: [...ids, ids[0]!, unknown], operator: 'alice' });
    await Promise.all(ids.map((commandId) => s.waitForCompletion(commandId, 30_000)));

    // Assess
    expect(result.totals).toEqual({ requested: 21, done: 20, skipped: 1, failed: 0 });
    expect(result.results.at(-1)).toMatchObject({ commandId: unknown, outcome: 'skipped', code: 'COMMAND_NOT_FOUND' });
    for (const commandId of ids) {
      const retries = (await s.bus.getAuditTrail(commandId)).filter((event) => event.eventType === 'OPERATOR_RETRY');
      expect(retries.map((event) => event.details)).toEqual([{ operator: 'alice', bulkId: result.bulkId }]);
    }
  });

  it('bulk-cancels with a reason; a second bulk cancel skips them all', async () => {
    // Prepare
    const ids = await park(5);

    // Act
    const result = await tsq.bulk({ domain: 'test', action: 'cancel', commandIds: ids, operator: 'bob', reason: 'superseded' });
    const again = await tsq.bulk({ domain: 'test', action: 'cancel', commandIds: ids, operator: 'bob', reason: 'superseded' });

    // Assess
    expect(result.totals).toEqual({ requested: 5, done: 5, skipped: 0, failed: 0 });
    expect(again.totals).toEqual({ requested: 5, done: 0, skipped: 5, failed: 0 });
    expect(again.results.every((item) => item.code === 'INVALID_OPERATION')).toBe(true);
    for (const commandId of ids) {
      expect(await s.getCommand(commandId)).toMatchObject({ status: CommandStatus.CANCELLED });
      const cancels = (await s.bus.getAuditTrail(commandId)).filter((event) => event.eventType === 'OPERATOR_CANCEL');
      expect(cancels.map((event) => event.details)).toEqual([expect.objectContaining({ operator: 'bob', reason: 'superseded', bulkId: result.bulkId })]);
    }
  });
});
