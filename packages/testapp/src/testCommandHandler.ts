import { PermanentCommandError, TransientCommandError, type CommandHandler, type JsonObject, type JsonValue } from '@commandbus/core';
import { type Behaviour, type BehaviourStore, validateBehaviour } from './BehaviourStore.ts';

export const TEST_DOMAIN = 'test';
export const TEST_COMMAND = 'TestCommand';

/** Resolves after `ms`, or rejects with the signal's reason when the attempt's time limit passes. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The behaviour a command carries in its payload (`data.behavior`, the seed story's spelling), for
 * load tests and demos: no behaviour record to write first, and no store request per attempt. An
 * invalid one is a permanent failure that says why.
 */
function inlineBehaviour(data: JsonObject): Behaviour | undefined {
  if (data.behavior === undefined) return undefined;
  try {
    return validateBehaviour(data.behavior);
  } catch (error) {
    throw new PermanentCommandError('INVALID_BEHAVIOUR', `data.behavior: ${(error as Error).message}`);
  }
}

/**
 * TestCommand: does what the command's payload (`data.behavior`) or its behaviour record says; a
 * command with neither succeeds. The result echoes the data, so tests can check the handler saw what
 * was sent. Invocations are counted in the record, when there is one.
 */
export function createTestCommandHandler(behaviours: BehaviourStore): CommandHandler {
  return async (command, { attempt, signal }) => {
    const inline = inlineBehaviour(command.data);
    const behaviour = inline ?? (await behaviours.count(command.commandId, 'invocations')) ?? { type: 'success' as const };
    const succeed = async (delayMs = 0): Promise<JsonValue> => {
      if (delayMs > 0) await sleep(delayMs, signal);
      return { ok: true, attempt, received: command.data };
    };
    try {
      switch (behaviour.type) {
        case 'success':
          return await succeed(behaviour.delay_ms);
        case 'fail_permanent':
          throw new PermanentCommandError(
            behaviour.error_code ?? 'PERMANENT_FAILURE',
            behaviour.error_message ?? 'Permanent failure requested by the test',
            behaviour.error_details,
          );
        case 'fail_transient':
          throw new TransientCommandError(behaviour.error_code ?? 'TRANSIENT_FAILURE', behaviour.error_message ?? 'Transient failure requested by the test');
        case 'fail_transient_then_succeed':
          if (attempt <= behaviour.transient_failures) {
            throw new TransientCommandError(behaviour.error_code ?? 'TRANSIENT_FAILURE', `transient failure ${attempt} of ${behaviour.transient_failures}`);
          }
          return await succeed(behaviour.delay_ms);
        case 'timeout':
          return await succeed(behaviour.timeout_ms);
        case 'slow_first_attempt':
          if (attempt > 1) return await succeed();
          // Deliberately ignores the abort signal: it models work that outlives its attempt.
          await new Promise((resolve) => setTimeout(resolve, behaviour.delay_ms));
          if (behaviour.outcome === 'fail_permanent') throw new PermanentCommandError('LATE_FAILURE', 'attempt 1 failed after being superseded');
          return { ok: true, attempt, late: true };
      }
    } finally {
      if (inline === undefined) await behaviours.count(command.commandId, 'finished');
    }
  };
}
