/** Worker-thread entry: runs the embedded SQS (fauxqs) and reports its port; 'stop' shuts it down. */
import { parentPort, workerData } from 'node:worker_threads';
import { startSqsServer } from './sqsServer.ts';

const { port, region } = workerData as { port: number; region: string };
try {
  const server = await startSqsServer(port, region, { accessKeyId: 'local', secretAccessKey: 'local' });
  parentPort!.on('message', (message) => {
    if (message === 'stop') void server.stop().then(() => process.exit(0));
  });
  parentPort!.postMessage({ type: 'ready', port: server.port });
} catch (error) {
  parentPort!.postMessage({
    type: 'error',
    message: error instanceof Error ? error.message : String(error),
    // The parent turns EADDRINUSE into a PortInUseError naming the port.
    code: (error as NodeJS.ErrnoException | undefined)?.code,
  });
}
