import { CommandSchemas, HandlerRegistry, type CommandSchema, type CommandStore, type CommandTransport } from '@commandbus/core';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as zm from 'zod/mini';
import type { ApiEvent, ApiResult } from '../http.ts';
import { COMMAND_TYPES_EXTENSION, documentCommandTypes, openApiDocument } from '../openapi.ts';

const Charge = z.object({ amount: z.number().positive(), currency: z.string().default('EUR') });
const handmade = (jsonSchema?: Record<string, unknown>): CommandSchema => ({
  '~standard': {
    version: 1,
    vendor: 'handmade',
    validate: (value) => ({ value }),
    ...(jsonSchema ? { jsonSchema: { input: () => jsonSchema, output: () => jsonSchema } } : {}),
  },
});

/** The API over adapters that must not be reached: a refused send touches neither the store nor the queue. */
async function apiWith(schemas: CommandSchemas | HandlerRegistry) {
  const { createApiHandler } = await import('../api.ts');
  const unreachable = new Proxy({}, { get: (_, name) => () => Promise.reject(new Error(`unexpected call: ${String(name)}`)) });
  const handler = createApiHandler({ config: { store: unreachable as CommandStore, transport: unreachable as CommandTransport }, schemas });
  return async (method: string, path: string, body?: unknown) => {
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: '',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      requestContext: { http: { method, path }, authorizer: { iam: { userArn: 'arn:aws:iam::1:user/alice' } } },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      isBase64Encoded: false,
    } as unknown as ApiEvent;
    const result = (await handler(event, { getRemainingTimeInMillis: () => 10_000 } as Context)) as ApiResult;
    return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') as Record<string, unknown> };
  };
}

beforeAll(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

describe('Typed commands over HTTP', () => {
  it('refuses a send whose data does not match its schema: 400 on data.<path>, nothing stored or enqueued', async () => {
    // Prepare
    const api = await apiWith(new HandlerRegistry().register('payments', 'Charge', () => null, { schema: Charge }));

    // Act
    const response = await api('POST', '/domains/payments/commands', { commandType: 'Charge', commandId: crypto.randomUUID(), data: { amount: -1 } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'ValidationError', code: 'VALIDATION_ERROR', field: 'data.amount' });
  });

  it('lists the typed command types in the OpenAPI document, with the JSON Schema of their data', async () => {
    // Prepare
    const api = await apiWith(new CommandSchemas().define('payments', 'Charge', Charge).define('shop', 'Reserve', handmade()));

    // Act
    const { status, body } = await api('GET', '/openapi.json');

    // Assess
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(body[COMMAND_TYPES_EXTENSION]).toEqual([
      {
        domain: 'payments',
        commandType: 'Charge',
        vendor: 'zod',
        dataSchema: {
          type: 'object',
          properties: { amount: { type: 'number', exclusiveMinimum: 0 }, currency: { type: 'string', default: 'EUR' } },
          required: ['amount'],
        },
      },
      { domain: 'shop', commandType: 'Reserve', vendor: 'handmade' },
    ]);
  });
});

describe('Function: documentCommandTypes', () => {
  it('writes zod (classic and mini) with zod, another library by Standard JSON Schema, and names the rest by vendor', () => {
    // Act
    const documented = documentCommandTypes([
      { domain: 'd', commandType: 'Mini', schema: zm.object({ n: zm.number() }) },
      { domain: 'd', commandType: 'WithDate', schema: z.object({ at: z.date() }) },
      { domain: 'd', commandType: 'Json', schema: handmade({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' }) },
      { domain: 'd', commandType: 'Opaque', schema: handmade() },
    ]);

    // Assess
    expect(documented).toEqual([
      { domain: 'd', commandType: 'Mini', vendor: 'zod', dataSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } },
      { domain: 'd', commandType: 'WithDate', vendor: 'zod', dataSchema: { type: 'object', properties: { at: {} }, required: ['at'] } },
      { domain: 'd', commandType: 'Json', vendor: 'handmade', dataSchema: { type: 'object' } },
      { domain: 'd', commandType: 'Opaque', vendor: 'handmade' },
    ]);
  });

  it('leaves the document as generated without schemas', () => {
    expect(openApiDocument()).not.toHaveProperty(COMMAND_TYPES_EXTENSION);
    expect(openApiDocument(new CommandSchemas())).toBe(openApiDocument());
  });
});
