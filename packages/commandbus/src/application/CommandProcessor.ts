import { randomUUID } from 'node:crypto';
import {
  attributeValue,
  decodeEnvelope,
  ERROR_CODE_ATTRIBUTE,
  PARKED_ATTRIBUTE,
  RECORD_ATTRIBUTE,
  RETAKE_ATTRIBUTE,
  RETAKES_ATTRIBUTE,
  TOKEN_ATTRIBUTE,
  type DecodeResult,
  type Envelope,
} from '../domain/envelope.ts';
import {
  decideReceive,
  failureTransition,
  MALFORMED_COMMAND_TYPE,
  malformedRecord,
  recordIdOf,
  receivedRecord,
  receiveTransition,
  REDRIVE_OPERATOR,
  successTransition,
  withoutPayload,
  type CommandState,
  type NewCommandRecord,
  type ReceiveDecision,
  type Transition,
} from '../domain/lifecycle.ts';
import { classifyError, HandlerTimeoutError, MAX_RESULT_BYTES } from '../domain/outcome.ts';
import { payloadForHandler } from '../domain/payloadSchema.ts';
import type { RetryPolicy } from '../domain/retryPolicy.ts';
import { assertJson } from '../domain/validation.ts';
import { PermanentCommandError } from '../errors.ts';
import type { HandlerRegistry } from '../HandlerRegistry.ts';
import { applyOrShrink, applyWithRetry, type Step } from './applyWithRetry.ts';
import { sendReply } from './replies.ts';
import { completeRetry } from './retryProtocol.ts';
import type { ResourceNames } from '../resources.ts';
import { StoreUnavailableError, type ApplyResult, type CommandStore, type InsertResult } from '../ports/CommandStore.ts';
import type { CommandQueue, TransportMessage, TsqQueue } from '../ports/CommandTransport.ts';
import { NOOP_OBSERVER, type CommandObserver } from '../ports/CommandObserver.ts';
import { CommandStatus, type CommandError, type JsonValue, type Logger } from '../types.ts';

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
  /** The commands queue, and the TSQ queue to park in. */
  transport: CommandQueue & Pick<TsqQueue, 'park'>;
  registry: HandlerRegistry;
  retryPolicy: RetryPolicy;
  /** The handler's time limit; past it the attempt is a transient TIMEOUT. */
  handlerTimeoutMs: number;
  /**
   * Keeps the message hidden while its handler runs, for a handler allowed to run longer than the
   * visibility timeout. Default: none — a handler that outlives the visibility timeout is redelivered
   * and the redelivery counts as a new attempt.
   */
  heartbeat?: HeartbeatOptions;
  logger: Logger;
  /** The namespace's queue names: a reply may never be sent to the bus's own queues. */
  names?: ResourceNames;
  /** Told each written outcome (metrics) and wraps each handler run (traces). Default: NOOP_OBSERVER. */
  observer?: CommandObserver;
}

/**
 * While a handler runs, every `intervalSeconds` the message's visibility is changed to
 * `visibilitySeconds()` from that moment (ChangeMessageVisibility), so SQS does not hand it out
 * again. The beats stop when the handler ends or reaches its time limit, so the message is never
 * hidden past the handler's deadline plus one extension. A failed beat is logged; the attempt goes on.
 */
export interface HeartbeatOptions {
  /** Seconds between two beats; below the visibility a beat sets, so the next one comes in time. */
  intervalSeconds: number;
  /** Seconds each beat hides the message for: the Worker's visibility timeout; in Lambda, what is left of the invocation. */
  visibilitySeconds: () => number;
}

export interface ProcessContext {
  /**
   * Epoch ms until which a write whose outcome is unknown (the store timed out, dropped the
   * connection, throttled) is retried. Past it the worker gives the message back — sent again,
   * marked with its lease — without having spent an attempt. Default: 20 s from now.
   */
  storeDeadline?: number;
}

/** Times a message is sent again because the store could not be reached, before SQS is left to decide. */
export const MAX_RETAKES = 12;
const DEFAULT_STORE_PATIENCE_MS = 20_000;

/**
 * Takes one received message through the lifecycle. Shared by the long-running Worker and the
 * Lambda worker, so both follow exactly the same rules.
 */
export class CommandProcessor {
  private readonly options: CommandProcessorOptions;
  private readonly observer: CommandObserver;
  constructor(options: CommandProcessorOptions) {
    this.options = options;
    this.observer = options.observer ?? NOOP_OBSERVER;
  }

