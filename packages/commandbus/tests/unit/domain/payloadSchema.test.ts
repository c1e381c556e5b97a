import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import * as zm from 'zod/mini';
import { CommandSchemas } from '../../../src/CommandSchemas.ts';
import { checkPayload, INVALID_PAYLOAD, issuePath, MAX_LISTED_ISSUES, payloadForHandler, validatePayload } from '../../../src/domain/payloadSchema.ts';
import { classifyError } from '../../../src/domain/outcome.ts';
import { PermanentCommandError, ValidationError } from '../../../src/errors.ts';
import { HandlerRegistry, type HandlerCommand } from '../../../src/HandlerRegistry.ts';
import type { JsonObject } from '../../../src/types.ts';

/** A Standard Schema written by hand, as another library would: `{ sku: string }` to `{ sku, upper }`. */
function skuSchema(mode: 'sync' | 'async' = 'sync'): StandardSchemaV1<{ sku: string }, { sku: string; upper: string }> {
  const validate = (value: unknown): StandardSchemaV1.Result<{ sku: string; upper: string }> => {
    const sku = (value as { sku?: unknown } | null)?.sku;
    if (typeof sku !== 'string') return { issues: [{ message: 'sku must be a string', path: [{ key: 'sku' }] }] };
    return { value: { sku, upper: sku.toUpperCase() } };
  };
  return {
    '~standard': {
      version: 1,
      vendor: 'handmade',
      validate: mode === 'sync' ? validate : async (value) => validate(value),
    },
  };
}

describe('Function: issuePath', () => {
  it('writes a Standard Schema path from data: properties, indexes, segments with keys, odd keys and symbols', () => {
    expect(issuePath(undefined)).toBe('data');
    expect(issuePath([])).toBe('data');
    expect(issuePath(['items', 0, { key: 'sku' }])).toBe('data.items[0].sku');
    expect(issuePath(['a b', '3', { key: 7 }])).toBe('data["a b"][3][7]');
    expect(issuePath([Symbol('s')])).toBe('data[Symbol(s)]');
  });
});

describe('Function: checkPayload', () => {
  it('gives a zod schema’s output: coerced values and defaults', async () => {
    // Prepare
    const schema = z.object({ amount: z.coerce.number(), currency: z.string().default('EUR') });

    // Act
    const checked = await checkPayload(schema, { amount: '12' });

    // Assess
    expect(checked).toEqual({ ok: true, value: { amount: 12, currency: 'EUR' } });
  });

  it('lists every issue with its path', async () => {
    // Act
    const checked = await checkPayload(z.object({ amount: z.number(), lines: z.array(z.object({ sku: z.string() })) }), { lines: [{ sku: 1 }] });

    // Assess
    expect(checked).toEqual({
      ok: false,
      issues: [
        { path: 'data.amount', message: expect.stringContaining('expected number') },
        { path: 'data.lines[0].sku', message: expect.stringContaining('expected string') },
      ],
    });
  });

  it('waits for an async schema (a zod refinement that awaits, a handmade one that answers with a promise)', async () => {
    // Prepare
    const taken = z.object({ name: z.string() }).refine(async (value) => value.name !== 'taken', { message: 'name is taken', path: ['name'] });

    // Act and assess
    expect(await checkPayload(taken, { name: 'taken' })).toEqual({ ok: false, issues: [{ path: 'data.name', message: 'name is taken' }] });
    expect(await checkPayload(taken, { name: 'free' })).toEqual({ ok: true, value: { name: 'free' } });
    expect(await checkPayload(skuSchema('async'), { sku: 'ab' })).toEqual({ ok: true, value: { sku: 'ab', upper: 'AB' } });
  });

  it('works with zod/mini and with a Standard Schema implemented by hand', async () => {
    expect(await checkPayload(zm.object({ n: zm.number() }), { n: 'x' })).toMatchObject({ ok: false, issues: [{ path: 'data.n' }] });
    expect(await checkPayload(skuSchema(), {})).toEqual({ ok: false, issues: [{ path: 'data.sku', message: 'sku must be a string' }] });
  });

  it('names a failure without issues on data itself, and bounds long messages', async () => {
    // Prepare
    const empty: StandardSchemaV1 = { '~standard': { version: 1, vendor: 'odd', validate: () => ({ issues: [] }) } };
    const wordy: StandardSchemaV1 = { '~standard': { version: 1, vendor: 'odd', validate: () => ({ issues: [{ message: 'x'.repeat(5000) }] }) } };

    // Act and assess
    expect(await checkPayload(empty, {})).toEqual({ ok: false, issues: [{ path: 'data', message: 'does not match the schema' }] });
    const checked = await checkPayload(wordy, {});
    expect(checked.ok ? 0 : checked.issues[0]!.message.length).toBeLessThanOrEqual(201);
  });
});

