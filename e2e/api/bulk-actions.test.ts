/** Bulk operator actions through the HTTP API (the local Lambda runtime): the route, the caller as operator, the refusals. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, ValidationError } from '@commandbus/core';
import { createScenario, type Scenario } from '../support/fixtures.ts';

let s: Scenario;
beforeAll(async () => {
  s = await createScenario();
});
afterAll(async () => {
  await s.cleanup();
});

describe('HTTP API: bulk operator actions', () => {
  it('bulk-retries parked commands, skips an unknown id, and records the caller and the bulkId on each', async () => {
    // Prepare
    const client = s.client!;
    const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
    await Promise.all(ids.map((commandId) => s.behaviours.create(commandId, { type: 'fail_permanent', error_code: 'BAD_AMOUNT' })));
    await Promise.all(ids.map((commandId) => s.send({ commandId, data: { amount: -1 } })));
    await Promise.all(ids.map((commandId) => s.waitForStatus(commandId, CommandStatus.IN_TSQ, 30_000)));
    await Promise.all(ids.map((commandId) => s.behaviours.update(commandId, { type: 'success' })));
    const unknown = crypto.randomUUID();

    // Act
    const result = await client.bulk({ domain: 'test', action: 'retry', commandIds: [...ids, unknown] });
    await Promise.all(ids.map((commandId) => s.waitForCompletion(commandId, 30_000)));

    // Assess
    expect(result).toMatchObject({ domain: 'test', action: 'retry', totals: { requested: 6, done: 5, skipped: 1, failed: 0 } });
    expect(result.results.at(-1)).toMatchObject({ commandId: unknown, outcome: 'skipped', code: 'COMMAND_NOT_FOUND' });
    for (const commandId of ids) {
      const retry = (await client.getAuditTrail(commandId, 'test')).find((event) => event.eventType === 'OPERATOR_RETRY');
      expect(retry?.details).toMatchObject({ operator: s.operator, bulkId: result.bulkId });
    }
  });

  it('refuses a bad id naming its index, a cancel without a reason, and an unknown action (400), acting on nothing', async () => {
    // Prepare
    const client = s.client!;
    const good = crypto.randomUUID();

    // Act
    const badId = client.bulk({ domain: 'test', action: 'retry', commandIds: [good, 'nope'] });
    const noReason = client.bulk({ domain: 'test', action: 'cancel', commandIds: [good] });
    const unknownAction = client.bulk({ domain: 'test', action: 'edit' as never, commandIds: [good] });

    // Assess
    await expect(badId).rejects.toBeInstanceOf(ValidationError);
    await expect(badId).rejects.toMatchObject({ field: 'commandIds[1]' });
    await expect(noReason).rejects.toMatchObject({ field: 'reason' });
    await expect(unknownAction).rejects.toMatchObject({ field: 'action' });
  });
});
