/**
 * TSQ groups on the embedded target: commands parked by the worker with the test app's failures
 * under two error codes are counted exactly per group; resolving some drops the counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, TroubleshootingQueue, type TsqGroup } from '@commandbus/core';
import { createScenario, waitFor, type Scenario } from './support/fixtures.ts';

let s: Scenario;
let tsq: TroubleshootingQueue;
/** Unique codes, so the assertions hold whatever else the shared domain's TSQ holds. */
const CODE_A = `E2E_GA_${crypto.randomUUID().slice(0, 8)}`;
const CODE_B = `E2E_GB_${crypto.randomUUID().slice(0, 8)}`;
const parkedA: string[] = [];
const parkedB: string[] = [];

beforeAll(async () => {
  s = await createScenario({ concurrency: 4 });
  tsq = new TroubleshootingQueue(s.config);
  const park = async (into: string[], code: string) => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: code });
    await s.send({ commandId });
    into.push(commandId);
  };
  for (let i = 0; i < 5; i++) await park(parkedA, CODE_A);
  for (let i = 0; i < 3; i++) await park(parkedB, CODE_B);
  await Promise.all([...parkedA, ...parkedB].map((id) => s.waitForStatus(id, CommandStatus.IN_TSQ)));
});
afterAll(async () => {
  await s.cleanup();
});

const groupOf = (groups: TsqGroup[], code: string) => groups.filter((group) => group.errorCode === code);

describe('TroubleshootingQueue.groups', () => {
  it('counts the parked commands of each group exactly, with the newest, the oldest and a sample', async () => {
    const groups = await tsq.groups({ domain: 'test', detailed: 50 });
    const [a] = groupOf(groups, CODE_A);
    const [b] = groupOf(groups, CODE_B);

    expect(groupOf(groups, CODE_A)).toHaveLength(1);
    expect(a).toMatchObject({ domain: 'test', errorType: 'PERMANENT', errorCode: CODE_A, count: 5 });
    expect(b).toMatchObject({ domain: 'test', errorType: 'PERMANENT', errorCode: CODE_B, count: 3 });
    const listed = (await s.tsq.list({ domain: 'test', errorCode: CODE_A, limit: 10 })).items;
    expect(a!.newestMovedToTsqAt).toBe(listed[0]!.movedToTsqAt);
    expect(a!.oldestMovedToTsqAt).toBe(listed[listed.length - 1]!.movedToTsqAt);
    expect(parkedA).toContain(a!.sample!.commandId);
    expect(a!.sample).toMatchObject({ status: CommandStatus.IN_TSQ, lastError: { code: CODE_A } });
    const counts = groups.map((group) => group.count);
    expect(counts).toEqual([...counts].sort((x, y) => y - x));
  });

  it('drops the counts as operators resolve commands (retry, cancel, complete); an emptied group disappears', async () => {
    // Resolve two of A (cancel, complete) and every B (retry: it fails again and parks again, then cancel).
    await s.tsq.operatorCancel({ domain: 'test', commandId: parkedA[0]!, operator: 'e2e', reason: 'duplicate' });
    await s.tsq.operatorComplete({ domain: 'test', commandId: parkedA[1]!, operator: 'e2e', resultData: { manual: true } });
    for (const commandId of parkedB) await s.tsq.operatorCancel({ domain: 'test', commandId, operator: 'e2e', reason: 'obsolete' });

    const groups = await tsq.groups({ domain: 'test', detailed: 50 });

    expect(groupOf(groups, CODE_A).map((group) => group.count)).toEqual([3]);
    expect(groupOf(groups, CODE_B)).toEqual([]);
  });

  it('counts a retried command again when it parks again', async () => {
    const commandId = parkedA[2]!;
    await s.tsq.operatorRetry({ domain: 'test', commandId, operator: 'e2e' });
    // The behaviour still fails permanently: the command parks again in the same group.
    await waitFor('the retried command parked again', async () => {
      const types = await s.auditTypes(commandId);
      return types.lastIndexOf('MOVED_TO_TSQ') > types.indexOf('OPERATOR_RETRY') && types.includes('OPERATOR_RETRY') ? true : undefined;
    });
    const [a] = groupOf(await tsq.groups({ domain: 'test' }), CODE_A);

    expect(a?.count).toBe(3);
  });
});