  /** The logger for one command's lines: each carries its domain, type, id and correlation id. */
  private loggerFor(envelope: Envelope): Logger {
    const { domain, commandType, commandId, correlationId } = envelope;
    return withLogKeys(this.options.logger, { domain, commandType, commandId, correlationId });
  }

  async process(message: TransportMessage, context: ProcessContext = {}): Promise<ProcessOutcome> {
    // One lease per delivery: it tells this delivery's writes from anyone else's.
    const writes = new ConfirmedWrites(this.options.store, randomUUID(), context.storeDeadline ?? Date.now() + DEFAULT_STORE_PATIENCE_MS);
    try {
      const decoded = this.decode(message);
      if (!decoded.ok) {
        await this.parkMalformed(message, decoded.reason, writes);
        return 'ack';
      }
      const envelope = decoded.envelope;
      const attempt = await this.start(envelope, message, writes);
      if (attempt === undefined) return 'ack';
      return await this.runAttempt(envelope, attempt, message, writes);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      return this.giveBack(message, writes.lease, error);
    }
  }

  /** The envelope, checked like a send, and against the queue it came from. */
  private decode(message: TransportMessage): DecodeResult {
    const decoded = decodeEnvelope(message.body);
    if (!decoded.ok) return decoded;
    const { envelope } = decoded;
    // The queue a worker polls decides the domain: acting on another domain's command with this
    // queue's receipt handle would mix up both.
    if (envelope.domain !== this.options.domain) {
      return { ok: false, reason: `the envelope claims domain '${envelope.domain}' but arrived on the queue of domain '${this.options.domain}'` };
    }
    if (envelope.replyTo !== undefined && this.options.names?.isBusQueue(envelope.replyTo)) {
      return { ok: false, reason: `field 'replyTo': names the bus's own queue ${envelope.replyTo}` };
    }
    return decoded;
  }

  /** Records the receive. Returns the attempt number to run, or undefined when the message is done. */
  private async start(envelope: Envelope, message: TransportMessage, writes: ConfirmedWrites): Promise<number | undefined> {
    const fromTsq = message.attributes[PARKED_ATTRIBUTE] !== undefined;
    const retakeOf = message.attributes[RETAKE_ATTRIBUTE];
    const delivery = { lease: writes.lease, ...(retakeOf === undefined ? {} : { retakeOf }) };
    // Fast path: one conditional write, guessing the attempts so far from SQS's receive count (a
    // message sent again after an outage starts counting anew, so it takes the slow path).
    const guess = fromTsq || retakeOf !== undefined ? undefined : receiveTransition(envelope, Math.max(0, message.receiveCount - 1), now(), writes.lease);
    let known: { current: CommandState | undefined } | undefined;
    if (guess) {
      const result = await writes.apply(guess);
      if (result.applied) return guess.set.attempts!;
      known = { current: result.current };
    }
    // Slow path: decide from the stored state; losing a race means deciding again.
    return applyWithRetry(
      writes,
      { domain: envelope.domain, commandId: envelope.commandId },
      (current) => this.receiveStep(decideReceive(current, envelope, fromTsq, now(), delivery), current, envelope, message, writes),
      {
        ...(known ? { known } : {}),
        contention: () => new Error(`command ${envelope.domain}/${envelope.commandId} kept changing while being received; it will be redelivered`),
      },
    );
  }

  /** The receive decision as a step: what to write, and what follows once it is written. */
  private receiveStep(
    decision: ReceiveDecision,
    current: CommandState | undefined,
    envelope: Envelope,
    message: TransportMessage,
    writes: ConfirmedWrites,
  ): Step<number | undefined> {
    const { store, transport } = this.options;
    const logger = this.loggerFor(envelope);
    switch (decision.kind) {
      case 'create':
        return { create: receivedRecord(envelope, now(), writes.lease), after: () => 1 };
      case 'process':
        return { write: decision.transition, after: () => decision.attempt };
      case 'redrive':
        return {
          write: decision.transition,
          // The stored payload (an operator may have edited it since the copy was parked); the
          // parked copy's when the item could not store one.
          after: async () => {
            await completeRetry(
              { store, transport },
              { ...current!, data: current!.data ?? envelope.data },
              decision.token,
              REDRIVE_OPERATOR,
              decision.details,
            );
            return undefined;
          },
        };
      case 'exhaust':
        return {
          write: decision.transition,
          ifTooLarge: withoutPayload(decision.transition),
          after: async () => {
            this.observer.commandParked({ ...commandRef(envelope), errorCode: decision.error.code });
            await this.park(message, envelope, decision.error);
            return undefined;
          },
        };
      case 'repark':
        return {
          done: async () => {
            await this.park(message, envelope, current?.lastError);
            return undefined;
          },
        };
      case 'resend-reply':
        return {
          done: async () => {
            try {
              await sendReply(transport, decision.state, 'SUCCESS', { result: decision.state.result ?? null });
            } catch (error) {
              // The command is done; a reply that keeps failing must not keep its message cycling
              // until SQS parks it as if the command had failed.
              if (message.receiveCount < MAX_REPLY_ATTEMPTS) throw error;
              logger.error('reply could not be sent; giving up', { commandId: envelope.commandId, replyTo: envelope.replyTo, error: String(error) });
            }
            return undefined;
          },
        };
      case 'drop':
        return {
          done: () => {
            logger.info('dropping message', { commandId: envelope.commandId, reason: decision.reason });
            return undefined;
          },
        };
    }
  }

