/**
 * One bus over the in-memory twins for the orchestration tests: the real CommandBus, processor,
 * sweeper and TroubleshootingQueue, with the store and the queues in memory. Time is vitest's fake
 * clock (see useFakeClock), which the twins read.
 */
import { randomUUID } from 'node:crypto';
import { vi } from 'vitest';
import { CommandProcessor, type HeartbeatOptions } from '../../../src/application/CommandProcessor.ts';
import { TsqSweeper } from '../../../src/application/TsqSweeper.ts';
import { CommandBus } from '../../../src/CommandBus.ts';
import type { CommandState } from '../../../src/domain/lifecycle.ts';
import { HandlerRegistry, type CommandHandler } from '../../../src/HandlerRegistry.ts';
import { silentLogger } from '../../../src/logger.ts';
import type { TransportMessage } from '../../../src/ports/CommandTransport.ts';
import type { CommandObserver } from '../../../src/ports/CommandObserver.ts';
import { resourceNames } from '../../../src/resources.ts';
import { InMemoryCommandStore, InMemoryTransport } from '../../../src/testing/index.ts';
import { TroubleshootingQueue } from '../../../src/TroubleshootingQueue.ts';
import type { JsonObject, Logger } from '../../../src/types.ts';
import type { RetryPolicy } from '../../../src/domain/retryPolicy.ts';

export const DOMAIN = 'payments';
export const COMMAND_TYPE = 'Charge';
export const REPLY_QUEUE = 'my-replies';
export const START = new Date('2026-03-01T10:00:00.000Z');

/** Fake timers and Date, from START; restore with vi.useRealTimers(). */
export function useFakeClock(): void {
  vi.useFakeTimers({ now: START });
}

/** Lets pending promise callbacks run, then moves fake time on by `ms`. */
export async function elapse(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

/** Moves fake time on in small steps until `condition` holds; fails after `limitMs` of fake time. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, limitMs = 120_000, stepMs = 10): Promise<void> {
  for (let elapsed = 0; elapsed <= limitMs; elapsed += stepMs) {
    if (await condition()) return;
    await vi.advanceTimersByTimeAsync(stepMs);
  }
  throw new Error(`still waiting for ${what} after ${limitMs} ms of fake time`);
}

/** A promise the test settles when it likes: a handler that runs until told. */
export function gate<T = void>() {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/** A logger that keeps what it is told, for assertions. */
export function recordingLogger(): Logger & { lines: { level: string; message: string; context?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; context?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, context?: Record<string, unknown>) => void lines.push({ level, message, ...(context ? { context } : {}) });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface WorldOptions {
  retryPolicy?: RetryPolicy;
  handlerTimeoutMs?: number;
  /** The processor's heartbeat (default none). */
  heartbeat?: HeartbeatOptions;
  /** Receives after which the commands queue dead-letters a message (default as deployed, 30). */
  maxReceiveCount?: number;
  logger?: Logger;
  /** The processor's observer (default none). */
  observer?: CommandObserver;
}

export type World = ReturnType<typeof createWorld>;

export function createWorld(options: WorldOptions = {}) {
  const namespace = 'unit';
  const names = resourceNames(namespace);
  const logger = options.logger ?? silentLogger;
  const store = new InMemoryCommandStore();
  const transport = new InMemoryTransport({
    names,
    domains: [DOMAIN],
    queues: [REPLY_QUEUE],
    ...(options.maxReceiveCount === undefined ? {} : { maxReceiveCount: options.maxReceiveCount }),
  });
  const registry = new HandlerRegistry();
  const config = { namespace, store, transport, logger };
  const bus = new CommandBus(config);
  const tsq = new TroubleshootingQueue(config);
  const processor = new CommandProcessor({
    domain: DOMAIN,
    store,
    transport,
    registry,
    retryPolicy: options.retryPolicy ?? { baseDelaySeconds: 4, maxDelaySeconds: 300, jitter: false },
    handlerTimeoutMs: options.handlerTimeoutMs ?? 60_000,
    logger,
    names,
    ...(options.heartbeat === undefined ? {} : { heartbeat: options.heartbeat }),
    ...(options.observer === undefined ? {} : { observer: options.observer }),
  });
  const sweeper = new TsqSweeper({ store, transport, logger });

  const world = {
    names,
    store,
    transport,
    registry,
    config,
    bus,
    tsq,
    processor,
    sweeper,
    /** Registers the handler of COMMAND_TYPE. */
    handle(handler: CommandHandler): void {
      registry.register(DOMAIN, COMMAND_TYPE, handler);
    },
    /** Sends a command through the bus; returns its id. */
    async send(request: { data?: JsonObject; maxAttempts?: number; replyTo?: string; commandType?: string; commandId?: string } = {}): Promise<string> {
      const commandId = request.commandId ?? randomUUID();
      await bus.send({
        domain: DOMAIN,
        commandType: request.commandType ?? COMMAND_TYPE,
        commandId,
        data: request.data ?? { amount: 10 },
        ...(request.maxAttempts === undefined ? {} : { maxAttempts: request.maxAttempts }),
        ...(request.replyTo === undefined ? {} : { replyTo: request.replyTo }),
      });
      return commandId;
    },
    /** The next visible message of the commands queue (a short poll); fails if there is none. */
    async receive(visibilityTimeoutSeconds = 30): Promise<TransportMessage> {
      const [message] = await transport.receive(DOMAIN, { maxMessages: 1, waitTimeSeconds: 0, visibilityTimeoutSeconds });
      if (!message) throw new Error('no visible message on the commands queue');
      return message;
    },
    /** Receives the next message and processes it, deleting it on 'ack' as a worker does; returns the outcome. */
    async deliver(visibilityTimeoutSeconds = 30) {
      const message = await world.receive(visibilityTimeoutSeconds);
      const outcome = await processor.process(message);
      if (outcome === 'ack') {
        const deleted = transport.ack(DOMAIN, message.receiptHandle);
        await transport.flush();
        await deleted;
      }
      return { message, outcome };
    },
    async state(commandId: string): Promise<CommandState> {
      const state = await store.get(DOMAIN, commandId);
      if (!state) throw new Error(`command ${commandId} is not recorded`);
      return state;
    },
    async trail(commandId: string): Promise<string[]> {
      return (await store.auditTrail(commandId, DOMAIN)).map((event) => `${event.eventType}#${event.attempt}`);
    },
    commandsQueue: () => transport.messages(names.commandsQueue(DOMAIN)),
    tsqQueue: () => transport.messages(names.tsqQueue(DOMAIN)),
    replies: () => transport.messages(REPLY_QUEUE).map((message) => JSON.parse(message.body) as Record<string, unknown>),
  };
  return world;
}
