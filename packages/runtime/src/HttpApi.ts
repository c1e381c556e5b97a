import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { invoke } from './lambdaContext.ts';

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

  private authorised(request: IncomingMessage): boolean {
    const header = request.headers.authorization ?? '';
    const presented = Buffer.from(header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '');
    const expected = Buffer.from(this.token);
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!this.authorised(request)) {
      // What API Gateway answers an unsigned request on an IAM route.
      return send(response, 403, { message: 'Forbidden' });
    }
    const body = await readBody(request, this.options.maxBodyBytes ?? 1024 * 1024);
    if (body === undefined) return send(response, 413, { message: 'Request Entity Too Large' });
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), Array.isArray(value) ? value.join(',') : (value ?? '')]),
    );
    const queryStringParameters: Record<string, string> = {};
    for (const [name, value] of url.searchParams) queryStringParameters[name] = name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
    const now = new Date();
    const event: APIGatewayProxyEventV2WithIAMAuthorizer = {
      version: '2.0',
      routeKey: '$default',
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(url.search ? { queryStringParameters } : {}),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: url.host,
        domainPrefix: 'local',
        http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
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
            userArn: this.operator,
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