  private async runAttempt(envelope: Envelope, attempt: number, message: TransportMessage, writes: ConfirmedWrites): Promise<ProcessOutcome> {
    const { transport, retryPolicy } = this.options;
    const logger = this.loggerFor(envelope);
    const ref = { domain: envelope.domain, commandId: envelope.commandId, token: envelope.token, attempt, lease: writes.lease };
    const log = { attempt };
    const observed = { ...commandRef(envelope), attempt };
    const around = this.observer.aroundHandler?.bind(this.observer) ?? ((_command: unknown, run: () => Promise<JsonValue | undefined>) => run());
    let transition: Transition;
    let afterWrite: () => Promise<ProcessOutcome>;
    const started = performance.now();
    let durationMs = 0;
    try {
      const result = await this.withHeartbeat(message, logger, log, () =>
        around(observed, () => this.invoke(envelope, attempt, logger)).finally(() => {
          durationMs = performance.now() - started;
        }),
      );
      transition = successTransition(ref, result, now());
      afterWrite = async () => {
        this.observer.commandCompleted({ ...observed, durationMs, latencyMs: Math.max(0, Date.now() - Date.parse(envelope.sentAt)) });
        if (envelope.replyTo) await sendReply(transport, envelope, 'SUCCESS', { result: result ?? null });
        return 'ack';
      };
    } catch (thrown) {
      const error = classifyError(thrown);
      logger.warn('command failed', { ...log, errorType: error.type, errorCode: error.code, errorMessage: error.message });
      const failed = () => this.observer.commandFailed({ ...observed, durationMs, errorType: error.type, errorCode: error.code });
      const decision = failureTransition(
        { ...ref, maxAttempts: envelope.maxAttempts, commandType: envelope.commandType },
        error,
        envelope.data,
        retryPolicy,
        now(),
      );
      transition = decision.transition;
      afterWrite =
        decision.kind === 'retry'
          ? async () => {
              failed();
              this.observer.commandRetried({ ...observed, delaySeconds: decision.delaySeconds });
              await transport.delay(envelope.domain, message.receiptHandle, decision.delaySeconds);
              return 'release';
            }
          : async () => {
              failed();
              this.observer.commandParked({ ...commandRef(envelope), errorCode: error.code });
              await this.park(message, envelope, error);
              return 'ack';
            };
    }
    // The handler has run: the store must learn its outcome even if it takes a moment to answer.
    writes.extend(MIN_OUTCOME_PATIENCE_MS);
    const applied = await applyOrShrink(writes, transition, transition.set.tsq === 'enter' ? withoutPayload(transition) : undefined);
    if (!applied.applied) {
      // A later attempt (after a visibility timeout) or an operator owns the command now.
      logger.warn('late result ignored', { ...log, currentStatus: applied.current?.status, currentAttempts: applied.current?.attempts });
      return 'abandon';
    }
    return afterWrite();
  }

