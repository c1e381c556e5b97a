import { CommandSchemas, schemaKey, type CommandSchemaLookup, type RegisteredSchema } from './CommandSchemas.ts';
import type { CommandSchema, SchemaOutput } from './domain/payloadSchema.ts';
import { ValidationError } from './errors.ts';
import type { JsonObject, JsonValue, Logger } from './types.ts';

/**
 * What a handler is given: the command as sent — with `data` as the schema's output when the
 * handler was registered with a schema (coerced, defaults filled in).
 */
export interface HandlerCommand<TData = JsonObject> {
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
export type CommandHandler<TData = JsonObject> = (
  command: HandlerCommand<TData>,
  context: HandlerContext,
) => Promise<JsonValue | undefined> | JsonValue | undefined;

export interface RegisterOptions<S extends CommandSchema> {
  /**
   * The schema of the command's `data` (any Standard Schema v1: zod, valibot, arktype, …). The worker
   * checks every payload with it before the handler runs and parks one that does not match, at once,
   * as a PERMANENT INVALID_PAYLOAD; the handler receives the schema's output, typed. A bus given this
   * registry (`new CommandBus({ schemas: registry })`) refuses such a send before enqueuing anything.
   */
  schema: S;
}

/** Handlers by (domain, commandType), and the schemas they were registered with. */
export class HandlerRegistry implements CommandSchemaLookup {
  private readonly handlers = new Map<string, CommandHandler<unknown>>();
  /** The schemas given to `register`, for a bus, TSQ or API of the same process. */
  readonly schemas = new CommandSchemas();

  /**
   * @example
   * registry.register('payments', 'Charge', async (command) => charge(command.data.amount), {
   *   schema: z.object({ amount: z.coerce.number().positive() }), // command.data: { amount: number }
   * });
   */
  register<S extends CommandSchema>(domain: string, commandType: string, handler: CommandHandler<SchemaOutput<S>>, options: RegisterOptions<S>): this;
  register<TData = JsonObject>(domain: string, commandType: string, handler: CommandHandler<TData>, options?: { schema?: undefined }): this;
  register(domain: string, commandType: string, handler: CommandHandler<unknown>, options?: { schema?: CommandSchema | undefined }): this {
    const key = schemaKey(domain, commandType);
    if (typeof handler !== 'function') throw new ValidationError('handler', 'must be a function');
    if (this.handlers.has(key)) throw new ValidationError('commandType', `a handler for ${domain}/${commandType} is already registered`);
    if (options?.schema !== undefined) this.schemas.define(domain, commandType, options.schema);
    this.handlers.set(key, handler);
    return this;
  }

  get(domain: string, commandType: string): CommandHandler<unknown> | undefined {
    return this.handlers.get(`${domain}\u0000${commandType}`);
  }

  schemaFor(domain: string, commandType: string): CommandSchema | undefined {
    return this.schemas.schemaFor(domain, commandType);
  }

  entries(): RegisteredSchema[] {
    return this.schemas.entries();
  }
}
