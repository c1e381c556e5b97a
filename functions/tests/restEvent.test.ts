import { readEnvironment, ValidationError } from '@commandbus/core';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { callerIdentity, HttpError, type ApiEvent, type ApiResult } from '../http.ts';
import { fromRestApiEvent, isRestApiEvent, restApiEvents, type RestApiEvent } from '../restEvent.ts';

const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** A REST API (payload 1.0) proxy event, as API Gateway v1 sends it for `/{proxy+}` with IAM authorisation. */
function restEvent(overrides: Partial<RestApiEvent> & { identity?: Partial<RestApiEvent['requestContext']['identity']> } = {}): RestApiEvent {
  const { identity, ...rest } = overrides;
  const path = rest.path ?? '/openapi.json';
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: 'GET',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: rest.httpMethod ?? 'GET',
      path: `/api${path}`,
      stage: 'api',
      requestId: 'r-1',
      requestTimeEpoch: 1,
      resourceId: 'x',
      resourcePath: '/{proxy+}',
      identity: {
        accessKey: 'ASIAEXAMPLE',
        accountId: '123456789012',
        apiKey: null,
        apiKeyId: null,
        caller: 'AIDAEXAMPLE',
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '10.0.0.1',
        user: 'AIDAEXAMPLE',
        userAgent: 'test',
        userArn: 'arn:aws:iam::123456789012:user/alice',
        ...identity,
      },
    },
    ...rest,
  } as RestApiEvent;
}

describe('Function: REST API events (payload 1.0)', () => {
  it('tells a REST API event from an HTTP API one', () => {
    expect(isRestApiEvent(restEvent())).toBe(true);
    expect(isRestApiEvent({ version: '2.0', rawPath: '/x', requestContext: { http: { method: 'GET', path: '/x' } } })).toBe(false);
    expect(isRestApiEvent(undefined)).toBe(false);
  });

  it('takes method, path (percent-decoded, as an HTTP API hands it), query and headers, repeated names joined by commas', () => {
    const event = fromRestApiEvent(
      restEvent({
        httpMethod: 'POST',
        path: '/commands/100%25/abc',
        headers: { 'Content-Type': 'application/json', 'X-Tag': 'b' },
        multiValueHeaders: { 'Content-Type': ['application/json'], 'X-Tag': ['a', 'b'] },
        queryStringParameters: { status: 'IN_TSQ', tag: 'y' },
        multiValueQueryStringParameters: { status: ['IN_TSQ'], tag: ['x', 'y'] },
        body: '{"a":1}',
      }),
    );
    expect(event.requestContext.http.method).toBe('POST');
    expect(event.rawPath).toBe('/commands/100%/abc');
    expect(event.requestContext.http.path).toBe('/commands/100%/abc');
    expect(event.queryStringParameters).toEqual({ status: 'IN_TSQ', tag: 'x,y' });
    expect(event.rawQueryString).toBe('status=IN_TSQ&tag=x&tag=y');
    expect(event.headers).toEqual({ 'Content-Type': 'application/json', 'X-Tag': 'a,b' });
    expect(event.body).toBe('{"a":1}');
    expect(event.isBase64Encoded).toBe(false);
  });

  it('refuses a path that does not percent-decode (an HTTP API refuses it before the function)', () => {
    expect(() => fromRestApiEvent(restEvent({ path: '/commands/100%/abc' }))).toThrow(ValidationError);
  });

  it("takes the operator from the IAM caller, as from an HTTP API's authorizer", () => {
    expect(callerIdentity(fromRestApiEvent(restEvent()))).toEqual({ operator: 'arn:aws:iam::123456789012:user/alice' });
  });

  it('records an assumed role as the role, with the (caller-chosen) session name apart, for REST callers too', () => {
    const event = fromRestApiEvent(
      restEvent({ identity: { userArn: 'arn:aws:sts::123456789012:assumed-role/Ops/alice@example.com', caller: 'AROAEXAMPLE:alice@example.com' } }),
    );
    expect(callerIdentity(event)).toEqual({ operator: 'arn:aws:iam::123456789012:role/Ops', operatorSession: 'alice@example.com' });
  });

  it('has no caller without an IAM identity: operator routes are refused', () => {
    const event = fromRestApiEvent(restEvent({ identity: { userArn: null, caller: null, user: null, accessKey: null, accountId: null } }));
    expect(event.requestContext.authorizer).toBeUndefined();
    expect(() => callerIdentity(event)).toThrow(HttpError);
  });
});

