import { MessageRefusedError, QueueNotFoundError, type CommandStore, type CommandTransport } from '@commandbus/core';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiResult } from '../http.ts';

/** The API handler over adapters that must not be reached (validation comes first) unless a test says so. */
async function apiWith(overrides: { transport?: Partial<CommandTransport>; store?: Partial<CommandStore> } = {}) {
  const { createApiHandler } = await import('../api.ts');
  const unreachable = (what: string) => () => Promise.reject(new Error(`unexpected call: ${what}`));
  const store = new Proxy(overrides.store ?? {}, {
    get: (target, name) => (target as Record<string | symbol, unknown>)[name] ?? unreachable(`store.${String(name)}`),
  });
  const transport = new Proxy(overrides.transport ?? {}, {
    get: (target, name) => (target as Record<string | symbol, unknown>)[name] ?? unreachable(`transport.${String(name)}`),
  });
  const handler = createApiHandler({ config: { store: store as CommandStore, transport: transport as CommandTransport } });
  return async (method: string, path: string, init: { body?: string; headers?: Record<string, string>; query?: Record<string, string> } = {}) => {
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: '',
      headers: init.headers ?? (init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.query ? { queryStringParameters: init.query } : {}),
      requestContext: { http: { method, path }, authorizer: { iam: { userArn: 'arn:aws:iam::1:user/alice' } } },
      ...(init.body === undefined ? {} : { body: init.body }),
      isBase64Encoded: false,
    } as unknown as ApiEvent;
    const result = (await handler(event, { getRemainingTimeInMillis: () => 10_000 } as Context)) as ApiResult;
    return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') as { error: { type: string; message: string; field?: string } } };
  };
}

const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';
const sendBody = (overrides: Record<string, unknown> = {}) => JSON.stringify({ domain: 'test', commandType: 'T', commandId: uuid, data: {}, ...overrides });

