import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PortInUseError } from './ports.ts';
import type { RunningSqs } from './sqsServer.ts';

const LOOPBACK = '127.0.0.1';
/** The thread's module, next to this one: sqsThread.ts in the sources, sqsThread.js in the published dist. */
const THREAD_MODULE = new URL(`./sqsThread${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * fauxqs runs in a worker thread of its own: an SQS endpoint is another machine in real life, and
 * sharing the caller's event loop would make the emulator and the code under test slow each other
 * down (measurably so in `npm run bench`).
 */
export function startSqs(port: number, region: string): Promise<RunningSqs> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(THREAD_MODULE, { workerData: { port, region } });
    thread.once('error', reject);
    thread.once('message', (message: { type: 'ready'; port: number } | { type: 'error'; message: string; code?: string }) => {
      if (message.type === 'error') {
        void thread.terminate();
        reject(message.code === 'EADDRINUSE' ? new PortInUseError(port, LOOPBACK, 'sqs') : new Error(`fauxqs did not start: ${message.message}`));
        return;
      }
      thread.off('error', reject);
      resolve({
        port: message.port,
        stop: async () => {
          const stopped = new Promise<void>((done) => thread.once('exit', () => done()));
          thread.postMessage('stop');
          await stopped;
        },
      });
    });
  });
}
