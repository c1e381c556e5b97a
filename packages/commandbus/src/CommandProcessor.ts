import { decodeEnvelope, encodeEnvelope, ERROR_CODE_ATTRIBUTE, PARKED_ATTRIBUTE, type Envelope } from './domain/envelope.ts';
import {
  decideReceive,
  failureTransition,
  receivedRecord,
  receiveTransition,
  REDRIVE_OPERATOR,
  successTransition,
  withoutPayload,
  type CommandState,
  type Transition,
} from './domain/lifecycle.ts';
import { encodeJson } from './domain/messageBody.ts';
import { classifyError, HandlerTimeoutError, MAX_RESULT_BYTES } from './domain/outcome.ts';
import type { RetryPolicy } from './domain/retryPolicy.ts';
import { assertJson } from './domain/validation.ts';
import { PermanentCommandError } from './errors.ts';
import type { HandlerRegistry } from './HandlerRegistry.ts';
import { requeueCommand } from './requeue.ts';
import type { CommandStore } from './storage/CommandStore.ts';
import type { CommandTransport, TransportMessage } from './transport/CommandTransport.ts';
import { AuditEventType, CommandStatus, type CommandError, type JsonValue, type Logger, type Reply } from './types.ts';

/**
 * What the caller should do with the message:
 * - `ack`: done with it (delete it);
 * - `release`: its redelivery is already scheduled (a retry backoff) — leave it;
 * - `abandon`: a later attempt owns the command now (this one finished late) — leave it alone.
 */
export type ProcessOutcome = 'ack' | 'release' | 'abandon';

export interface CommandProcessorOptions {
  domain: string;
  store: CommandStore;
  transport: CommandTransport;
  registry: HandlerRegistry;
  retryPolicy: RetryPolicy;
  /** The handler's time limit; past it the attempt is a transient TIMEOUT. */
  handlerTimeoutMs: number;
  logger: Logger;
}

/**
 * Takes one received message through the lifecycle. Shared by the long-running Worker and the
 * Lambda worker, so both follow exactly the same rules.
 */
export class CommandProcessor {
  private readonly options: CommandProcessorOptions;
  constructor(options: CommandProcessorOptions) {
    this.options = options;
  }

  async process(message: TransportMessage): Promise<ProcessOutcome> {
    const decoded = decodeEnvelope(message.body);
    if (!decoded.ok) {
      await this.parkMalformed(message, decoded.reason);
      return 'ack';
    }
    const envelope = decoded.envelope;
    const attempt = await this.start(envelope, message);
    if (attempt === undefined) return 'ack';
    return this.runAttempt(envelope, attempt, message);
  }

  /** Records the receive. Returns the attempt number to run, or undefined when the message is done. */
  private async start(envelope: Envelope, message: TransportMessage): Promise<number | undefined> {
    const { store, logger } = this.options;
    const fromTsq = message.attributes[PARKED_ATTRIBUTE] !== undefined;
    // Fast path: one conditional write, guessing the attempts so far from SQS's receive count.
    const guess = fromTsq ? undefined : receiveTransition(envelope, Math.max(0, message.receiveCount - 1), now());
    let current: CommandState | undefined;
    if (guess) {
      const result = await store.apply(guess);
      if (result.applied) return guess.set.attempts!;
      current = result.current;
    } else {
      current = await store.get(envelope.domain, envelope.commandId);
    }
    // Slow path: decide from the stored state; losing a race means deciding again.
    for (let round = 0; round < 5; round++) {
      const decision = decideReceive(current, envelope, fromTsq, now());
      switch (decision.kind) {
        case 'create': {
          const inserted = await store.insert(receivedRecord(envelope, now()));
          if (inserted.created) return 1;
          current = inserted.existing;
          continue;
        }
        case 'process': {
          const result = await store.apply(decision.transition);
          if (result.applied) return decision.attempt;
          current = result.current;
          continue;
        }
        case 'redrive': {
          const result = await store.apply(decision.transition);
          if (!result.applied) {
            current = result.current;
            continue;
          }
          // The parked copy carries the payload, even when the item could not store it.
          await requeueCommand(store, this.options.transport, { ...current!, data: envelope.data }, decision.token, REDRIVE_OPERATOR, decision.details);
          return undefined;
        }
        case 'exhaust': {
          const result = await this.applyParking(decision.transition);
          if (!result.applied) {
            current = result.current;
            continue;
          }
          await this.park(envelope, decision.error);
          return undefined;
        }
        case 'repark':
          await this.park(envelope, current?.lastError);
          return undefined;
        case 'resend-reply':
          try {
            await this.reply(decision.state, 'SUCCESS', { result: decision.state.result ?? null });
          } catch (error) {
            // The command is done; a reply that keeps failing must not keep its message cycling
            // until SQS parks it as if the command had failed.
            if (message.receiveCount < MAX_REPLY_ATTEMPTS) throw error;
            logger.error('reply could not be sent; giving up', { commandId: envelope.commandId, replyTo: envelope.replyTo, error: String(error) });
          }
          return undefined;
        case 'drop':
          logger.info('dropping message', { commandId: envelope.commandId, reason: decision.reason });
          return undefined;
      }
    }
    throw new Error(`command ${envelope.domain}/${envelope.commandId} kept changing while being received; it will be redelivered`);
  }

