import { encodeEnvelope, type Envelope } from './domain/envelope.ts';
import { enqueueFailedTransition, type CommandState } from './domain/lifecycle.ts';
import { SendFailedError } from './errors.ts';
import type { CommandStore } from './storage/CommandStore.ts';
import type { CommandTransport } from './transport/CommandTransport.ts';

/**
 * Sends the stored payload of a command just moved from IN_TSQ to PENDING under `token` (operator
 * retry or native redrive). If the message cannot be sent, the command goes back to the TSQ with
 * the reason: a PENDING command never waits for a message that does not exist.
 */
export async function requeueCommand(store: CommandStore, transport: CommandTransport, state: CommandState, token: string): Promise<void> {
  const envelope: Envelope = {
    v: 1,
    domain: state.domain,
    commandType: state.commandType,
    commandId: state.commandId,
    data: state.data ?? {},
    maxAttempts: state.maxAttempts,
    correlationId: state.correlationId,
    ...(state.replyTo === undefined ? {} : { replyTo: state.replyTo }),
    token,
    sentAt: state.createdAt,
  };
  try {
    await transport.sendCommand(state.domain, encodeEnvelope(envelope));
  } catch (error) {
    await store.apply(
      enqueueFailedTransition(
        state,
        token,
        { type: 'TRANSIENT', code: 'ENQUEUE_FAILED', message: `retry could not enqueue: ${String(error)}` },
        new Date().toISOString(),
      ),
    );
    throw new SendFailedError(`retry of ${state.domain}/${state.commandId} could not enqueue; it is back in the TSQ`, { cause: error });
  }
}
