import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { buildApp, startFauxqs, type BuildAppOptions } from 'fauxqs';
import { installMessageMoveTasks } from './messageMoveTasks.ts';

const LOOPBACK = '127.0.0.1';

export interface RunningSqs {
  port: number;
  stop(): Promise<void>;
}

/**
 * fauxqs, with three deviations from its `startFauxqs()`:
 *  - queue URLs are `http://127.0.0.1:PORT/000000000000/<name>` (the request's Host) instead of
 *    `http://sqs.<region>.localhost:PORT/...`. `*.localhost` does not resolve through getaddrinfo
 *    on most Linux hosts, and an SQSClient configured only through AWS_ENDPOINT_URL_SQS (no
 *    explicit `endpoint`) sends each request to the QueueUrl's host (useQueueUrlAsEndpoint), so
 *    those URLs fail with ENOTFOUND. fauxqs builds request-host URLs only when its SqsStore's
 *    `host` is empty, and `startFauxqs()` always sets it, hence `buildApp()` with our own store;
 *  - it listens on 127.0.0.1 only (`startFauxqs()` binds 0.0.0.0);
 *  - it answers StartMessageMoveTask and friends (see messageMoveTasks.ts).
 * If fauxqs's internals move (SqsStore is not a public export), fall back to `startFauxqs()`.
 */
export async function startSqsServer(port: number, region: string, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<RunningSqs> {
  const SqsStore = await loadFauxqsSqsStore();
  if (!SqsStore) {
    const server = await startFauxqs({ port, logger: false, defaultRegion: region });
    return { port: server.port, stop: () => server.stop() };
  }
  const sqsStore = new SqsStore();
  sqsStore.host = '';
  const app = buildApp({
    logger: false,
    defaultRegion: region,
    // buildApp creates the stores it is not given; only the SQS one needs configuring.
    stores: { sqsStore } as unknown as NonNullable<BuildAppOptions['stores']>,
  });
  let self: SQSClient | undefined;
  installMessageMoveTasks(
    app,
    () => (self ??= new SQSClient({ region, credentials, endpoint: `http://${LOOPBACK}:${(app.server.address() as AddressInfo).port}` })),
  );
  await app.listen({ port, host: LOOPBACK });
  const address = app.server.address() as AddressInfo;
  return {
    port: address.port,
    stop: async () => {
      self?.destroy();
      await app.close();
    },
  };
}

type SqsStoreClass = new () => { host: string };

async function loadFauxqsSqsStore(): Promise<SqsStoreClass | undefined> {
  try {
    // The package's exports map only exposes ".", so locate the directory through the resolver's
    // search paths and import the file by URL (same URL as fauxqs's own import: same class).
    const require = createRequire(import.meta.url);
    const pkgDir = (require.resolve.paths('fauxqs') ?? []).map((dir) => path.join(dir, 'fauxqs')).find((dir) => existsSync(path.join(dir, 'package.json')));
    if (!pkgDir) return undefined;
    const file = path.join(pkgDir, 'dist', 'sqs', 'sqsStore.js');
    if (!existsSync(file)) return undefined;
    const mod = (await import(pathToFileURL(file).href)) as { SqsStore?: SqsStoreClass };
    const SqsStore = mod.SqsStore;
    return typeof SqsStore === 'function' && typeof new SqsStore().host === 'string' ? SqsStore : undefined;
  } catch {
    return undefined;
  }
}