  private async runAttempt(envelope: Envelope, attempt: number, message: TransportMessage): Promise<ProcessOutcome> {
    const { store, transport, logger, retryPolicy } = this.options;
    const ref = { domain: envelope.domain, commandId: envelope.commandId, token: envelope.token, attempt };
    const log = { commandId: envelope.commandId, correlationId: envelope.correlationId, commandType: envelope.commandType, attempt };
    let transition: Transition;
    let afterWrite: () => Promise<ProcessOutcome>;
    try {
      const result = await this.invoke(envelope, attempt);
      transition = successTransition(ref, result, now());
      afterWrite = async () => {
        if (envelope.replyTo) await this.reply(envelope, 'SUCCESS', { result: result ?? null });
        return 'ack';
      };
    } catch (thrown) {
      const error = classifyError(thrown);
      logger.warn('command failed', { ...log, errorType: error.type, errorCode: error.code, errorMessage: error.message });
      const decision = failureTransition({ ...ref, maxAttempts: envelope.maxAttempts }, error, envelope.data, retryPolicy, now());
      transition = decision.transition;
      afterWrite =
        decision.kind === 'retry'
          ? async () => {
              await transport.delay(envelope.domain, message.receiptHandle, decision.delaySeconds);
              return 'release';
            }
          : async () => {
              await this.park(envelope, error);
              return 'ack';
            };
    }
    const applied = transition.set.tsq === 'enter' ? await this.applyParking(transition) : await store.apply(transition);
    if (!applied.applied) {
      // A later attempt (after a visibility timeout) or an operator owns the command now.
      logger.warn('late result ignored', { ...log, currentStatus: applied.current?.status, currentAttempts: applied.current?.attempts });
      return 'abandon';
    }
    return afterWrite();
  }

