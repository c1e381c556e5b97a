/** Edit-and-retry through the HTTP API (the local Lambda runtime): the route, the history, and the caller recorded as operator. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus } from '@commandbus/core';
import { createScenario, type Scenario } from '../support/fixtures.ts';

let s: Scenario;
beforeAll(async () => {
  s = await createScenario();
});
afterAll(async () => {
  await s.cleanup();
});

describe('HTTP API: edit-and-retry', () => {
  it('retries a parked command with the corrected payload and records the caller as the operator', async () => {
    // Prepare
    const client = s.client!;
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: 'BAD_AMOUNT' });
    await s.send({ commandId, data: { amount: -5 } });
    await s.waitForStatus(commandId, CommandStatus.IN_TSQ);
    await s.behaviours.update(commandId, { type: 'success' });

    // Act
    const answered = await client.operatorEditAndRetry({ domain: 'test', commandId, data: { amount: 5 } });
    const completed = await s.waitForCompletion(commandId);

    // Assess
    expect(answered).toMatchObject({ edits: 1, data: { amount: 5 } });
    expect(completed).toMatchObject({ result: { ok: true, received: { amount: 5 } } });
    const history = await client.getCommandHistory({ domain: 'test', commandId });
    expect(history.items).toEqual([
      { domain: 'test', commandId, editNumber: 1, editedAt: expect.any(String), operator: s.operator, before: { amount: -5 }, after: { amount: 5 } },
    ]);
    const retry = (await client.getAuditTrail(commandId, 'test')).find((event) => event.eventType === 'OPERATOR_RETRY');
    expect(retry?.details).toEqual({ operator: s.operator, edited: true, editNumber: 1 });
  });

  it('refuses a payload send would refuse (400), a command not parked (409), and a missing body (400)', async () => {
    // Prepare
    const commandId = await s.send();
    await s.waitForCompletion(commandId);
    const post = (body?: string) => s.client!.fetch('POST', `/tsq/test/${commandId}/edit-and-retry`, body);

    // Act
    const invalid = await post(JSON.stringify({ data: { '': 1 } }));
    const notParked = await post(JSON.stringify({ data: { amount: 1 } }));
    const noBody = await post();

    // Assess
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { type: 'ValidationError', field: expect.stringMatching(/^data/) } });
    expect(notParked.status).toBe(409);
    expect(noBody.status).toBe(400);
  });
});
