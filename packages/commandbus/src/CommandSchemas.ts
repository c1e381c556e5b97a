import { assertCommandSchema, type CommandSchema } from './domain/payloadSchema.ts';
import { validateDomain, validateName } from './domain/validation.ts';
import { ValidationError } from './errors.ts';

/** A schema and the (domain, commandType) it checks. */
export interface RegisteredSchema {
  domain: string;
  commandType: string;
  schema: CommandSchema;
}

/**
 * Where the bus, the TSQ and the API look up the schema of a command type: a {@link CommandSchemas},
 * or the {@link HandlerRegistry} whose handlers were registered with schemas.
 */
export interface CommandSchemaLookup {
  /** The schema of (domain, commandType), or undefined: that type is sent and handled unchecked. */
  schemaFor(domain: string, commandType: string): CommandSchema | undefined;
  /** Every registered schema, in registration order (the OpenAPI document lists them). */
  entries(): RegisteredSchema[];
}

/**
 * Schemas by (domain, commandType), for a process that sends (or operates) without handling: the
 * producer's half of typed commands. Any Standard Schema v1 (zod, valibot, arktype, …).
 *
 * @example
 * const Charge = z.object({ amount: z.number().positive(), currency: z.string().default('EUR') });
 * const schemas = new CommandSchemas().define('payments', 'Charge', Charge);
 * const bus = new CommandBus({ schemas }); // send refuses a Charge whose data does not match
 */
export class CommandSchemas implements CommandSchemaLookup {
  private readonly byKey = new Map<string, RegisteredSchema>();

  /** Adds the schema of (domain, commandType); a second one for the same pair is refused. */
  define(domain: string, commandType: string, schema: CommandSchema): this {
    const key = schemaKey(domain, commandType);
    assertCommandSchema('schema', schema);
    if (this.byKey.has(key)) throw new ValidationError('commandType', `a schema for ${domain}/${commandType} is already defined`);
    this.byKey.set(key, { domain, commandType, schema });
    return this;
  }

  schemaFor(domain: string, commandType: string): CommandSchema | undefined {
    return this.byKey.get(`${domain}\u0000${commandType}`)?.schema;
  }

  entries(): RegisteredSchema[] {
    return [...this.byKey.values()];
  }
}

/** The map key of (domain, commandType), both validated. */
export function schemaKey(domain: string, commandType: string): string {
  return `${validateDomain(domain)}\u0000${validateName('commandType', commandType)}`;
}
