/**
 * Whether every command sent during the bench is accounted for, decided from plain inputs:
 * what each slice observed (COMPLETED writes seen on the consumer's client before the stall
 * timeout), the final status of each command read back from the table, and the queue depth at the
 * end. Pure, so the rules are unit-tested (bench/tests/accounting.test.ts).
 *
 * A run fails (problems) only for something a correct system never does:
 *  - a command whose item is not COMPLETED at the end and was never seen COMPLETED: lost;
 *  - an item that was seen COMPLETED and is no longer: its outcome was overwritten;
 *  - more than one COMPLETED write for a command, a failed send, messages left in the queue, or a
 *    system's own check failing.
 * Things a correct run can show on a loaded machine are notes: a command that completed after its
 * slice's stall timeout (a redelivery after the visibility timeout), a delete that landed after the
 * slice's counts were taken, a consumer error that redelivery recovered from.
 */

export interface PhaseRecord {
  phase: string;
  ids: readonly string[];
  /** Not seen COMPLETED before the slice's stall timeout. */
  lost: readonly string[];
  sendErrors: readonly string[];
  /** Deletes that had not landed when the slice's counts were taken. */
  deletesMissing: number;
}

export interface SystemRecord {
  label: string;
  phases: readonly PhaseRecord[];
  /** COMPLETED writes seen for a command that had one already. */
  duplicateCompletions: number;
  /** Whether a COMPLETED write for this command was ever seen (during or after its slice). */
  observedCompleted: (commandId: string) => boolean;
  /** Each command's status read back from the table at the end (consistent reads); absent: no item. */
  statuses: ReadonlyMap<string, string>;
  /** Messages left in the commands queue (visible, in flight or delayed) at the end. */
  queueDepth: number;
  /** The system's own checks. */
  problems?: readonly string[];
  notes?: readonly string[];
}

export interface Accounting {
  problems: string[];
  notes: string[];
  /** Commands read back COMPLETED, per system. */
  completed: Record<string, number>;
}

/** At most this many ids are listed per kind of problem; the rest are counted. */
export const LISTED = 5;

export function account(systems: readonly SystemRecord[]): Accounting {
  const problems: string[] = [];
  const notes: string[] = [];
  const completed: Record<string, number> = {};
  for (const system of systems) {
    const lost: string[] = [];
    const overwritten: string[] = [];
    const late: string[] = [];
    let done = 0;
    for (const phase of system.phases) {
      const lostInSlice = new Set(phase.lost);
      for (const id of phase.ids) {
        const status = system.statuses.get(id);
        if (status === 'COMPLETED') {
          done++;
          if (lostInSlice.has(id)) late.push(`${id} (${phase.phase})`);
        } else if (system.observedCompleted(id)) {
          overwritten.push(`${id} is ${status ?? 'missing'} after COMPLETED was written`);
        } else {
          lost.push(`${id} is ${status ?? 'missing'}, never COMPLETED`);
        }
      }
      if (phase.sendErrors.length) problems.push(`${system.label} ${phase.phase}: send failed: ${phase.sendErrors.slice(0, 3).join('; ')}`);
      if (phase.deletesMissing) {
        notes.push(`${system.label} ${phase.phase}: ${phase.deletesMissing} delete(s) landed after the slice's counts were taken (counted in no slice)`);
      }
    }
    completed[system.label] = done;
    problems.push(...listed(`${system.label}: lost`, lost), ...listed(`${system.label}: outcome overwritten`, overwritten));
    notes.push(...listed(`${system.label}: COMPLETED after its slice's stall timeout (counted as not completed in that slice)`, late));
    if (system.duplicateCompletions) problems.push(`${system.label}: ${system.duplicateCompletions} duplicate COMPLETED write(s)`);
    if (system.queueDepth > 0) problems.push(`${system.label}: ${system.queueDepth} message(s) left in the commands queue`);
    problems.push(...(system.problems ?? []).map((problem) => `${system.label}: ${problem}`));
    notes.push(...(system.notes ?? []).map((note) => `${system.label}: ${note}`));
  }
  return { problems, notes, completed };
}

function listed(what: string, items: readonly string[]): string[] {
  if (items.length === 0) return [];
  const shown = items.slice(0, LISTED).join('; ');
  return [`${what}: ${items.length} command(s): ${shown}${items.length > LISTED ? `; … and ${items.length - LISTED} more` : ''}`];
}
