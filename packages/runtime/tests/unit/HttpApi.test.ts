import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePath, HttpApi } from '../../src/HttpApi.ts';

describe('Function: decodePath', () => {
  it('decodes each segment once, as API Gateway does', () => {
    expect(decodePath('/commands/te%2525st/a%20b%F0%9F%92%A5')).toBe('/commands/te%25st/a b💥');
    expect(decodePath('/commands/a%2Fb')).toBe('/commands/a/b');
  });

  it('refuses a segment that does not decode, naming it', () => {
    expect(() => decodePath('/commands/test/%E0%A4%A')).toThrow(/^path: segment 3 \("%E0%A4%A"\) is not valid percent-encoded UTF-8/);
    expect(() => decodePath('/commands/100%')).toThrow(/segment 2/);
  });
});

describe('Class: HttpApi', () => {
  const api = new HttpApi({
    handler: async (event) => ({ statusCode: 200, body: JSON.stringify({ path: event.requestContext.http.path, rawPath: event.rawPath }) }),
    functionName: 'f',
    functionTimeoutMs: 1000,
    region: 'us-east-1',
    token: 'secret',
  });
  let url: string;
  beforeAll(async () => {
    url = await api.start();
  });
  afterAll(async () => {
    await api.stop();
  });

  /** A raw request (fetch would normalise the target). */
  const send = (target: string, headers: Record<string, string> = { authorization: 'Bearer secret' }) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const call = request(`${url}/`, { path: target, headers }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      });
      call.on('error', reject);
      call.end();
    });

  it('hands the function the path decoded once, a leading // included', async () => {
    expect(await send('/commands/te%2525st')).toEqual({ status: 200, body: { path: '/commands/te%25st', rawPath: '/commands/te%25st' } });
    expect(await send('//commands/x')).toEqual({ status: 200, body: { path: '//commands/x', rawPath: '//commands/x' } });
  });

  it('answers its own refusals in the API error shape', async () => {
    expect(await send('/commands/%E0%A4%A')).toEqual({
      status: 400,
      body: { error: { type: 'ValidationError', field: 'path', message: expect.stringMatching(/^path: /) } },
    });
    expect(await send('/commands', {})).toEqual({ status: 403, body: { error: { type: 'Forbidden', message: expect.any(String) } } });
    expect(await send('/commands', { authorization: 'Bearer secret', 'x-large': 'x'.repeat(32 * 1024) })).toEqual({
      status: 431,
      body: { error: { type: 'RequestHeaderFieldsTooLarge', message: expect.any(String) } },
    });
  });
});
