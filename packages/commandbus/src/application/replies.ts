import type { CommandState } from '../domain/lifecycle.ts';
import { encodeJson } from '../domain/messageBody.ts';
import type { CommandTransport } from '../ports/CommandTransport.ts';
import type { Logger, Reply } from '../types.ts';

type Replyable = Pick<CommandState, 'domain' | 'commandId' | 'commandType' | 'correlationId' | 'replyTo'>;

/** One reply message per outcome; consumers should de-duplicate by commandId (SQS is at-least-once). */
export async function sendReply(
  transport: Pick<CommandTransport, 'sendReply'>,
  command: Replyable,
  outcome: Reply['outcome'],
  extra: Partial<Reply>,
): Promise<void> {
  if (!command.replyTo) return;
  const reply: Reply = {
    domain: command.domain,
    commandId: command.commandId,
    commandType: command.commandType,
    correlationId: command.correlationId,
    outcome,
    ...extra,
  };
  await transport.sendReply(command.replyTo, encodeJson(reply));
}

/** After an operator action has happened: a reply that cannot be sent is logged, not turned into a failed action. */
export async function sendReplyOrLog(
  transport: Pick<CommandTransport, 'sendReply'>,
  logger: Logger,
  command: Replyable,
  outcome: Reply['outcome'],
  extra: Partial<Reply>,
): Promise<void> {
  try {
    await sendReply(transport, command, outcome, extra);
  } catch (error) {
    logger.error('reply could not be sent', { commandId: command.commandId, replyTo: command.replyTo, error: String(error) });
  }
}
