/**
 * SigV4 verification for the local HTTP API: a request signed for `execute-api` with one of the
 * configured local key pairs is accepted as that key's identity, as API Gateway's IAM authorizer
 * accepts an IAM principal's. It lets clients that sign (the CLI's `--stack` path, the console's
 * signing proxy) be tested end to end on this machine. The signature is recomputed with the same
 * signer the clients use, over exactly the headers the request says it signed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SigV4Identity {
  accessKeyId: string;
  secretAccessKey: string;
  /** The IAM caller ARN recorded for the holder of this key. */
  operator: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/execute-api\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
/** API Gateway refuses a signature more than 5 minutes from its clock. */
const MAX_SKEW_MS = 5 * 60 * 1000;

/** The identity whose key signed the request, or why the signature is refused. */
export async function verifySigV4(
  request: IncomingMessage,
  body: Buffer,
  region: string,
  identities: readonly SigV4Identity[],
): Promise<{ identity: SigV4Identity } | { refused: string }> {
  const match = AUTHORIZATION.exec(request.headers.authorization ?? '');
  if (!match) return { refused: 'the Authorization header is not an AWS4-HMAC-SHA256 signature for execute-api' };
  const [, accessKeyId, , signedRegion, signedHeaders, signature] = match as unknown as [string, string, string, string, string, string];
  const identity = identities.find((candidate) => candidate.accessKeyId === accessKeyId);
  if (!identity) return { refused: `the access key ${accessKeyId} is not known here` };
  if (signedRegion !== region) return { refused: `signed for region ${signedRegion}, this API is in ${region}` };
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const dateMatch = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dateMatch) return { refused: 'X-Amz-Date is missing or not YYYYMMDDTHHMMSSZ' };
  const [, y, mo, d, h, mi, s] = dateMatch;
  const signingDate = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS) return { refused: 'the signature is more than 5 minutes old (or from the future)' };

  const names = signedHeaders.split(';');
  if (!names.includes('host')) return { refused: 'the signature does not cover the Host header' };
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = request.headers[name];
    if (value === undefined) return { refused: `the signed header ${name} is missing` };
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // A signed payload hash stands in for the body when the signature is computed: it must be the body's.
  const payloadHash = headers['x-amz-content-sha256'];
  if (payloadHash !== undefined && payloadHash !== createHash('sha256').update(body).digest('hex')) {
    return { refused: 'X-Amz-Content-Sha256 is not the hash of the body (UNSIGNED-PAYLOAD is not accepted)' };
  }
  const target = request.url ?? '/';
  const queryStart = target.indexOf('?');
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1))) {
    const previous = query[name];
    query[name] = previous === undefined ? value : [...[previous].flat(), value];
  }
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey },
    sha256: Hash.bind(null, 'sha256'),
  });
  const host = headers.host!;
  const signed = await signer.sign(
    {
      method: request.method ?? 'GET',
      protocol: 'http:',
      hostname: host.split(':')[0]!,
      path,
      query,
      headers,
      ...(body.length > 0 ? { body: body.toString('utf8') } : {}),
    },
    { signingDate, signableHeaders: new Set(names) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization ?? ''))?.[1] ?? '';
  const same = expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  return same ? { identity } : { refused: 'the signature does not match (wrong secret key, or the request was changed after signing)' };
}
