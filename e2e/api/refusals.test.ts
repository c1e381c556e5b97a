/**
 * Bad input never gets a 5xx (invariant 9): the requests outside testers found answered 500 or 503,
 * each refused now with a 4xx in the documented shape, naming what was wrong.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScenario, target, type Scenario } from '../support/fixtures.ts';

let s: Scenario;
let apiUrl: string;
const local = () => {
  const where = target();
  return where.kind === 'api' && where.where === 'local';
};

beforeAll(async () => {
  const where = target();
  if (where.kind !== 'api') throw new Error('this file runs against an API target');
  apiUrl = where.apiUrl.replace(/\/$/, '');
  s = await createScenario();
});
afterAll(async () => {
  await s.cleanup();
});

interface ErrorAnswer {
  error: { type: string; message: string; field?: string };
}

/** An authenticated call with a raw body and the headers given (content-type JSON unless told). */
const call = (method: 'GET' | 'POST', path: string, body?: string) => s.client!.fetch(method, path, body);

/** Asserts the documented error shape and returns it. */
async function refusal(response: Response, status: number): Promise<ErrorAnswer['error']> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as ErrorAnswer;
  expect(body).toEqual({ error: expect.objectContaining({ type: expect.any(String), message: expect.any(String) }) });
  return body.error;
}

const uuid = () => crypto.randomUUID();
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

// On AWS, API Gateway decodes the path itself (twice, by third-party captures) and refuses what does
// not decode with its own answer: these hold for the local runtime, which decodes once.
describe.runIf(local())('Local HTTP API: path parameters', () => {
  it('refuses a malformed %-encoding with a 400 instead of failing', async () => {
    const error = await refusal(await call('GET', '/commands/test/%E0%A4%A'), 400);

    expect(error.type).toBe('ValidationError');
    expect(error.message).toContain('%E0%A4%A');
  });

  it('decodes a path parameter once: %2525 arrives as %25, and is refused as a domain by name', async () => {
    const error = await refusal(await call('GET', `/commands/te%2525st/${uuid()}`), 400);

    expect(error).toMatchObject({ type: 'ValidationError', field: 'domain' });
    expect(error.message).toContain('"te%25st"');
  });
});

describe('HTTP API: time ranges', () => {
  it.each([
    ['to=now', 'to'],
    ['from=yesterday', 'from'],
    ['to=%2B275760-09-13T00%3A00%3A00.001Z', 'to'],
    ['from=-271821-04-19T00%3A00%3A00.000Z', 'from'],
    ['to=-000001-01-01T00%3A00%3A00.000Z', 'to'],
    ['from=2026-02-30T00%3A00%3A00Z', 'from'],
    ['from=2026-01-02T00%3A00%3A00Z&to=2026-01-01T00%3A00%3A00Z', 'from'],
  ])('refuses counts?%s with a 400 naming %s', async (query, field) => {
    const error = await refusal(await call('GET', `/domains/test/counts?${query}`), 400);

    expect(error).toMatchObject({ type: 'ValidationError', field });
  });

  it('refuses a reversed range when browsing too', async () => {
    const error = await refusal(await call('GET', '/commands?domain=test&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z'), 400);

    expect(error).toMatchObject({ type: 'ValidationError', field: 'from' });
  });
});

describe('HTTP API: cursors', () => {
  it.each([
    ['a position that is no sort key', { v: 1, s: ['#', null, null, null, null, null, null, null] }],
    ['a position that is no sort key (current version)', { v: 2, q: 'x', s: ['#', null, null, null, null, null, null, null] }],
    ['an empty id', { v: 1, s: ['2026-01-01T00:00:00.000Z#', null, null, null, null, null, null, null] }],
    ['the wrong number of shards', { v: 1, s: [null] }],
    ['every shard finished', { v: 1, s: [true, true, true, true, true, true, true, true] }],
  ])('refuses a crafted cursor (%s) with a 400 naming the cursor', async (_, cursor) => {
    const error = await refusal(await call('GET', `/commands?domain=test&cursor=${cursorOf(cursor)}`), 400);

    expect(error).toMatchObject({ type: 'ValidationError', field: 'cursor' });
  });

  it('refuses a real cursor reused for another query, and still accepts it for its own', async () => {
    await Promise.all([s.send(), s.send(), s.send()]);
    const first = (await (await call('GET', '/commands?domain=test&limit=1')).json()) as { nextCursor?: string };
    expect(first.nextCursor).toBeDefined();
    const cursor = encodeURIComponent(first.nextCursor!);

    for (const other of [
      'domain=other',
      'domain=test&status=PENDING',
      'domain=test&commandType=OtherType',
      'domain=test&from=2020-01-01T00:00:00Z',
      'domain=test&to=2020-01-01T00:00:00Z',
    ]) {
      const error = await refusal(await call('GET', `/commands?${other}&cursor=${cursor}`), 400);
      expect(error, other).toMatchObject({ type: 'ValidationError', field: 'cursor' });
      expect(error.message, other).toMatch(/issued for another query/);
    }
    await refusal(await call('GET', `/tsq?domain=test&cursor=${cursor}`), 400);
    expect((await call('GET', `/commands?domain=test&limit=1&cursor=${cursor}`)).status).toBe(200);
  });
});

