/**
 * Scoped callers (packages/commandbus/src/scopes.ts): a viewer reads everything and may not act; an operator of one
 * domain acts there and nowhere else; the audit records the caller's identity. Locally the tokens
 * come from apiGlobalSetup; on AWS they would be IAM principals given the construct's grant helpers —
 * without such credentials configured this suite is reported as not run, never as passed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandBusClient } from '@commandbus/client';
import { CommandStatus } from '@commandbus/core';
import { OPERATOR_ACTIONS } from '@commandbus/core/scopes';
import { createScenario, target, type Scenario } from '../support/fixtures.ts';

const where = target();
const scoped = where.kind === 'api' ? where.scoped : undefined;

if (!scoped) {
  it.skip(`NOT RUN: no scoped credentials are configured for the ${where.kind === 'api' ? where.where : where.kind} target (a viewer and a domain operator)`, () => {});
} else {
  const { viewer, domainOperator } = scoped;
  const apiUrl = where.kind === 'api' ? where.apiUrl : '';
  const as = (caller: { auth: ConstructorParameters<typeof CommandBusClient>[0]['auth'] }) => new CommandBusClient({ baseUrl: apiUrl, auth: caller.auth });
  const bodyOf = (action: string) => (action === 'cancel' ? '{"reason":"no"}' : action === 'edit-and-retry' ? '{"data":{"amount":1}}' : '{}');

  let s: Scenario;
  let parked: string;
  beforeAll(async () => {
    s = await createScenario();
    parked = crypto.randomUUID();
    await s.behaviours.create(parked, { type: 'fail_permanent', error_code: 'BAD_AMOUNT' });
    await s.send({ commandId: parked, data: { amount: -5 } });
    await s.waitForStatus(parked, CommandStatus.IN_TSQ);
  });
  afterAll(async () => {
    await s.cleanup();
  });

  describe('HTTP API: scopes', () => {
    it('lets a viewer list and read, and answers 403 (Forbidden) to every operator action and to a send', async () => {
      // Prepare
      const client = as(viewer);

      // Act
      const list = await client.fetch('GET', `/tsq?domain=${domainOperator.domain}`);
      const scopedList = await client.fetch('GET', `/domains/${domainOperator.domain}/tsq`);
      const read = await client.fetch('GET', `/commands/${domainOperator.domain}/${parked}`);
      const audit = await client.fetch('GET', `/commands/${domainOperator.domain}/${parked}/audit`);
      const actions = await Promise.all(
        OPERATOR_ACTIONS.map((action) => client.fetch('POST', `/tsq/${domainOperator.domain}/${parked}/${action}`, bodyOf(action))),
      );
      const send = await client.fetch(
        'POST',
        '/commands',
        JSON.stringify({ domain: domainOperator.domain, commandType: 'TestCommand', commandId: crypto.randomUUID(), data: {} }),
      );

      // Assess
      expect([list.status, scopedList.status, read.status, audit.status]).toEqual([200, 200, 200, 200]);
      expect(((await scopedList.json()) as { items: { commandId: string }[] }).items.map((item) => item.commandId)).toContain(parked);
      for (const [index, response] of actions.entries()) expect(response.status, OPERATOR_ACTIONS[index]).toBe(403);
      expect(send.status).toBe(403);
      if (where.kind === 'api' && where.where === 'local') {
        expect(await actions[0]!.json()).toEqual({ error: { type: 'Forbidden', code: 'FORBIDDEN', message: expect.stringMatching(/operate \(retry\)/) } });
      }
      expect((await s.client!.getCommand(domainOperator.domain, parked))?.status).toBe(CommandStatus.IN_TSQ);
    });

    it("lets a domain operator retry in its domain only: another domain's retry is a 403, before any 404", async () => {
      // Prepare
      const client = as(domainOperator);
      await s.behaviours.update(parked, { type: 'success' });

      // Act
      const elsewhere = await client.fetch('POST', `/tsq/shipping/${crypto.randomUUID()}/retry`, '{}');
      const readElsewhere = await client.fetch('GET', `/commands/shipping/${crypto.randomUUID()}`);
      const listUnscoped = await client.fetch('GET', `/tsq?domain=${domainOperator.domain}`);
      const cancel = await client.fetch('POST', `/tsq/${domainOperator.domain}/${parked}/cancel`, '{"reason":"no"}');
      const retried = await client.operatorRetry({ domain: domainOperator.domain, commandId: parked });
      const completed = await s.waitForCompletion(parked);

      // Assess
      expect([elsewhere.status, readElsewhere.status, listUnscoped.status, cancel.status]).toEqual([403, 403, 403, 403]);
      expect(retried.commandId).toBe(parked);
      expect(completed.status).toBe(CommandStatus.COMPLETED);
      const retry = (await s.client!.getAuditTrail(parked, domainOperator.domain)).find((event) => event.eventType === 'OPERATOR_RETRY');
      // An assumed role: the role is the operator, the session name (the caller's choice) kept apart.
      expect(retry?.details).toEqual({
        operator: domainOperator.operator,
        ...(domainOperator.operatorSession === undefined ? {} : { operatorSession: domainOperator.operatorSession }),
      });
    });
  });
}
