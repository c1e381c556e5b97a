/** Port checks shared by the embedded stack and its command-line entry points. */
import { createServer } from 'node:net';

/** Which listener a port belongs to; the CLIs map it to the flag that chooses it. */
export type PortService = 'dynamodb' | 'sqs' | 'http';

const SERVICE_NAMES: Record<PortService, string> = {
  dynamodb: 'DynamoDB Local',
  sqs: 'SQS (fauxqs)',
  http: 'HTTP API',
};

/** A requested port that something else already listens on. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  readonly port: number;
  readonly host: string;
  readonly service: PortService;
  constructor(port: number, host: string, service: PortService) {
    super(`${SERVICE_NAMES[service]} port ${port} is already in use on ${host}`);
    this.port = port;
    this.host = host;
    this.service = service;
  }
}

/** A port that was free on 127.0.0.1 a moment ago (listen on :0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

/**
 * Throws PortInUseError unless `port` can be bound on every one of `hosts` right now. Listening
 * is the only reliable test: a connect probe misses listeners on other interfaces and is fooled
 * by firewalls. It cannot rule out a race with another process; callers still verify who bound.
 */
export async function assertPortFree(port: number, hosts: readonly string[], service: PortService): Promise<void> {
  for (const host of hosts) {
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') reject(new PortInUseError(port, host, service));
        else if (error.code === 'EACCES') {
          reject(new Error(`${SERVICE_NAMES[service]}: not permitted to listen on ${host}:${port} (ports below 1024 need privileges)`));
        } else reject(error);
      });
      server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
    });
  }
}