beforeAll(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

describe('Function: createApiHandler', () => {
  describe('path parameters', () => {
    it('uses them as API Gateway decoded them: a literal % is refused as a domain by name, not a 500', async () => {
      const api = await apiWith();

      // What API Gateway delivers for /commands/100%25/<id>: the path already decoded.
      const { status, body } = await api('GET', `/commands/100%/${uuid}`);

      expect(status).toBe(400);
      expect(body.error).toMatchObject({ type: 'ValidationError', field: 'domain' });
      expect(body.error.message).toContain('"100%"');
    });
  });

  describe('bodies', () => {
    it.each([
      ['no body', undefined, 'body', /^body: a JSON object is required/],
      ['a body that is not JSON', '{oops', 'body', /^body: is not valid JSON/],
      ['an array', '[1]', 'body', /^body: must be a JSON object/],
      ['a __proto__ key', `{"domain":"test","data":{"__proto__":{"x":1}}}`, 'body', /__proto__/],
      ['data nested 6,000 levels', sendBody({ data: 'X' }).replace('"X"', `${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}`), 'body', /nests too deeply/],
      [
        'data nested 40 levels',
        sendBody({ data: 'X' }).replace('"X"', `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`),
        'data.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a',
        /nests deeper/,
      ],
      ['an integer beyond 2^53 − 1', sendBody({ data: 'X' }).replace('"X"', '{"amount": 12345678901234567890}'), 'data.amount', /beyond/],
    ])('refuses a send with %s: 400 naming the field', async (_, body, field, message) => {
      const api = await apiWith();

      const response = await api('POST', '/commands', body === undefined ? {} : { body });

      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ type: 'ValidationError', field });
      expect(response.body.error.message).toMatch(message);
    });

    it('refuses a body of another content type with 415, and takes JSON with a charset', async () => {
      const api = await apiWith({ transport: { sendCommand: () => Promise.reject(new QueueNotFoundError('ns-test-commands')) } });

      const text = await api('POST', '/commands', { body: sendBody(), headers: { 'content-type': 'text/plain' } });
      const missing = await api('POST', '/commands', { body: sendBody(), headers: {} });
      const charset = await api('POST', '/commands', { body: sendBody(), headers: { 'Content-Type': 'application/json; charset=utf-8' } });

      expect(text.status).toBe(415);
      expect(text.body.error).toMatchObject({ type: 'UnsupportedMediaType', field: 'content-type' });
      expect(missing.status).toBe(415);
      // Past the content type and the parser: it reached the (stub) queue.
      expect(charset.status).toBe(404);
    });

    it('lets a body be left out where it is optional, but still refuses one that is not JSON', async () => {
      const api = await apiWith();

      const retry = await api('POST', `/tsq/test/${uuid}/retry`, { body: 'not json', headers: { 'content-type': 'text/plain' } });
      const complete = await api('POST', `/tsq/test/${uuid}/complete`, { body: '{"resultData": 1e308}' });

      expect(retry.status).toBe(415);
      expect(complete.status).toBe(400);
      expect(complete.body.error).toMatchObject({ type: 'ValidationError', field: 'resultData' });
    });
  });

  describe('sending', () => {
    it.each([
      ['a domain that is not provisioned', new QueueNotFoundError('ns-nowhere-commands'), 404, 'DomainNotFound'],
      ['a message SQS refuses', new MessageRefusedError('invalid characters'), 400, 'ValidationError'],
      ['an outage', new Error('socket hang up'), 503, 'SendFailed'],
    ])('answers %s with %d %s', async (_, failure, status, type) => {
      const api = await apiWith({ transport: { sendCommand: () => Promise.reject(failure) } });

      const response = await api('POST', '/commands', { body: sendBody() });

      expect(response.status).toBe(status);
      expect(response.body.error.type).toBe(type);
    });
  });

  describe('time ranges', () => {
    it.each([
      [{ to: 'now' }, 'to'],
      [{ from: '+275760-09-13T00:00:00.000Z' }, 'from'],
      [{ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'from'],
      [{ from: '2999-01-01T00:00:00Z' }, 'from'],
      [{ maxItems: '1e3' }, 'maxItems'],
    ])('refuses counts with %o before reading anything: 400 naming %s', async (query, field) => {
      const api = await apiWith();

      const response = await api('GET', '/domains/test/counts', { query });

      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ type: 'ValidationError', field });
    });

    it.each([
      [{ to: 'now' }, 'to'],
      [{ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'from'],
      [{ series: 'week' }, 'series'],
      [{ from: '2026-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z', series: 'minute' }, 'series'],
    ])('refuses stats with %o before reading anything: 400 naming %s', async (query, field) => {
      const api = await apiWith();

      const response = await api('GET', '/domains/test/stats', { query });

      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ type: 'ValidationError', field });
    });
  });

  describe('configuration', () => {
    it('takes the configuration given, without reading the environment; the module reads it on its first request only', async () => {
      // Prepare: an environment the function could not start from.
      const saved = process.env.COMMANDBUS_QUEUE_URLS;
      process.env.COMMANDBUS_QUEUE_URLS = 'not json';
      try {
        // Act
        const module = await import('../api.ts');
        const api = module.createApiHandler({ config: { store: {} as CommandStore, transport: {} as CommandTransport } });

        // Assess
        expect(typeof api).toBe('function');
        await expect(module.handler({} as ApiEvent, {} as Context)).rejects.toThrow(/COMMANDBUS_QUEUE_URLS must be a JSON object/);
      } finally {
        if (saved === undefined) delete process.env.COMMANDBUS_QUEUE_URLS;
        else process.env.COMMANDBUS_QUEUE_URLS = saved;
      }
    });
  });

  it('serves the generated OpenAPI document', async () => {
    const api = await apiWith();
    const { generateOpenApiDocument } = await import('../openapi.ts');

    const response = await api('GET', '/openapi.json');

    expect(response.status).toBe(200);
    expect(response.body).toEqual(JSON.parse(JSON.stringify(generateOpenApiDocument())));
  });

  it('answers an unknown route with 404 RouteNotFound', async () => {
    const api = await apiWith();

    const response = await api('DELETE', '/commands');

    expect(response).toMatchObject({ status: 404, body: { error: { type: 'RouteNotFound', code: 'ROUTE_NOT_FOUND' } } });
  });
});
