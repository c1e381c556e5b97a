import { CommandProcessor, type ProcessOutcome } from './application/CommandProcessor.ts';
import { resolveAdapters, type CommandBusConfig } from './config.ts';
import { resolveRetryPolicy, type RetryPolicy } from './domain/retryPolicy.ts';
import { validateDomain } from './domain/validation.ts';
import { ValidationError } from './errors.ts';
import type { HandlerRegistry } from './HandlerRegistry.ts';
import { TsqSweeper } from './application/TsqSweeper.ts';
import type { CommandTransport, TransportMessage } from './ports/CommandTransport.ts';
import type { Logger } from './types.ts';
import { NOOP_OBSERVER, type CommandObserver } from './ports/CommandObserver.ts';
import { EmfMetricsObserver } from './adapters/powertools/EmfMetricsObserver.ts';
import { readEnvironment } from './environment.ts';

/** How often the Worker flushes its observer's buffered metrics (and once more when it stops). */
const METRICS_FLUSH_MS = 10_000;

export interface WorkerOptions extends CommandBusConfig {
  domain: string;
  registry: HandlerRegistry;
  /** Commands handled at once. 1–1000, default 10. */
  concurrency?: number;
  /**
   * Seconds a received message stays hidden from other receivers (1–43,200). An attempt still running
   * after this is redelivered and counts as a new attempt — unless `heartbeatIntervalSeconds` keeps
   * extending it.
   * @default 30
   */
  visibilityTimeout?: number;
  /**
   * Handler time limit in ms (1–43,200,000); past it the attempt is a transient TIMEOUT. Above the
   * visibility timeout, set `heartbeatIntervalSeconds` too, or the message is redelivered while the
   * handler still runs.
   * @default 80% of the visibility timeout, so a timeout is recorded before the message comes back
   */
  handlerTimeoutMs?: number;
  /**
   * While a handler runs, every this many seconds the worker extends its message's visibility by
   * `visibilityTimeout` (ChangeMessageVisibility, like sqs-consumer's `heartbeatInterval`), so a
   * handler allowed to run longer than the visibility timeout (`handlerTimeoutMs`) is not handed out
   * again meanwhile. The beats stop when the handler ends or reaches its time limit; a failed beat is
   * logged and the attempt goes on. An integer from 1, below `visibilityTimeout`.
   * @default undefined — no heartbeat: an attempt that outlives the visibility timeout is redelivered
   */
  heartbeatIntervalSeconds?: number;
  /** Long-poll wait, 1–20 s, default 20 (0 would spin on an empty queue). */
  waitTimeSeconds?: number;
  /**
   * How often the worker sweeps its domain's TSQ queue (see TsqSweeper: stale copies removed,
   * messages SQS dead-lettered itself recorded IN_TSQ), in seconds; 0 turns it off. Default 300,
   * the stack's schedule.
   */
  sweepIntervalSeconds?: number;
  retryPolicy?: Partial<RetryPolicy>;
  /**
   * Told every written outcome (completed, failed, retried, parked, durations): see CommandObserver.
   * Flushed every 10 s and when the worker stops. Default: an EmfMetricsObserver (the worker Lambda's
   * metric names, printed as EMF JSON lines on stdout) when COMMANDBUS_METRICS=emf, else none.
   */
  observer?: CommandObserver;
}

interface ResolvedWorkerOptions {
  sweepIntervalSeconds: number;
  concurrency: number;
  visibilityTimeout: number;
  handlerTimeoutMs: number;
  waitTimeSeconds: number;
  /** Absent: no heartbeat. */
  heartbeatIntervalSeconds?: number;
}

/** Checks every option once, with messages that name the option and its range. */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  const integer = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ValidationError(name, `must be an integer from ${min} to ${max} (got ${value})`);
    }
    return value;
  };
  validateDomain(options.domain);
  if (!options.registry) throw new ValidationError('registry', 'is required (a HandlerRegistry)');
  const visibilityTimeout = integer('visibilityTimeout', options.visibilityTimeout ?? 30, 1, 43_200);
  const heartbeat = options.heartbeatIntervalSeconds;
  // As sqs-consumer: a beat must come before the visibility the previous one set runs out.
  if (heartbeat !== undefined && (!Number.isInteger(heartbeat) || heartbeat < 1 || heartbeat >= visibilityTimeout)) {
    throw new ValidationError('heartbeatIntervalSeconds', `must be an integer from 1, below visibilityTimeout (${visibilityTimeout} s) (got ${heartbeat})`);
  }
  return {
    concurrency: integer('concurrency', options.concurrency ?? 10, 1, 1000),
    visibilityTimeout,
    handlerTimeoutMs: integer('handlerTimeoutMs', options.handlerTimeoutMs ?? Math.floor(visibilityTimeout * 800), 1, 43_200_000),
    waitTimeSeconds: integer('waitTimeSeconds', options.waitTimeSeconds ?? 20, 1, 20),
    sweepIntervalSeconds: integer('sweepIntervalSeconds', options.sweepIntervalSeconds ?? 300, 0, 86_400),
    ...(heartbeat === undefined ? {} : { heartbeatIntervalSeconds: heartbeat }),
  };
}

/**
 * A long-running worker for one domain: long-polls the commands queue in batches, runs up to
 * `concurrency` handlers at once, and applies the lifecycle through the shared CommandProcessor.
 *
 * @example
 * const worker = new Worker({ domain: 'payments', registry, concurrency: 8, visibilityTimeout: 30 });
 * // a handler that may run 10 minutes keeps its message hidden by extending it every 10 s:
 * new Worker({ domain: 'reports', registry, visibilityTimeout: 30, handlerTimeoutMs: 600_000, heartbeatIntervalSeconds: 10 });
 * const running = worker.run();
 * // ...
 * await worker.stop(); // finishes in-flight commands, then `running` resolves
 */
