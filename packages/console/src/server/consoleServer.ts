/**
 * The console's server, on 127.0.0.1 only: it serves the built UI and passes the UI's API calls to
 * the bus, adding the caller's credentials itself — the local runtime's bearer token, or a SigV4
 * signature from the operator's own AWS credentials — so no credential ever reaches the browser.
 * The browser proves it is the operator's with a one-time secret from the URL printed at start-up,
 * exchanged for an HttpOnly, SameSite=Strict session cookie; every API call also carries a header a
 * cross-site form cannot send.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { CommandBusClient } from '@commandbus/client';

export interface ConsoleServerOptions {
  /** The bus's API, with the credentials the console acts with. */
  client: CommandBusClient;
  /** One line naming it, shown in the UI. */
  target: string;
  /** Domains offered in the UI. */
  domains: string[];
  /** The built UI (index.html and its assets). */
  staticDir: string;
  /** Default: any free port. Always 127.0.0.1. */
  port?: number;
}

export interface ConsoleServer {
  /** Open this once: it carries the one-time session secret. */
  url: string;
  origin: string;
  stop(): Promise<void>;
}

/** What the UI may show as possible, per domain, probed once (see probeRights). */
export interface Rights {
  send: boolean;
  retry: boolean;
  cancel: boolean;
  complete: boolean;
  'edit-and-retry': boolean;
  bulk: boolean;
}

const SESSION_COOKIE = 'cb_console';
/** The header every API call of the UI carries; a cross-site form or image cannot set it. */
export const CONSOLE_HEADER = 'x-commandbus-console';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  let secret: string | undefined = randomBytes(24).toString('base64url');
  const sessions = new Set<string>();
  const rights = new Map<string, Promise<Rights>>();
  const rightsOf = (domain: string) => {
    let probed = rights.get(domain);
    if (!probed) {
      probed = probeRights(options.client, domain);
      rights.set(domain, probed);
    }
    return probed;
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 502, { error: { type: 'ConsoleError', message: (error as Error).message } });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const session = sessionOf(request);
    const signedIn = session !== undefined && sessions.has(session);
    // The printed URL: its secret, once, becomes a session cookie.
    const offered = url.searchParams.get('session');
    if (offered !== null) {
      if (secret === undefined || !same(offered, secret)) {
        return sendText(response, 403, 'This console link was already used or is wrong: start `commandbus console` again for a new one.');
      }
      secret = undefined;
      const id = randomBytes(24).toString('base64url');
      sessions.add(id);
      response.writeHead(302, {
        location: '/',
        'set-cookie': `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/`,
        'cache-control': 'no-store',
      });
      return void response.end();
    }
    if (!signedIn) return sendText(response, 401, 'Open the console with the link `commandbus console` printed (it signs this browser in once).');

    if (url.pathname === '/console/config') {
      const domains = await Promise.all(options.domains.map(async (domain) => ({ domain, rights: await rightsOf(domain) })));
      return sendJson(response, 200, { target: options.target, domains });
    }
    if (url.pathname.startsWith('/api/')) {
      if (request.headers[CONSOLE_HEADER] !== '1')
        return sendJson(response, 403, { error: { type: 'Forbidden', message: `API calls must carry ${CONSOLE_HEADER}: 1` } });
      const method = request.method === 'POST' ? 'POST' : request.method === 'GET' ? 'GET' : undefined;
      if (!method) return sendJson(response, 405, { error: { type: 'MethodNotAllowed', message: 'GET or POST' } });
      const body = method === 'POST' ? await readBody(request) : undefined;
      if (body === null) return sendJson(response, 413, { error: { type: 'PayloadTooLarge', message: `larger than ${MAX_BODY_BYTES} bytes` } });
      const upstream = await options.client.fetch(method, `${url.pathname.slice('/api/'.length)}${url.search}`, body);
      const text = await upstream.text();
      response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' });
      return void response.end(text);
    }
    return serveStatic(options.staticDir, url.pathname, response);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/?session=${secret}`,
    origin,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * What the credentials may do in a domain, learned without changing anything: each operator action
 * on a command id that cannot exist. Allowed, the bus answers 404 (or 400); forbidden, the caller's
 * IAM policy (API Gateway) or token scope (local runtime) answers 403 before the bus is asked.
 */
export async function probeRights(client: CommandBusClient, domain: string): Promise<Rights> {
  const ghost = randomUUID();
  const d = encodeURIComponent(domain);
  const allowed = async (path: string, body: unknown) => (await client.fetch('POST', path, JSON.stringify(body))).status !== 403;
  const [send, retry, cancel, complete, edit, bulk] = await Promise.all([
    allowed(`domains/${d}/commands`, { commandType: '' }),
    allowed(`tsq/${d}/${ghost}/retry`, {}),
    allowed(`tsq/${d}/${ghost}/cancel`, { reason: 'rights probe' }),
    allowed(`tsq/${d}/${ghost}/complete`, {}),
    allowed(`tsq/${d}/${ghost}/edit-and-retry`, { data: {} }),
    allowed(`tsq-bulk/${d}/retry`, { commandIds: [] }),
  ]);
  return { send, retry, cancel, complete, 'edit-and-retry': edit, bulk };
}

async function serveStatic(dir: string, pathname: string, response: ServerResponse): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  } catch {
    return sendText(response, 400, 'the path is not valid percent-encoding');
  }
  const relative = normalize(decoded).replace(/^([/\\])+/, '');
  const file = join(dir, relative);
  if (!file.startsWith(dir + sep) && file !== dir) return sendText(response, 404, 'not found');
  try {
    const content = await readFile(file);
    response.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      // Bundled, no CDN: nothing else may load, nothing may frame it.
      'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    });
    response.end(content);
  } catch {
    // A client-side route: the app itself.
    if (extname(file) === '') return serveStatic(dir, '/', response);
    sendText(response, 404, 'not found');
  }
}

function sessionOf(request: IncomingMessage): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function readBody(request: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(text);
}