describe('Function: validatePayload (send, operator edit)', () => {
  it('refuses with a ValidationError on the first issue’s path, naming the others', async () => {
    // Act
    const refusal = validatePayload(z.object({ amount: z.number(), currency: z.string() }), { amount: 'ten' });

    // Assess
    await expect(refusal).rejects.toBeInstanceOf(ValidationError);
    await expect(refusal).rejects.toMatchObject({
      field: 'data.amount',
      message: expect.stringMatching(/^data\.amount: .*expected number.* \(and 1 more: data\.currency: .*expected string/),
    });
  });

  it('answers the output when the data matches', async () => {
    expect(await validatePayload(skuSchema(), { sku: 'x' })).toEqual({ sku: 'x', upper: 'X' });
  });
});

describe('Function: payloadForHandler (the worker)', () => {
  it('fails PERMANENT with INVALID_PAYLOAD, the issues in the message and in the details, bounded', async () => {
    // Prepare: 30 fields wrong
    const schema = z.object(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, z.number()])));

    // Act
    const failure = await payloadForHandler(schema, {}, 'Charge').catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PermanentCommandError);
    const error = classifyError(failure);
    expect(error).toMatchObject({ type: 'PERMANENT', code: INVALID_PAYLOAD });
    expect(error.message).toMatch(/^data does not match the schema of Charge: data\.f0: .*; … 20 more$/);
    expect(error.message.length).toBeLessThanOrEqual(1100);
    expect(error.details?.issues).toHaveLength(MAX_LISTED_ISSUES);
    expect(error.details).toMatchObject({ moreIssues: 20, issues: expect.arrayContaining([{ path: 'data.f0', message: expect.any(String) }]) });
  });
});

describe('Class: CommandSchemas and HandlerRegistry.register with a schema', () => {
  it('refuses what is not a Standard Schema, and a second schema for the same type', () => {
    expect(() => new CommandSchemas().define('payments', 'Charge', { parse: () => 1 } as never)).toThrow(ValidationError);
    expect(() => new HandlerRegistry().register('payments', 'Charge', () => undefined, { schema: {} as never })).toThrow(/Standard Schema v1/);
    const schemas = new CommandSchemas().define('payments', 'Charge', skuSchema());
    expect(() => schemas.define('payments', 'Charge', skuSchema())).toThrow(/already defined/);
  });

  it('keeps the schemas registered with handlers, for the bus, the TSQ and the API', () => {
    // Prepare
    const schema = skuSchema();

    // Act
    const registry = new HandlerRegistry().register('shop', 'Reserve', () => undefined, { schema }).register('shop', 'Untyped', () => undefined);

    // Assess
    expect(registry.schemaFor('shop', 'Reserve')).toBe(schema);
    expect(registry.schemaFor('shop', 'Untyped')).toBeUndefined();
    expect(registry.entries()).toEqual([{ domain: 'shop', commandType: 'Reserve', schema }]);
  });

  it('types the handler’s data as the schema’s output (zod, zod/mini, handmade), and as before without one', () => {
    new HandlerRegistry()
      .register(
        'shop',
        'Charge',
        (command) => {
          expectTypeOf(command.data).toEqualTypeOf<{ amount: number; currency: string }>();
          return null;
        },
        { schema: z.object({ amount: z.coerce.number(), currency: z.string().default('EUR') }) },
      )
      .register(
        'shop',
        'Mini',
        (command) => {
          expectTypeOf(command.data).toEqualTypeOf<{ n: number }>();
          return null;
        },
        { schema: zm.object({ n: zm.number() }) },
      )
      .register(
        'shop',
        'Reserve',
        (command) => {
          expectTypeOf(command.data).toEqualTypeOf<{ sku: string; upper: string }>();
          return null;
        },
        { schema: skuSchema() },
      )
      .register('shop', 'Untyped', (command) => {
        expectTypeOf(command).toEqualTypeOf<HandlerCommand<JsonObject>>();
        return null;
      })
      .register<{ amount: number }>('shop', 'DeclaredAsBefore', (command) => {
        expectTypeOf(command.data).toEqualTypeOf<{ amount: number }>();
        return null;
      })
      .register('shop', 'NoSchemaGiven', () => null, {});
  });
});
