/**
 * Embedded local AWS for commandbus: DynamoDB Local (the real Amazon jar, run with the `java` on PATH)
 * and fauxqs (an in-process SQS emulator), each on a free port, with the commands table and the
 * per-domain queues created from the shared definitions in `@commandbus/core`'s resources.ts.
 *
 * Everything goes through the real AWS SDK over HTTP, so what works here works against AWS.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
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
import { startDynamoDbLocal } from './dynamoDbLocal.ts';
import { PortInUseError, assertPortFree } from './ports.ts';
import type { RunningSqs } from './sqsServer.ts';
// Relative on purpose: only the resource definitions are needed, not the whole core package.
import { commandsTableDefinition, DEFAULT_NAMESPACE, queueDefinitions, redrivePolicy, resourceNames } from '@commandbus/core/resources';

export { JavaNotFoundError, checkJava, dynamoDbLocalDir } from './dynamoDbLocal.ts';
export { PortInUseError, assertPortFree, freePort, type PortService } from './ports.ts';

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
  /**
   * Where the one warning that must not be missed goes (DynamoDB Local listening on every
   * interface, when no JDK can build the loopback launcher). Default: stderr.
   */
  warn?: (msg: string) => void;
}

export interface LocalStack {
  region: string;
  /** http://127.0.0.1:PORT */
  endpoints: { dynamodb: string; sqs: string };
  credentials: { accessKeyId: string; secretAccessKey: string };
  /**
   * Fault-injection hook for tests: the pid of the DynamoDB Local JVM itself (not of the watchdog
   * shell around it), e.g. to SIGSTOP/SIGCONT it and simulate a stalled DynamoDB. Undefined once
   * the JVM has exited. Signal only this pid; stop() still stops a SIGSTOPped JVM. To see the stall
   * as an error, give the client `requestHandler: { requestTimeout, throwOnRequestTimeout: true }`
   * (without the latter, current SDKs only log a warning and keep waiting).
   */
  readonly dynamodbPid: number | undefined;
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

const LOOPBACK = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 50;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const region = options.region ?? 'us-east-1';
  const log = options.logger;
  const started = performance.now();
  const dynamodbPort = options.dynamodbPort ?? 0;
  const sqsPort = options.sqsPort ?? 0;
  // Fail on a busy port before starting anything (each start re-checks, as ports can race).
  if (dynamodbPort) await assertPortFree(dynamodbPort, [LOOPBACK], 'dynamodb');
  if (sqsPort) await assertPortFree(sqsPort, [LOOPBACK], 'sqs');

  const [ddbResult, sqsResult] = await Promise.allSettled([
    startDynamoDbLocal({ port: dynamodbPort, region, ...(options.warn ? { warn: options.warn } : {}) }),
    startSqs(sqsPort, region),
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
      `(DynamoDB Local ${endpoints.dynamodb} ready in ${ddb.readyMs} ms` +
      `${ddb.loopbackOnly ? '' : ', LISTENING ON ALL INTERFACES'}, fauxqs ${endpoints.sqs})`,
  );

  let stopping: Promise<void> | undefined;
  const stack: LocalStack = {
    region,
    endpoints,
    credentials: { ...CREDENTIALS },
    get dynamodbPid() {
      return ddb.pid;
    },
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
      await stack.provision(options.namespace ?? DEFAULT_NAMESPACE, options.domains);
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
    thread.once('message', (message: { type: 'ready'; port: number } | { type: 'error'; message: string; code?: string }) => {
      if (message.type === 'error') {
        void thread.terminate();
        reject(
          message.code === 'EADDRINUSE'
            ? new PortInUseError(port, LOOPBACK, 'sqs')
            : new Error(`fauxqs did not start: ${message.message}`),
        );
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