  private async invoke(envelope: Envelope, attempt: number): Promise<JsonValue | undefined> {
    const handler = this.options.registry.get(envelope.domain, envelope.commandType);
    if (!handler) {
      throw new PermanentCommandError('NO_HANDLER', `no handler registered for ${envelope.domain}/${envelope.commandType}`);
    }
    const timeoutMs = this.options.handlerTimeoutMs;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new HandlerTimeoutError(timeoutMs);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    const { replyTo } = envelope;
    const command = {
      domain: envelope.domain,
      commandType: envelope.commandType,
      commandId: envelope.commandId,
      correlationId: envelope.correlationId,
      data: envelope.data,
      maxAttempts: envelope.maxAttempts,
      ...(replyTo === undefined ? {} : { replyTo }),
    };
    const context = { attempt, signal: controller.signal, deadline: Date.now() + timeoutMs, logger: this.options.logger };
    try {
      // A handler that ignores its signal keeps running, but its attempt ends at the time limit.
      const result = await Promise.race([Promise.resolve().then(() => handler(command, context)), timeout]);
      if (result === undefined) return undefined;
      try {
        assertJson('result', result);
      } catch (error) {
        throw new PermanentCommandError('INVALID_RESULT', `handler returned a result that is not JSON: ${(error as Error).message}`);
      }
      // A result the item cannot hold would fail every write and loop until SQS gives up on it.
      const bytes = Buffer.byteLength(JSON.stringify(result), 'utf8');
      if (bytes > MAX_RESULT_BYTES) {
        throw new PermanentCommandError('RESULT_TOO_LARGE', `handler returned a result of ${bytes} bytes; the limit is ${MAX_RESULT_BYTES}`);
      }
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Parks the command; if its item would outgrow DynamoDB's limit, parks it without the payload. */
  private async applyParking(transition: Transition) {
    try {
      return await this.options.store.apply(transition);
    } catch (error) {
      if (!isItemTooLarge(error)) throw error;
      this.options.logger.error('command item too large: parking without its payload', { commandId: transition.commandId });
      return this.options.store.apply(withoutPayload(transition));
    }
  }

  /** Puts a copy in the TSQ queue so the console/CLI can redrive it; the command is IN_TSQ already. */
  private async park(envelope: Envelope, error: CommandError | undefined): Promise<void> {
    await this.options.transport.park(envelope.domain, encodeEnvelope(envelope), {
      [PARKED_ATTRIBUTE]: '1',
      [ERROR_CODE_ATTRIBUTE]: error?.code ?? 'UNKNOWN',
    });
  }

  /**
   * A message that is not a command envelope cannot be processed, but must not vanish: it is
   * recorded IN_TSQ under its SQS message id (the raw body kept as data) and parked.
   */
  private async parkMalformed(message: TransportMessage, reason: string): Promise<void> {
    const { store, transport, logger, domain } = this.options;
    const at = now();
    const error: CommandError = { type: 'PERMANENT', code: 'MALFORMED_MESSAGE', message: reason };
    logger.error('malformed message parked in the TSQ', { messageId: message.messageId, reason });
    const record = {
      domain,
      commandId: message.messageId,
      commandType: '(malformed)',
      status: CommandStatus.IN_PROGRESS,
      attempts: 1,
      maxAttempts: 1,
      token: message.messageId,
      correlationId: message.messageId,
      createdAt: at,
      updatedAt: at,
      events: [{ eventType: AuditEventType.RECEIVED, timestamp: at, attempt: 1, details: { messageId: message.messageId } }],
    };
    const inserted = await store.insert(record);
    if (inserted.created || inserted.existing.status === CommandStatus.IN_PROGRESS) {
      await store.apply({
        domain,
        commandId: message.messageId,
        expect: { status: CommandStatus.IN_PROGRESS, token: message.messageId },
        set: { status: CommandStatus.IN_TSQ, updatedAt: at, lastError: error, data: { rawBody: message.body }, tsq: 'enter' },
        events: [
          {
            eventType: AuditEventType.MOVED_TO_TSQ,
            timestamp: at,
            attempt: 1,
            details: { errorType: error.type, errorCode: error.code, errorMessage: error.message },
          },
        ],
      });
    }
    await transport.park(domain, message.body, { [PARKED_ATTRIBUTE]: 'malformed', [ERROR_CODE_ATTRIBUTE]: error.code });
  }

  private async reply(
    command: Pick<CommandState, 'domain' | 'commandId' | 'commandType' | 'correlationId' | 'replyTo'>,
    outcome: Reply['outcome'],
    extra: Partial<Reply>,
  ): Promise<void> {
    if (!command.replyTo) return;
    await sendReply(this.options.transport, command, outcome, extra);
  }
}

/** One reply message per outcome; consumers should de-duplicate by commandId (SQS is at-least-once). */
export async function sendReply(
  transport: CommandTransport,
  command: Pick<CommandState, 'domain' | 'commandId' | 'commandType' | 'correlationId' | 'replyTo'>,
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

const now = () => new Date().toISOString();

/** Receives of a completed command's message spent on sending its reply before giving up. */
const MAX_REPLY_ATTEMPTS = 5;

/** DynamoDB's answer to a write that would make an item larger than 400 KB. */
function isItemTooLarge(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException' && /item size|exceeded the maximum allowed size/i.test(error.message);
}
