import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, maxHeaderSize, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { refusalMessage, scopeAllows, type Scope } from '@commandbus/core/scopes';
import { invoke } from './lambdaContext.ts';
import { type SigV4Identity, verifySigV4 } from './sigv4.ts';

/** A bearer token with the identity recorded for its holder and what it may do (as an IAM policy would). */
export interface ScopedToken {
  token: string;
  /** Where AWS would put the IAM caller's ARN. */
  operator: string;
  scope: Scope;
}

export interface HttpApiOptions {
  handler: (event: APIGatewayProxyEventV2WithIAMAuthorizer, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | string>;
  functionName: string;
  functionTimeoutMs: number;
  region: string;
  /** Default: a random port. Always bound to 127.0.0.1. */
  port?: number;
  /** The bearer token callers must present; default: 32 random bytes, hex. */
  token?: string;
  /** The identity recorded for the token holder (where AWS would put the IAM caller). */
  operator?: string;
  /**
   * More tokens, each with its own identity and scope (see packages/commandbus/src/scopes.ts): a request outside a
   * token's scope is answered 403, before the function runs, as API Gateway's IAM check would.
   * `token` keeps full access.
   */
  tokens?: ScopedToken[];
  /**
   * Requests signed with SigV4 (service execute-api, this API's region) by one of these keys are
   * accepted as the key's identity, with full access — as API Gateway accepts an IAM principal.
   */
  sigv4Identities?: SigV4Identity[];
  /** Largest request body, bytes (API Gateway's limit is 10 MB; ours matches SQS). Default 1 MiB. */
  maxBodyBytes?: number;
}

/**
 * An HTTP API, locally: requests on 127.0.0.1 become API Gateway HTTP API payload v2 events for the
 * real handler. Where AWS requires IAM (SigV4), this requires `Authorization: Bearer <token>` and
 * records the token holder as the IAM caller.
 */
export class HttpApi {
  readonly token: string;
  private server: Server | undefined;
  private readonly operator: string;