  /** Runs `run` (the handler) while beating, if a heartbeat is configured; resolves once no beat is in flight. */
  private async withHeartbeat<T>(message: TransportMessage, logger: Logger, log: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
    const { heartbeat, transport, domain } = this.options;
    if (!heartbeat) return run();
    let beating: Promise<void> | undefined;
    const beat = () => {
      if (beating !== undefined) return; // the previous beat has not answered yet: one at a time
      let seconds: number | undefined;
      // Started inside a promise: whatever throws is a failed beat, never an uncaught timer error.
      beating = Promise.resolve()
        .then(() => {
          seconds = heartbeat.visibilitySeconds();
          return transport.delay(domain, message.receiptHandle, seconds);
        })
        .then(
          () => logger.debug('visibility extended', { ...log, messageId: message.messageId, seconds }),
          (error: unknown) => logger.warn('visibility heartbeat failed; the attempt goes on', { ...log, messageId: message.messageId, error: String(error) }),
        )
        .finally(() => {
          beating = undefined;
        });
    };
    const timer = setInterval(beat, heartbeat.intervalSeconds * 1000);
    try {
      return await run();
    } finally {
      clearInterval(timer);
      // A beat still in flight must land before the outcome's own visibility change (a retry's
      // backoff), or it would hide the message for the heartbeat's seconds instead of the backoff's.
      await beating;
    }
  }

