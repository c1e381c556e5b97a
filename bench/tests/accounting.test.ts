import { describe, expect, it } from 'vitest';
import { account, type PhaseRecord, type SystemRecord } from '../accounting.ts';
import { settle } from '../verify.ts';

const phase = (ids: string[], overrides: Partial<PhaseRecord> = {}): PhaseRecord => ({
  phase: 'load 1/1',
  ids,
  lost: [],
  sendErrors: [],
  deletesMissing: 0,
  ...overrides,
});

function system(overrides: Partial<SystemRecord> & { statuses: Map<string, string> }): SystemRecord {
  return {
    label: 'floor',
    phases: [phase([...overrides.statuses.keys()])],
    duplicateCompletions: 0,
    observedCompleted: () => true,
    queueDepth: 0,
    ...overrides,
  };
}

describe('Function: account', () => {
  it('passes a run where every command was seen COMPLETED and reads back COMPLETED', () => {
    // Prepare
    const record = system({
      statuses: new Map([
        ['a', 'COMPLETED'],
        ['b', 'COMPLETED'],
      ]),
    });

    // Act
    const result = account([record]);

    // Assess
    expect(result).toEqual({ problems: [], notes: [], completed: { floor: 2 } });
  });

  it('fails a command that was never COMPLETED and still reads PENDING: lost', () => {
    // Prepare
    const record = system({
      statuses: new Map([
        ['a', 'COMPLETED'],
        ['b', 'PENDING'],
      ]),
      phases: [phase(['a', 'b'], { lost: ['b'] })],
      observedCompleted: (id) => id === 'a',
    });

    // Act
    const result = account([record]);

    // Assess
    expect(result.problems).toEqual(['floor: lost: 1 command(s): b is PENDING, never COMPLETED']);
  });

  it('fails a command with no item at all', () => {
    // Prepare
    const record = system({ statuses: new Map(), phases: [phase(['a'], { lost: ['a'] })], observedCompleted: () => false });

    // Act
    const result = account([record]);

    // Assess
    expect(result.problems).toEqual(['floor: lost: 1 command(s): a is missing, never COMPLETED']);
  });

  it('fails an outcome overwritten after COMPLETED (a PutItem landing after the consumer finished)', () => {
    // Prepare
    const record = system({ statuses: new Map([['a', 'PENDING']]) });

    // Act
    const result = account([record]);

    // Assess
    expect(result.problems).toEqual(['floor: outcome overwritten: 1 command(s): a is PENDING after COMPLETED was written']);
  });

  it('only notes a command that completed after its slice stopped waiting (a redelivery), and passes', () => {
    // Prepare
    const record = system({ statuses: new Map([['a', 'COMPLETED']]), phases: [phase(['a'], { lost: ['a'] })] });

    // Act
    const result = account([record]);

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.notes).toEqual(["floor: COMPLETED after its slice's stall timeout (counted as not completed in that slice): 1 command(s): a (load 1/1)"]);
  });

  it('only notes deletes that landed after the counts and consumer errors, and passes', () => {
    // Prepare
    const record = system({
      statuses: new Map([['a', 'COMPLETED']]),
      phases: [phase(['a'], { deletesMissing: 1 })],
      notes: ['1 consumer error(s)'],
    });

    // Act
    const result = account([record]);

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.notes).toHaveLength(2);
  });

  it('fails duplicates, failed sends, messages left in the queue and failed system checks', () => {
    // Prepare
    const record = system({
      label: 'bus',
      statuses: new Map([['a', 'COMPLETED']]),
      phases: [phase(['a'], { sendErrors: ['a: boom'] })],
      duplicateCompletions: 2,
      queueDepth: 3,
      problems: ['getCommand(a): not found'],
    });

    // Act
    const result = account([record]);

    // Assess
    expect(result.problems).toEqual([
      'bus load 1/1: send failed: a: boom',
      'bus: 2 duplicate COMPLETED write(s)',
      'bus: 3 message(s) left in the commands queue',
      'bus: getCommand(a): not found',
    ]);
  });

  it('lists at most five ids per kind of problem and counts the rest', () => {
    // Prepare
    const ids = Array.from({ length: 8 }, (_, i) => `id${i}`);
    const record = system({ statuses: new Map(), phases: [phase(ids, { lost: ids })], observedCompleted: () => false });

    // Act
    const [problem] = account([record]).problems;

    // Assess
    expect(problem).toMatch(/^floor: lost: 8 command\(s\): id0 is missing, never COMPLETED; .*id4 is missing, never COMPLETED; … and 3 more$/);
  });
});

describe('Function: settle', () => {
  it('reads the statuses once the queue is empty, after reading the depth', async () => {
    // Prepare
    const calls: string[] = [];
    const depths = [2, 1, 0];
    const read = {
      queueDepth: async () => {
        calls.push('depth');
        return depths.shift()!;
      },
      statuses: async () => {
        calls.push('statuses');
        return new Map([['a', 'COMPLETED']]);
      },
    };

    // Act
    const final = await settle(read, 10_000, 1);

    // Assess
    expect(final.queueDepth).toBe(0);
    expect(calls).toEqual(['depth', 'depth', 'depth', 'statuses']);
  });

  it('gives up after settleMs and reports what is left', async () => {
    // Prepare
    const read = { queueDepth: async () => 1, statuses: async () => new Map([['a', 'PENDING']]) };

    // Act
    const final = await settle(read, 20, 5);

    // Assess
    expect(final).toEqual({ queueDepth: 1, statuses: new Map([['a', 'PENDING']]) });
  });
});
