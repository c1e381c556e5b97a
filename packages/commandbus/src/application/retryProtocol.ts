import { encodeEnvelope, type Envelope } from '../domain/envelope.ts';
import { operatorRetryTransition, type CommandState } from '../domain/lifecycle.ts';
import { InvalidOperationError, SendFailedError } from '../errors.ts';
import type { CommandStore } from '../ports/CommandStore.ts';
import type { CommandTransport } from '../ports/CommandTransport.ts';
import type { JsonObject } from '../types.ts';

/**
 * Steps 2 and 3 of a retry (operator retry or native redrive) whose request — the new token kept on
 * the IN_TSQ command — is recorded: send the stored payload under `token`, then move the command to
 * PENDING. The command stays IN_TSQ, visible and actionable, until the message exists; a worker that
 * receives it before step 3 lands finishes the retry itself.
 */
export async function requeueCommand(
  store: CommandStore,
  transport: CommandTransport,
  requested: CommandState,
  token: string,
  operator: string,
  details: JsonObject = {},
): Promise<void> {
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
    await transport.sendCommand(requested.domain, encodeEnvelope(envelope));
  } catch (error) {
    throw new SendFailedError(`retry of ${requested.domain}/${requested.commandId} could not enqueue; it is still in the TSQ`, { cause: error });
  }
  const result = await store.apply(operatorRetryTransition(requested, operator, token, new Date().toISOString(), details));
  if (result.applied || result.current?.token === token) return; // or a worker got there first
  throw new InvalidOperationError(
    `${requested.domain}/${requested.commandId} changed while being retried (now ${result.current?.status ?? 'gone'}); the retry's message will be dropped`,
    result.current?.status ?? 'UNKNOWN',
  );
}