describe('HTTP API: bodies', () => {
  const send = (data: string) => `{"domain":"test","commandType":"TestCommand","commandId":"${uuid()}","data":${data}}`;

  it('refuses data nested 6,000 levels deep with a 400', async () => {
    const error = await refusal(await call('POST', '/commands', send(`${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}`)), 400);

    expect(error.type).toBe('ValidationError');
    expect(error.message).toMatch(/nest/);
  });

  it('refuses an integer beyond ±2^53−1 with a 400 naming its path', async () => {
    const error = await refusal(await call('POST', '/commands', send('{"amount": 12345678901234567890}')), 400);

    expect(error).toMatchObject({ type: 'ValidationError', field: 'data.amount' });
  });

  it.each([
    ['a number beyond what can be stored', '{"resultData": 1e308}', 'resultData'],
    ['a 500 KB string', `{"resultData": "${'x'.repeat(500_000)}"}`, 'resultData'],
  ])('refuses an operator complete with %s with a 400', async (_, body, field) => {
    const error = await refusal(await call('POST', `/tsq/test/${uuid()}/complete`, body), 400);

    expect(error).toMatchObject({ type: 'ValidationError', field });
  });

  it('refuses a required body that is missing with a 400', async () => {
    const error = await refusal(await call('POST', `/tsq/test/${uuid()}/cancel`), 400);

    expect(error).toMatchObject({ type: 'ValidationError', field: 'body' });
  });

  it('refuses a body that is not JSON by its content type with a 415, and takes JSON with a charset', async () => {
    const post = (contentType: string) => s.client!.fetch('POST', '/commands', send('{}'), { 'content-type': contentType });

    const error = await refusal(await post('text/plain'), 415);
    const accepted = await post('application/json; charset=utf-8');

    expect(error.type).toBe('UnsupportedMediaType');
    expect(accepted.status).toBe(202);
  });
});

describe('HTTP API: domains', () => {
  it('answers a send to a domain that is not provisioned with a 404 DomainNotFound, not a 503', async () => {
    const response = await call('POST', '/commands', JSON.stringify({ domain: 'nowhere', commandType: 'TestCommand', commandId: uuid(), data: {} }));

    expect(await refusal(response, 404)).toMatchObject({ type: 'DomainNotFound' });
  });
});

describe.runIf(local())('Local HTTP API: its own refusals have the documented shape', () => {
  it('403 without the token', async () => {
    expect(await refusal(await fetch(`${apiUrl}/commands?domain=test`), 403)).toMatchObject({ type: 'Forbidden' });
  });

  it('413 for a body over the limit', async () => {
    const response = await fetch(`${apiUrl}/commands`, {
      method: 'POST',
      headers: { ...authorization(), 'content-type': 'application/json' },
      body: `"${'x'.repeat(1024 * 1024 + 1)}"`,
    });

    expect(await refusal(response, 413)).toMatchObject({ type: 'PayloadTooLarge' });
  });

  it('431 for headers over the limit', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${apiUrl}/commands?domain=test`, { headers: { ...authorization(), 'x-large': 'x'.repeat(64 * 1024) } }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      });
      request.on('error', reject);
      request.end();
    });

    expect(status).toBe(431);
    expect(JSON.parse(body)).toMatchObject({ error: { type: 'RequestHeaderFieldsTooLarge', message: expect.any(String) } });
  });
});

function authorization(): Record<string, string> {
  const where = target();
  if (where.kind !== 'api' || where.auth.type !== 'bearer') return {};
  return { authorization: `Bearer ${where.auth.token}` };
}
