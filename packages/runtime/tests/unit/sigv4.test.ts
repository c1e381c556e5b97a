import type { IncomingMessage } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { verifySigV4 } from '../../src/sigv4.ts';

const identity = { accessKeyId: 'AKIALOCALTEST', secretAccessKey: 'c2VjcmV0', operator: 'arn:aws:iam::000000000000:user/alice' };
const region = 'eu-west-1';

/** A request as the client signs it, then as Node's HTTP server would hand it over. */
async function signed(options: { path?: string; body?: string; secret?: string; date?: Date } = {}) {
  const path = options.path ?? '/tsq/payments/0b6f1c0e-8a4e-4b7e-9d1e-3f2a1b0c9d8e/cancel';
  const [pathname, search = ''] = path.split('?');
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: options.secret ?? identity.secretAccessKey },
    sha256: Hash.bind(null, 'sha256'),
  });
  const result = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 3000,
      path: pathname!,
      query: Object.fromEntries(new URLSearchParams(search)),
      headers: { host: '127.0.0.1:3000', 'content-type': 'application/json' },
      ...(options.body === undefined ? {} : { body: options.body }),
    },
    options.date ? { signingDate: options.date } : {},
  );
  const headers = Object.fromEntries(Object.entries(result.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method: 'POST', url: path, headers } as unknown as IncomingMessage;
}

describe('SigV4 verification of the local HTTP API', () => {
  it('accepts a request signed with a known key as its identity, query and body included', async () => {
    const body = '{"reason":"duplicate"}';
    const request = await signed({ path: '/tsq?domain=payments&errorCode=A%20B', body });
    expect(await verifySigV4(request, Buffer.from(body), region, [identity])).toEqual({ identity });
  });

  it('refuses a changed body, a wrong secret, an unknown key, another region and an old signature', async () => {
    const body = '{"reason":"duplicate"}';
    // The client signs the body's hash (X-Amz-Content-Sha256): another body does not pass under it.
    expect(await verifySigV4(await signed({ body }), Buffer.from('{"reason":"other"}'), region, [identity])).toMatchObject({
      refused: expect.stringContaining('is not the hash of the body'),
    });
    const withoutHash = await signed({ body });
    delete withoutHash.headers['x-amz-content-sha256'];
    expect(await verifySigV4(withoutHash, Buffer.from(body), region, [identity])).toMatchObject({ refused: expect.stringMatching(/missing|does not match/) });
    expect(await verifySigV4(await signed({ body, secret: 'wrong' }), Buffer.from(body), region, [identity])).toMatchObject({
      refused: expect.stringContaining('does not match'),
    });
    expect(await verifySigV4(await signed({ body }), Buffer.from(body), region, [])).toMatchObject({ refused: expect.stringContaining('not known') });
    expect(await verifySigV4(await signed({ body }), Buffer.from(body), 'us-east-1', [identity])).toMatchObject({ refused: expect.stringContaining('region') });
    const old = await signed({ body, date: new Date(Date.now() - 10 * 60 * 1000) });
    expect(await verifySigV4(old, Buffer.from(body), region, [identity])).toMatchObject({ refused: expect.stringContaining('5 minutes') });
  });

  it('refuses what is not a SigV4 header for execute-api', async () => {
    const request = { method: 'GET', url: '/', headers: { authorization: 'Bearer abc' } } as unknown as IncomingMessage;
    expect(await verifySigV4(request, Buffer.alloc(0), region, [identity])).toMatchObject({ refused: expect.stringContaining('not an AWS4-HMAC-SHA256') });
  });
});
