import { validateDomain, validateName } from './domain/validation.ts';
import { ValidationError } from './errors.ts';
import type { JsonObject, JsonValue, Logger } from './types.ts';

/** What a handler is given: the command as sent. */
export interface HandlerCommand<TData extends JsonObject = JsonObject> {
  domain: string;
  commandType: string;
  commandId: string;
  correlationId: string;
  data: TData;
  maxAttempts: number;
  replyTo?: string;
}

export interface HandlerContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the handler's time limit passes; the attempt then counts as a transient TIMEOUT. */
  signal: AbortSignal;
  /** Epoch milliseconds of that time limit. */
  deadline: number;
  logger: Logger;
}

/**
 * Returns the result to store (any JSON value, or nothing). Throw TransientCommandError to retry
 * with backoff, PermanentCommandError to go to the TSQ at once; any other error counts as transient.
 */
export type CommandHandler<TData extends JsonObject = JsonObject> = (
  command: HandlerCommand<TData>,
  context: HandlerContext,
) => Promise<JsonValue | undefined> | JsonValue | undefined;

/** Handlers by (domain, commandType). */
export class HandlerRegistry {
  private readonly handlers = new Map<string, CommandHandler>();

  register<TData extends JsonObject>(domain: string, commandType: string, handler: CommandHandler<TData>): this {
    const key = `${validateDomain(domain)}\u0000${validateName('commandType', commandType)}`;
    if (typeof handler !== 'function') throw new ValidationError('handler', 'must be a function');
    if (this.handlers.has(key)) throw new ValidationError('commandType', `a handler for ${domain}/${commandType} is already registered`);
    this.handlers.set(key, handler as unknown as CommandHandler);
    return this;
  }

  get(domain: string, commandType: string): CommandHandler | undefined {
    return this.handlers.get(`${domain}\u0000${commandType}`);
  }
}