  private readonly options: HttpApiOptions;
  constructor(options: HttpApiOptions) {
    this.options = options;
    this.token = options.token ?? randomBytes(32).toString('hex');
    this.operator = options.operator ?? 'arn:aws:iam::000000000000:user/local-operator';
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.serve(request, response).catch((error: unknown) => {
        if (!response.headersSent) send(response, 500, { message: 'Internal Server Error' });
        console.error('local HTTP API:', error);
      });
    });
    // Requests Node's HTTP parser refuses (headers too large, malformed) are answered here, so the
    // body has the documented shape too (Node would answer them itself, with no body).
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      if (error.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const [status, type, message] =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'RequestHeaderFieldsTooLarge', `the request headers are larger than ${maxHeaderSize} bytes`]
          : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'RequestTimeout', 'the request took too long to arrive']
            : [400, 'BadRequest', 'the request is not valid HTTP/1.1'];
      const body = JSON.stringify({ error: { type, message } });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port ?? 0, '127.0.0.1', resolve);
    });
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the local HTTP API is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The holder of the presented token: its identity and scope (none: full access), or undefined. */
  private holder(request: IncomingMessage): { operator: string; scope?: Scope } | undefined {
    const header = request.headers.authorization ?? '';
    const presented = Buffer.from(header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '');
    const matches = (token: string) => {
      const expected = Buffer.from(token);
      return presented.length === expected.length && timingSafeEqual(presented, expected);
    };
    if (matches(this.token)) return { operator: this.operator };
    const scoped = (this.options.tokens ?? []).find(({ token }) => matches(token));
    return scoped ? { operator: scoped.operator, scope: scoped.scope } : undefined;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const signed = (request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ');
    let holder = signed ? undefined : this.holder(request);
    if (!signed && !holder) {
      // Where API Gateway answers an unsigned request on an IAM route (with its own body).
      return refuse(response, 403, 'Forbidden', 'missing or wrong bearer token (Authorization: Bearer <token>, printed at start-up)');
    }
    const maxBodyBytes = this.options.maxBodyBytes ?? 1024 * 1024;
    const body = await readBody(request, maxBodyBytes);
    if (body === undefined) return refuse(response, 413, 'PayloadTooLarge', `the body is larger than ${maxBodyBytes} bytes`);
    if (signed) {
      // The signature covers the body: it can only be checked once the body is read.
      const verified = await verifySigV4(request, body, this.options.region, this.options.sigv4Identities ?? []);
      if ('refused' in verified) return refuse(response, 403, 'Forbidden', `SigV4: ${verified.refused}`);
      holder = { operator: verified.identity.operator };
    }
    if (!holder) return;
    let url: URL;
    try {
      // Origin-form (`/path`, even `//path`) is appended to our origin, never read as a host.
      const target = request.url ?? '/';
      url = new URL(target.startsWith('/') ? `http://127.0.0.1${target}` : target);
    } catch {
      return refuse(response, 400, 'BadRequest', 'the request target is not a valid URL');
    }
    // API Gateway HTTP APIs hand the function the path percent-decoded (rawPath and
    // requestContext.http.path alike) and refuse a path that does not decode; so does this.
    let path: string;
    try {
      path = decodePath(url.pathname);
    } catch (error) {
      return refuse(response, 400, 'ValidationError', (error as Error).message, 'path');
    }
    const method = request.method ?? 'GET';
    // API Gateway checks the caller's execute-api:Invoke policy against the decoded path before the
    // function runs; a scoped token is held to the same patterns (packages/commandbus/src/scopes.ts).
    if (holder.scope && !scopeAllows(holder.scope, method, path)) {
      return send(response, 403, { error: { type: 'Forbidden', code: 'FORBIDDEN', message: refusalMessage(method, path) } });
    }
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), Array.isArray(value) ? value.join(',') : (value ?? '')]),
    );
    const queryStringParameters: Record<string, string> = {};
    for (const [name, value] of url.searchParams)
      queryStringParameters[name] = name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
    const now = new Date();
    const event: APIGatewayProxyEventV2WithIAMAuthorizer = {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: url.search.slice(1),
      headers,
      ...(url.search ? { queryStringParameters } : {}),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: url.host,
        domainPrefix: 'local',
        http: { method, path, protocol: 'HTTP/1.1', sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
        requestId: randomUUID(),
        routeKey: '$default',
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
        authorizer: {
          iam: {
            accessKey: 'LOCAL',
            accountId: '000000000000',
            callerId: 'LOCAL',
            cognitoIdentity: null as never,
            principalOrgId: null as never,
            userArn: holder.operator,
            userId: 'LOCAL',
          },
        },
      },
      ...(body.length > 0 ? { body: body.toString('utf8') } : {}),
      isBase64Encoded: false,
    };
    let result: APIGatewayProxyStructuredResultV2 | string;
    try {
      result = await invoke(this.options.handler, event, {
        functionName: this.options.functionName,
        timeoutMs: this.options.functionTimeoutMs,
        region: this.options.region,
      });
    } catch (error) {
      console.error('local HTTP API: the function failed:', error);
      return send(response, 500, { message: 'Internal Server Error' });
    }
    if (typeof result === 'string') return send(response, 200, result);
    response.writeHead(result.statusCode ?? 200, { 'content-type': 'application/json', ...(result.headers as Record<string, string>) });
    response.end(result.isBase64Encoded && result.body ? Buffer.from(result.body, 'base64') : (result.body ?? ''));
  }
}

/** A refusal of the local HTTP API itself, in the API's documented error shape. */
function refuse(response: ServerResponse, status: number, type: string, message: string, field?: string): void {
  send(response, status, { error: { type, message, ...(field === undefined ? {} : { field }) } });
}

/**
 * Percent-decodes a path once, segment by segment, as API Gateway does before invoking the function.
 * A segment that does not decode (a stray `%`, bytes that are not UTF-8) is refused by name.
 */
export function decodePath(encoded: string): string {
  return encoded
    .split('/')
    .map((segment, index) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        const shown = segment.length > 60 ? `${segment.slice(0, 60)}…` : segment;
        throw new Error(`path: segment ${index} (${JSON.stringify(shown)}) is not valid percent-encoded UTF-8`);
      }
    })
    .join('/');
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** The request body, or undefined when it is larger than `limit`. */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
