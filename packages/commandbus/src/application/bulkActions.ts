/**
 * Operator actions over a list of commands: each id through the single-command path (each already
 * conditional, so a command is acted on at most once), a bounded number at a time; one command's
 * failure never stops the others.
 */
import { validateUuid } from '../domain/validation.ts';
import { CommandBusError, CommandNotFoundError, InvalidOperationError, ValidationError } from '../errors.ts';
import type { BulkItemResult, BulkResult } from '../types.ts';

/** The most ids one bulk request may name. */
export const MAX_BULK_IDS = 1000;
/** How many commands a bulk request acts on at a time. */
export const BULK_CONCURRENCY = 16;

/**
 * The ids of a bulk request, validated up front: 1–1,000 UUIDs, lower-cased, duplicates collapsed
 * (first occurrence kept). A bad one is refused as `commandIds[i]`, and nothing is acted on.
 */
export function validateBulkIds(commandIds: unknown): string[] {
  if (!Array.isArray(commandIds)) throw new ValidationError('commandIds', 'must be an array of command ids (UUIDs)');
  if (commandIds.length === 0 || commandIds.length > MAX_BULK_IDS) {
    throw new ValidationError('commandIds', `must hold 1 to ${MAX_BULK_IDS} ids (got ${commandIds.length})`);
  }
  const ids = commandIds.map((id, index) => validateUuid(`commandIds[${index}]`, id));
  return [...new Set(ids)];
}

/** Runs `act` on every id, at most `concurrency` at a time; the results in the order of the ids. */
export async function runBulk(
  commandIds: readonly string[],
  act: (commandId: string) => Promise<void>,
  concurrency = BULK_CONCURRENCY,
): Promise<Pick<BulkResult, 'results' | 'totals'>> {
  const results: BulkItemResult[] = new Array(commandIds.length);
  let next = 0;
  const lane = async () => {
    while (next < commandIds.length) {
      const index = next++;
      const commandId = commandIds[index]!;
      results[index] = await act(commandId).then(
        (): BulkItemResult => ({ commandId, outcome: 'done' }),
        (error: unknown) => outcomeOf(commandId, error),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, commandIds.length) }, lane));
  const count = (outcome: BulkItemResult['outcome']) => results.filter((result) => result.outcome === outcome).length;
  return { results, totals: { requested: results.length, done: count('done'), skipped: count('skipped'), failed: count('failed') } };
}

/** Not IN_TSQ any more, or not there: skipped; anything else: failed. */
function outcomeOf(commandId: string, error: unknown): BulkItemResult {
  const skipped = error instanceof InvalidOperationError || error instanceof CommandNotFoundError;
  const code =
    error instanceof CommandBusError ? error.code : error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'INTERNAL_ERROR';
  const reason = error instanceof Error ? error.message : String(error);
  return { commandId, outcome: skipped ? 'skipped' : 'failed', reason, code };
}
