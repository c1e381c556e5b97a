/**
 * The retry protocol — an operator's retry and a console/CLI redrive of the TSQ queue end the same
 * way — in one place:
 *
 * 1. record the new token on the command while it stays IN_TSQ (still visible, still actionable),
 *    so a crash before the message exists strands nothing (lifecycle: retryRequestTransition);
 * 2. send the stored payload under that token;
 * 3. move the command to PENDING with attempts reset (lifecycle: operatorRetryTransition).
 *
 * A worker that receives the message before step 3 lands finishes the retry itself (lifecycle:
 * decideReceive adopts the pending retry), and every older message or attempt is stale from step 3 on.
 *
 * An edit-and-retry is the same protocol with a different step 1 (editRetryRequestTransition): the
 * corrected payload replaces the stored one, and the replaced one moves to the command's history, in
 * that one write. Step 2 sends the stored payload as always — now the corrected one — so a crash
 * anywhere leaves a command whose every way forward runs the corrected payload.
 */
import { randomUUID } from 'node:crypto';
import { encodeEnvelope, type Envelope } from '../domain/envelope.ts';
import {
  editRetryRequestTransition,
  MALFORMED_COMMAND_TYPE,
  operatorRetryTransition,
  PAYLOAD_NOT_STORED,
  retryRequestTransition,
  type CommandState,
} from '../domain/lifecycle.ts';
import { CommandNotFoundError, InvalidOperationError, SendFailedError } from '../errors.ts';
import type { CommandStore } from '../ports/CommandStore.ts';
import type { CommandTransport } from '../ports/CommandTransport.ts';
import type { JsonObject } from '../types.ts';
import { applyWithRetry, keptChanging } from './applyWithRetry.ts';

export interface RetryPorts {
  store: CommandStore;
  transport: Pick<CommandTransport, 'sendCommand'>;
}

/** An operator's retry: all three steps. */
export async function retryCommand(ports: RetryPorts, request: { domain: string; commandId: string; operator: string; details?: JsonObject }): Promise<void> {
  const { domain, commandId, operator } = request;
  const token = randomUUID();
  let details = request.details ?? {};
  const requested = await applyWithRetry(
    ports.store,
    { domain, commandId },
    (current) => {
      if (!current) throw new CommandNotFoundError(domain, commandId);
      assertRetryable(current);
      // An edit whose retry never completed (a crash after its step 1): the stored payload is the
      // edited one, and this retry runs it — the audit event says so.
      const abandonedEdit = current.pendingRetry?.details?.edited === true ? current.pendingRetry.details : undefined;
      details = abandonedEdit ? { edited: true, editNumber: abandonedEdit.editNumber ?? null, ...(request.details ?? {}) } : (request.details ?? {});
      return { write: retryRequestTransition(current, operator, token, now(), details), after: () => current };
    },
    { contention: keptChanging(domain, commandId) },
  );
  await completeRetry(ports, requested, token, operator, details);
}

/**
 * An operator's edit-and-retry: `data` (already validated like a send's) replaces the stored payload
 * and is re-enqueued; the payload before and after are kept in the command's history. A command
 * whose payload could not be stored may be edited (the operator supplies it); a malformed message
 * may not (it has no command type to run).
 */
export async function editAndRetryCommand(
  ports: RetryPorts,
  request: { domain: string; commandId: string; operator: string; data: JsonObject; details?: JsonObject },
): Promise<void> {
  const { domain, commandId, operator, data, details: operatorDetails = {} } = request;
  const token = randomUUID();
  let details: JsonObject = {};
  const requested = await applyWithRetry(
    ports.store,
    { domain, commandId },
    (current) => {
      if (!current) throw new CommandNotFoundError(domain, commandId);
      assertEditable(current);
      const write = editRetryRequestTransition(current, operator, token, data, now(), operatorDetails);
      details = write.set.pendingRetry?.details ?? {};
      return { write, after: (): CommandState => ({ ...current, data, edits: write.set.edits }) };
    },
    { contention: keptChanging(domain, commandId) },
  );
  await completeRetry(ports, requested, token, operator, details);
}

/**
 * Steps 2 and 3, once step 1 is recorded (by `retryCommand`, or by the worker for a redriven parked
 * copy, whose payload it passes in `requested.data` even when the item could not store it).
 */
export async function completeRetry(ports: RetryPorts, requested: CommandState, token: string, operator: string, details: JsonObject = {}): Promise<void> {
  const envelope: Envelope = {
    v: 1,
    domain: requested.domain,
    commandType: requested.commandType,
    commandId: requested.commandId,
    data: requested.data ?? {},
    maxAttempts: requested.maxAttempts,
    correlationId: requested.correlationId,
    ...(requested.replyTo === undefined ? {} : { replyTo: requested.replyTo }),
    token,
    sentAt: requested.createdAt,
  };
  try {
    await ports.transport.sendCommand(requested.domain, encodeEnvelope(envelope));
  } catch (error) {
    throw new SendFailedError(`retry of ${requested.domain}/${requested.commandId} could not enqueue; it is still in the TSQ`, { cause: error });
  }
  const result = await ports.store.apply(operatorRetryTransition(requested, operator, token, now(), details));
  if (result.applied || result.current?.token === token) return; // or a worker got there first
  throw new InvalidOperationError(
    `${requested.domain}/${requested.commandId} changed while being retried (now ${result.current?.status ?? 'gone'}); the retry's message will be dropped`,
    result.current?.status ?? 'UNKNOWN',
  );
}

/** What an operator retry needs beyond IN_TSQ: something to run, and its payload. */
function assertRetryable(current: CommandState): void {
  if (current.status !== 'IN_TSQ') return; // the lifecycle refuses it with the status
  if (current.commandType === MALFORMED_COMMAND_TYPE) {
    throw new InvalidOperationError(
      `${current.domain}/${current.commandId} is a message that is not a command (${current.lastError?.message ?? 'malformed'}); it cannot be retried — cancel or complete it`,
      current.status,
    );
  }
  if (current.data === undefined) {
    throw new InvalidOperationError(`${current.domain}/${current.commandId}: ${PAYLOAD_NOT_STORED}`, current.status);
  }
}

function assertEditable(current: CommandState): void {
  if (current.status === 'IN_TSQ' && current.commandType === MALFORMED_COMMAND_TYPE) {
    throw new InvalidOperationError(
      `${current.domain}/${current.commandId} is a message that is not a command (${current.lastError?.message ?? 'malformed'}); ` +
        'it has no command type to run, so it cannot be edited and retried — send a new command with the corrected payload, then cancel or complete this one',
      current.status,
    );
  }
}

const now = () => new Date().toISOString();