describe("Function: REST API events on LocalStack's free image (no caller named)", () => {
  const anonymous = (headers: Record<string, string>) =>
    restEvent({ headers, identity: { userArn: null, caller: null, user: null, accessKey: null, accountId: null } });
  const sigv4 = { Authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00' };

  it('records the access key the signature claims, marked unverified, only when asked to', () => {
    expect(callerIdentity(fromRestApiEvent(anonymous(sigv4), { unverifiedCaller: true }))).toEqual({ operator: 'unverified:test' });
    expect(() => callerIdentity(fromRestApiEvent(anonymous(sigv4)))).toThrow(HttpError);
    expect(() => callerIdentity(fromRestApiEvent(anonymous({}), { unverifiedCaller: true }))).toThrow(HttpError);
  });

  it('is switched on by COMMANDBUS_UNVERIFIED_CALLER=sigv4-access-key (the stack sets it on LocalStack only), and by nothing else', async () => {
    expect(readEnvironment({ COMMANDBUS_UNVERIFIED_CALLER: 'sigv4-access-key' }, ['unverifiedCaller'])).toEqual({ unverifiedCaller: 'sigv4-access-key' });
    expect(() => readEnvironment({ COMMANDBUS_UNVERIFIED_CALLER: 'yes' }, ['unverifiedCaller'])).toThrow(/sigv4-access-key/);
    const through = async () => {
      const request = { event: anonymous(sigv4) as unknown as ApiEvent };
      await restApiEvents().before!(request as never);
      return request.event;
    };
    process.env.COMMANDBUS_UNVERIFIED_CALLER = 'sigv4-access-key';
    try {
      expect(callerIdentity(await through())).toEqual({ operator: 'unverified:test' });
    } finally {
      delete process.env.COMMANDBUS_UNVERIFIED_CALLER;
    }
    await expect(through().then(callerIdentity)).rejects.toThrow(HttpError);
  });

  it('never lets a claimed key stand in for a caller API Gateway named', () => {
    expect(callerIdentity(fromRestApiEvent(restEvent({ headers: sigv4 }), { unverifiedCaller: true }))).toEqual({
      operator: 'arn:aws:iam::123456789012:user/alice',
    });
  });
});

describe('Function: createApiHandler behind a REST API', () => {
  beforeAll(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  });

  const handle = async (event: RestApiEvent) => {
    const { createApiHandler } = await import('../api.ts');
    const unreachable = new Proxy({}, { get: (_, name) => () => Promise.reject(new Error(`unexpected call: ${String(name)}`)) });
    const handler = createApiHandler({ config: { store: unreachable as never, transport: unreachable as never } });
    const result = (await handler(event as unknown as ApiEvent, { getRemainingTimeInMillis: () => 10_000 } as Context)) as ApiResult;
    return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') };
  };

  it('serves a route from a REST API event', async () => {
    const { status, body } = await handle(restEvent({ path: '/openapi.json' }));
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
  });

  it('reads a base64 body (REST APIs may send one) and matches routes on the decoded path', async () => {
    const base64 = await handle(
      restEvent({
        httpMethod: 'POST',
        path: '/commands',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from('[1]').toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(base64.status).toBe(400);
    expect(base64.body.error).toMatchObject({ field: 'body', message: expect.stringMatching(/must be a JSON object/) });

    const decoded = await handle(restEvent({ path: `/commands/100%25/${uuid}` }));
    expect(decoded.status).toBe(400);
    expect(decoded.body.error).toMatchObject({ type: 'ValidationError', field: 'domain' });
    expect(decoded.body.error.message).toContain('"100%"');
  });

  it('answers a path that does not decode with a 400, and an unknown route with a 404', async () => {
    expect((await handle(restEvent({ path: '/commands/%E0%A4%A' }))).status).toBe(400);
    expect((await handle(restEvent({ path: '/nowhere' }))).status).toBe(404);
  });
});
