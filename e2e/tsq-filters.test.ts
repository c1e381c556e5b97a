/**
 * The TSQ listing filtered by error code, error type and the time commands were parked, with
 * paging, on the embedded target: commands parked by the worker with the test app's failures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, ValidationError, type TsqEntry, type TsqQuery } from '@commandbus/core';
import { createScenario, type Scenario } from './support/fixtures.ts';

let s: Scenario;
/** Unique codes, so the assertions hold whatever else the TSQ holds. */
const CODE_A = `E2E_A_${crypto.randomUUID().slice(0, 8)}`;
const CODE_B = `E2E_B_${crypto.randomUUID().slice(0, 8)}`;
const permanentA: string[] = [];
const permanentB: string[] = [];
const transientA: string[] = [];

beforeAll(async () => {
  s = await createScenario({ concurrency: 4 });
  const park = async (into: string[], behaviour: Parameters<Scenario['behaviours']['create']>[1], maxAttempts?: number) => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, behaviour);
    await s.send({ commandId, ...(maxAttempts === undefined ? {} : { maxAttempts }) });
    into.push(commandId);
  };
  for (let i = 0; i < 4; i++) await park(permanentA, { type: 'fail_permanent', error_code: CODE_A });
  for (let i = 0; i < 2; i++) await park(permanentB, { type: 'fail_permanent', error_code: CODE_B });
  // A transient failure on the last attempt parks the command with its TRANSIENT error.
  for (let i = 0; i < 2; i++) await park(transientA, { type: 'fail_transient', error_code: CODE_A }, 1);
  await Promise.all([...permanentA, ...permanentB, ...transientA].map((id) => s.waitForStatus(id, CommandStatus.IN_TSQ)));
});
afterAll(async () => {
  await s.cleanup();
});

/** Every page of a listing; fails on a runaway cursor. */
async function everyPage(query: TsqQuery): Promise<TsqEntry[][]> {
  const pages: TsqEntry[][] = [];
  let cursor: string | undefined;
  do {
    const page = await s.tsq.list({ ...query, ...(cursor ? { cursor } : {}) });
    pages.push(page.items);
    cursor = page.nextCursor;
    if (pages.length > 50) throw new Error('more than 50 pages: the cursor does not advance');
  } while (cursor);
  return pages;
}

const sorted = (ids: string[]) => [...ids].sort();
const idsOf = (pages: TsqEntry[][]) => pages.flat().map((entry) => entry.commandId);

describe('TroubleshootingQueue.list: error filters', () => {
  it('lists by error code across pages, each entry once, the most recently parked first', async () => {
    const pages = await everyPage({ domain: 'test', errorCode: CODE_A, limit: 2 });
    const entries = pages.flat();

    expect(sorted(idsOf(pages))).toEqual(sorted([...permanentA, ...transientA]));
    expect(pages.every((page) => page.length <= 2)).toBe(true);
    expect(entries.every((entry) => entry.lastError?.code === CODE_A && entry.status === CommandStatus.IN_TSQ)).toBe(true);
    const parkedAt = entries.map((entry) => entry.movedToTsqAt);
    expect(parkedAt).toEqual([...parkedAt].sort().reverse());
  });

  it('narrows by error type, and by error type with the code', async () => {
    const permanent = idsOf(await everyPage({ domain: 'test', errorCode: CODE_A, errorType: 'PERMANENT', limit: 3 }));
    const transient = idsOf(await everyPage({ domain: 'test', errorCode: CODE_A, errorType: 'TRANSIENT' }));
    const codeB = idsOf(await everyPage({ domain: 'test', errorCode: CODE_B, errorType: 'PERMANENT' }));
    const noTimeouts = idsOf(await everyPage({ domain: 'test', errorCode: CODE_B, errorType: 'TIMEOUT' }));
    const allPermanent = idsOf(await everyPage({ domain: 'test', errorType: 'PERMANENT', limit: 100 }));

    expect(sorted(permanent)).toEqual(sorted(permanentA));
    expect(sorted(transient)).toEqual(sorted(transientA));
    expect(sorted(codeB)).toEqual(sorted(permanentB));
    expect(noTimeouts).toEqual([]);
    expect(allPermanent).toEqual(expect.arrayContaining([...permanentA, ...permanentB]));
    expect(allPermanent).not.toEqual(expect.arrayContaining([transientA[0]]));
  });

  it('splits the matches at a time they were parked: from is inclusive, to exclusive', async () => {
    const all = (await everyPage({ domain: 'test', errorCode: CODE_A, limit: 100 })).flat();
    const middle = all[Math.floor(all.length / 2)]!.movedToTsqAt;

    const since = idsOf(await everyPage({ domain: 'test', errorCode: CODE_A, from: middle, limit: 2 }));
    const before = idsOf(await everyPage({ domain: 'test', errorCode: CODE_A, to: middle, limit: 2 }));
    const exactly = idsOf(await everyPage({ domain: 'test', errorCode: CODE_A, from: middle, to: middle }));

    expect(sorted([...since, ...before])).toEqual(sorted(all.map((entry) => entry.commandId)));
    expect(all.filter((entry) => entry.movedToTsqAt >= middle).map((entry) => entry.commandId)).toEqual(since);
    expect(exactly).toEqual([]);
  });

  it('refuses an unknown error type, and a cursor reused with another error code, naming the field', async () => {
    const badType = await s.tsq.list({ domain: 'test', errorType: 'FATAL' as 'PERMANENT' }).catch((caught: unknown) => caught);
    const { nextCursor } = await s.tsq.list({ domain: 'test', errorCode: CODE_A, limit: 1 });
    const reused = await s.tsq.list({ domain: 'test', errorCode: CODE_B, limit: 1, cursor: nextCursor! }).catch((caught: unknown) => caught);

    expect(badType).toBeInstanceOf(ValidationError);
    expect((badType as ValidationError).field).toBe('errorType');
    expect(nextCursor).toBeDefined();
    expect(reused).toBeInstanceOf(ValidationError);
    expect((reused as ValidationError).field).toBe('cursor');
  });
});
