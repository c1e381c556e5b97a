import type { CommandState, NewCommandRecord, Transition } from '../domain/lifecycle.ts';
import { InvalidOperationError } from '../errors.ts';
import { ItemTooLargeError, type ApplyResult, type InsertResult } from '../ports/CommandStore.ts';

/** The store calls a decision loop needs (a CommandStore, or the worker's confirmed writes over one). */
export interface StoreWrites {
  get(domain: string, commandId: string): Promise<CommandState | undefined>;
  apply(transition: Transition): Promise<ApplyResult>;
  insert(record: NewCommandRecord): Promise<InsertResult>;
}

/** What to do, given the command as it is stored now. */
export type Step<T> =
  /** Apply this transition; `after` runs once it has. `ifTooLarge` is applied instead when the item would outgrow the store. */
  | { write: Transition; ifTooLarge?: Transition; after: () => T | Promise<T> }
  /** Create this record; `after` runs once it is created. */
  | { create: NewCommandRecord; after: () => T | Promise<T> }
  | { done: () => T | Promise<T> };

const MAX_ROUNDS = 5;

/**
 * Decide from the stored state, write conditionally, and when the write is refused because the
 * command changed meanwhile, decide again from what it is now — a bounded number of times. Every
 * read-decide-write in the bus goes through here, so losing a race always means deciding again.
 */
export async function applyWithRetry<T>(
  store: StoreWrites,
  key: { domain: string; commandId: string },
  decide: (current: CommandState | undefined) => Step<T>,
  options: { known?: { current: CommandState | undefined }; contention: (current: CommandState | undefined) => Error },
): Promise<T> {
  let current = options.known ? options.known.current : await store.get(key.domain, key.commandId);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const step = decide(current);
    if ('done' in step) return step.done();
    if ('create' in step) {
      const inserted = await store.insert(step.create);
      if (inserted.created) return step.after();
      current = inserted.existing;
      continue;
    }
    const applied = await applyOrShrink(store, step.write, step.ifTooLarge);
    if (applied.applied) return step.after();
    current = applied.current;
  }
  throw options.contention(current);
}

/** Applies `transition`; if the item would outgrow the store, applies `smaller` instead (when given). */
export async function applyOrShrink(store: StoreWrites, transition: Transition, smaller: Transition | undefined): Promise<ApplyResult> {
  try {
    return await store.apply(transition);
  } catch (error) {
    if (!(error instanceof ItemTooLargeError) || smaller === undefined) throw error;
    return store.apply(smaller);
  }
}

/** The answer to an operator whose action lost every round to concurrent changes: nothing changed. */
export function keptChanging(domain: string, commandId: string): (current: CommandState | undefined) => Error {
  return (current) => new InvalidOperationError(`${domain}/${commandId} kept changing; try again`, current?.status ?? 'UNKNOWN');
}