  private async invoke(envelope: Envelope, attempt: number, logger: Logger): Promise<JsonValue | undefined> {
    const handler = this.options.registry.get(envelope.domain, envelope.commandType);
    if (!handler) {
      throw new PermanentCommandError('NO_HANDLER', `no handler registered for ${envelope.domain}/${envelope.commandType}`);
    }
    // Typed commands: the payload is checked before the handler runs (a mismatch is a PERMANENT
    // INVALID_PAYLOAD, parked at once) and the handler gets the schema's output.
    const schema = this.options.registry.schemaFor(envelope.domain, envelope.commandType);
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
    const context = { attempt, signal: controller.signal, deadline: Date.now() + timeoutMs, logger };
    try {
      // A handler that ignores its signal keeps running, but its attempt ends at the time limit.
      const run = schema
        ? async () => handler({ ...command, data: await payloadForHandler(schema, envelope.data, envelope.commandType) }, context)
        : () => handler(command, context);
      const result = await Promise.race([Promise.resolve().then(run), timeout]);
      if (result === undefined) return undefined;
      try {
        assertJson('result', result);
      } catch (error) {
        throw new PermanentCommandError('INVALID_RESULT', `handler returned a result that cannot be stored: ${(error as Error).message}`);
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

  /**
   * Puts a copy of the received message in the TSQ queue, so the console/CLI can redrive it; the
   * command is IN_TSQ already. The body is the one received (the TSQ queue allows 4 × a command's
   * size, so the added attributes always fit); the attributes name the record the copy belongs to.
   */
  private async park(message: TransportMessage, envelope: Envelope, error: CommandError | undefined): Promise<void> {
    await this.options.transport.park(this.options.domain, message.body, {
      [PARKED_ATTRIBUTE]: '1',
      [ERROR_CODE_ATTRIBUTE]: attributeValue(error?.code ?? 'UNKNOWN'),
      [RECORD_ATTRIBUTE]: envelope.commandId,
      [TOKEN_ATTRIBUTE]: attributeValue(envelope.token),
    });
  }

  /**
   * A message that is not a command cannot be processed, but must not vanish: it is recorded IN_TSQ
   * (the raw body kept as data, the reason as its error) and a copy parked. A redriven copy of one
   * whose record is still parked is dropped: it cannot be retried, and the record stays listed.
   */
  private async parkMalformed(message: TransportMessage, reason: string, writes: ConfirmedWrites): Promise<void> {
    const { transport, logger, domain } = this.options;
    const recordId = message.attributes[RECORD_ATTRIBUTE] ?? recordIdOf(message.messageId);
    const redriven = message.attributes[PARKED_ATTRIBUTE] !== undefined;
    const inserted = await writes.insert(malformedRecord(domain, recordId, message.body, reason, now()));
    // Recorded already: by an earlier delivery whose parking may not have happened (park again), or
    // it is a redriven copy, or the operator resolved it (drop it).
    if (!inserted.created && (redriven || inserted.existing.status !== CommandStatus.IN_TSQ)) {
      logger.info('malformed message already recorded; copy dropped', { recordId, status: inserted.existing.status });
      return;
    }
    logger.error('malformed message parked in the TSQ', { messageId: message.messageId, recordId, reason, redriven });
    if (inserted.created) this.observer.commandParked({ domain, commandType: MALFORMED_COMMAND_TYPE, commandId: recordId, errorCode: 'MALFORMED_MESSAGE' });
    await transport.park(domain, message.body, {
      [PARKED_ATTRIBUTE]: 'malformed',
      [ERROR_CODE_ATTRIBUTE]: 'MALFORMED_MESSAGE',
      [RECORD_ATTRIBUTE]: recordId,
      [TOKEN_ATTRIBUTE]: recordId,
    });
  }

  /**
   * The store could not be reached in time, so this delivery does not know whether its writes
   * landed. Rather than leave the message to come back after its visibility timeout — when a write
   * that landed late would make an attempt that never ran look like one that outlived its timeout —
   * it sends the message again, after a backoff, marked with its lease: the next delivery takes the
   * attempt over without counting it. The original is deleted (`ack`).
   */
  private async giveBack(message: TransportMessage, lease: string, cause: StoreUnavailableError): Promise<ProcessOutcome> {
    const retakes = Number(message.attributes[RETAKES_ATTRIBUTE] ?? '0');
    if (!Number.isInteger(retakes) || retakes >= MAX_RETAKES) throw cause; // SQS's visibility timeout and redrive policy decide
    const delaySeconds = Math.min(900, 2 ** retakes);
    await this.options.transport.sendCommand(this.options.domain, message.body, {
      attributes: { ...message.attributes, [RETAKE_ATTRIBUTE]: lease, [RETAKES_ATTRIBUTE]: String(retakes + 1) },
      delaySeconds,
    });
    this.options.logger.warn('store unreachable: message sent again without spending an attempt', {
      messageId: message.messageId,
      retakes: retakes + 1,
      delaySeconds,
      error: cause.message,
    });
    return 'ack';
  }
}

/** Extra time a finished handler's outcome write gets, even past the delivery's store deadline. */
const MIN_OUTCOME_PATIENCE_MS = 5_000;

/**
 * Conditional writes whose outcome this delivery always learns: a write the store did not answer is
 * tried again (safe: it is conditional) until the deadline; when a retry is refused, the lease on the
 * stored command tells whether the earlier try landed after all.
 */
class ConfirmedWrites {
  readonly lease: string;
  private readonly store: CommandStore;
  private deadline: number;

  constructor(store: CommandStore, lease: string, deadline: number) {
    this.store = store;
    this.lease = lease;
    this.deadline = deadline;
  }

  extend(minimumMs: number): void {
    this.deadline = Math.max(this.deadline, Date.now() + minimumMs);
  }

  apply(transition: Transition): Promise<ApplyResult> {
    return this.retrying(async (retried) => {
      const result = await this.store.apply(transition);
      if (result.applied || !retried || !this.landed(result.current, transition)) return result;
      return { applied: true } as const;
    });
  }

  insert(record: NewCommandRecord): Promise<InsertResult> {
    return this.retrying(async (retried) => {
      const result = await this.store.insert(record);
      if (result.created || !retried || result.existing.lease !== this.lease || record.lease !== this.lease) return result;
      return { created: true } as const;
    });
  }

  get(domain: string, commandId: string): Promise<CommandState | undefined> {
    return this.retrying(() => this.store.get(domain, commandId));
  }

  /** Our earlier try landed: the command carries our lease and the state that write set. */
  private landed(current: CommandState | undefined, transition: Transition): boolean {
    if (!current || current.lease !== this.lease || current.status !== transition.set.status) return false;
    return (
      (transition.set.attempts === undefined || current.attempts === transition.set.attempts) &&
      (transition.set.token === undefined || current.token === transition.set.token)
    );
  }

  private async retrying<T>(call: (retried: boolean) => Promise<T>): Promise<T> {
    for (let round = 0; ; round++) {
      try {
        return await call(round > 0);
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        const pause = Math.min(2_000, 100 * 2 ** round);
        if (Date.now() + pause > this.deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
}

const now = () => new Date().toISOString();

const commandRef = (envelope: Envelope) => ({
  domain: envelope.domain,
  commandType: envelope.commandType,
  commandId: envelope.commandId,
  correlationId: envelope.correlationId,
});

/** A logger that adds `keys` to every line (a line's own context wins). */
export function withLogKeys(logger: Logger, keys: Record<string, unknown>): Logger {
  return {
    debug: (message, context) => logger.debug(message, { ...keys, ...context }),
    info: (message, context) => logger.info(message, { ...keys, ...context }),
    warn: (message, context) => logger.warn(message, { ...keys, ...context }),
    error: (message, context) => logger.error(message, { ...keys, ...context }),
  };
}

/** Receives of a completed command's message spent on sending its reply before giving up. */
const MAX_REPLY_ATTEMPTS = 5;