export class Worker {
  readonly domain: string;
  private readonly settings: ResolvedWorkerOptions;
  private readonly processor: CommandProcessor;
  private readonly sweeper: TsqSweeper;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> = Promise.resolve();
  private readonly transport: CommandTransport;
  private readonly logger: Logger;
  private readonly observer: CommandObserver;
  private metricsTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private slotFreed: (() => void) | undefined;
  private poll: AbortController | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(options: WorkerOptions) {
    this.settings = resolveWorkerOptions(options);
    const retryPolicy = resolveRetryPolicy(options.retryPolicy);
    const { store, transport, logger, names } = resolveAdapters(options);
    this.domain = options.domain;
    this.transport = transport;
    this.logger = logger;
    this.sweeper = new TsqSweeper({ store, transport, logger });
    this.observer = options.observer ?? (readEnvironment(process.env, ['metrics']).metrics === 'emf' ? new EmfMetricsObserver() : NOOP_OBSERVER);
    const { handlerTimeoutMs, heartbeatIntervalSeconds, visibilityTimeout } = this.settings;
    this.processor = new CommandProcessor({
      domain: options.domain,
      store,
      transport,
      registry: options.registry,
      retryPolicy,
      handlerTimeoutMs,
      logger,
      names,
      observer: this.observer,
      ...(heartbeatIntervalSeconds === undefined
        ? {}
        : { heartbeat: { intervalSeconds: heartbeatIntervalSeconds, visibilitySeconds: () => visibilityTimeout } }),
    });
  }

  /** Polls until stop() is called; resolves once in-flight work has finished. */
  run(): Promise<void> {
    if (this.running !== undefined) return this.running;
    this.stopping = false;
    if (this.settings.sweepIntervalSeconds > 0) {
      this.sweepTimer = setInterval(() => {
        // One sweep at a time; a failed sweep is logged and tried again next time.
        this.sweeping = this.sweeping
          .then(() => this.sweeper.sweep(this.domain))
          .catch((error: unknown) => this.logger.error('TSQ sweep failed', { domain: this.domain, error: String(error) }));
      }, this.settings.sweepIntervalSeconds * 1000);
    }
    if (this.observer.flush) this.metricsTimer = setInterval(() => this.flushMetrics(), METRICS_FLUSH_MS);
    this.running = this.loop().finally(() => {
      clearInterval(this.metricsTimer);
      this.flushMetrics();
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops polling, lets in-flight commands finish, sends pending deletes. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweepTimer);
    this.poll?.abort();
    this.slotFreed?.();
    await this.running;
  }

  private flushMetrics(): void {
    try {
      this.observer.flush?.();
    } catch (error) {
      this.logger.warn('metrics flush failed', { domain: this.domain, error: String(error) });
    }
  }

  get activeCount(): number {
    return this.inFlight.size;
  }

  private async loop(): Promise<void> {
    const { concurrency, waitTimeSeconds, visibilityTimeout } = this.settings;
    // Under load, wait for room for a fair batch rather than receiving one message per request:
    // every ReceiveMessage is billed, however few messages it returns.
    const batchRoom = Math.min(10, Math.ceil(concurrency / 2));
    let failures = 0;
    while (!this.stopping) {
      const free = concurrency - this.inFlight.size;
      if (free <= 0 || (free < batchRoom && this.inFlight.size > 0)) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      this.poll = new AbortController();
      let messages: TransportMessage[];
      try {
        messages = await this.transport.receive(this.domain, {
          maxMessages: Math.min(10, free),
          waitTimeSeconds,
          visibilityTimeoutSeconds: visibilityTimeout,
          signal: this.poll.signal,
        });
        failures = 0;
      } catch (error) {
        if (this.stopping) break;
        failures++;
        this.logger.error('receive failed', { domain: this.domain, error: String(error), failures });
        // Back off on a failing queue instead of spinning; interrupted by stop().
        await this.pause(Math.min(5000, 100 * 2 ** failures));
        continue;
      }
      for (const message of messages) this.track(message);
    }
    await Promise.allSettled([...this.inFlight]);
    await this.sweeping;
    await this.transport.flush();
  }

  private track(message: TransportMessage): void {
    const work = this.handle(message).finally(() => {
      this.inFlight.delete(work);
      const wake = this.slotFreed;
      this.slotFreed = undefined;
      wake?.();
    });
    this.inFlight.add(work);
  }

  private async handle(message: TransportMessage): Promise<void> {
    let outcome: ProcessOutcome;
    try {
      // Store writes get at most 40% of the visibility timeout, so the handler still fits in it.
      outcome = await this.processor.process(message, { storeDeadline: Date.now() + this.settings.visibilityTimeout * 400 });
    } catch (error) {
      // Left undeleted: SQS redelivers it after the visibility timeout, and nothing is lost.
      this.logger.error('processing failed; the message will be redelivered', {
        messageId: message.messageId,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      return;
    }
    if (outcome === 'ack') {
      // The command's state is written; the delete is batched with others and does not hold the slot
      // (stop() flushes what is pending).
      void this.transport.ack(this.domain, message.receiptHandle).catch((error: unknown) => {
        this.logger.warn('delete failed; a redelivery will be recognised and dropped', { messageId: message.messageId, error: String(error) });
      });
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.poll?.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}
