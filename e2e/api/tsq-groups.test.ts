/**
 * GET /domains/{domain}/tsq/groups through the HTTP API of the deployed shape (the worker a Lambda):
 * exact counts per group, the client's tsqGroups, and the counts dropping as commands are resolved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, type TsqGroup } from '@commandbus/core';
import { createScenario, target, type Scenario } from '../support/fixtures.ts';

let s: Scenario;
/** Unique codes: the API target's TSQ is shared with the other tests. */
const CODE = `API_G_${crypto.randomUUID().slice(0, 8)}`;
const OTHER = `API_GO_${crypto.randomUUID().slice(0, 8)}`;
const parked: string[] = [];
const other: string[] = [];

beforeAll(async () => {
  if (target().kind !== 'api') throw new Error('this file runs against an API target');
  s = await createScenario();
  const park = async (into: string[], code: string) => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: code });
    await s.send({ commandId });
    into.push(commandId);
  };
  for (let i = 0; i < 3; i++) await park(parked, CODE);
  await park(other, OTHER);
  await Promise.all([...parked, ...other].map((id) => s.waitForStatus(id, CommandStatus.IN_TSQ)));
});
afterAll(async () => {
  await s.cleanup();
});

const mine = (groups: TsqGroup[], code: string) => groups.filter((group) => group.errorCode === code);

describe('GET /domains/{domain}/tsq/groups', () => {
  it('answers the groups with exact counts, largest first, in the documented shape', async () => {
    const response = await s.client!.fetch('GET', '/domains/test/tsq/groups');
    const body = (await response.json()) as { items: TsqGroup[] };

    expect(response.status).toBe(200);
    expect(mine(body.items, CODE)).toMatchObject([{ domain: 'test', errorType: 'PERMANENT', errorCode: CODE, count: 3 }]);
    expect(mine(body.items, OTHER)).toMatchObject([{ count: 1 }]);
    const counts = body.items.map((group) => group.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    // A sample, when the group is among the detailed ones, is one of its commands.
    const [group] = mine(body.items, CODE);
    if (group?.sample) expect(parked).toContain(group.sample.commandId);
  });

  it('drops the count as an operator resolves a command (client: tsqGroups)', async () => {
    await s.tsq.operatorCancel({ domain: 'test', commandId: parked[0]!, operator: 'ignored', reason: 'duplicate' });
    await s.tsq.operatorCancel({ domain: 'test', commandId: other[0]!, operator: 'ignored', reason: 'duplicate' });

    const groups = await s.client!.tsqGroups('test');

    expect(mine(groups, CODE).map((group) => group.count)).toEqual([2]);
    expect(mine(groups, OTHER)).toEqual([]);
  });

  it('refuses a domain that is not a domain name with a ValidationError', async () => {
    const response = await s.client!.fetch('GET', '/domains/NOT%20A%20DOMAIN/tsq/groups');
    expect(response.status).toBe(400);
  });
});
