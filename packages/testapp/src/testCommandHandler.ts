import { PermanentCommandError, TransientCommandError, type CommandHandler, type JsonValue } from '@commandbus/core';
import type { BehaviourStore } from './BehaviourStore.ts';

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
 * TestCommand: does what the command's behaviour record says. A command without a record succeeds.
 * The result echoes the data, so tests can check the handler saw what was sent.
 */
export function createTestCommandHandler(behaviours: BehaviourStore): CommandHandler {
  return async (command, { attempt, signal }) => {
    const behaviour = (await behaviours.count(command.commandId, 'invocations')) ?? { type: 'success' as const };
    const succeed = async (delayMs = 0): Promise<JsonValue> => {
      if (delayMs > 0) await sleep(delayMs, signal);
      return { ok: true, attempt, received: command.data };
    };
    try {
      switch (behaviour.type) {
        case 'success':
          return await succeed(behaviour.delay_ms);
        case 'fail_permanent':
          throw new PermanentCommandError(behaviour.error_code ?? 'PERMANENT_FAILURE', behaviour.error_message ?? 'Permanent failure requested by the test');
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
      await behaviours.count(command.commandId, 'finished');
    }
  };
}
