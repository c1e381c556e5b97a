/**
 * Embedded local AWS for commandbus: DynamoDB Local (the real Amazon jar, run with the `java` on PATH)
 * and fauxqs (an in-process SQS emulator), each on a free port, with the commands table and the
 * per-domain queues created from the shared definitions in `@commandbus/core`'s resources.ts.
 *
 * Everything goes through the real AWS SDK over HTTP, so what works here works against AWS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_NAMESPACE } from '@commandbus/core/resources';
import { startDynamoDbLocal } from './dynamoDbLocal.ts';
import { startSqs } from './embeddedSqs.ts';
import { assertPortFree } from './ports.ts';
import { provisionResources } from './provision.ts';

export { JavaNotFoundError, checkJava, dynamoDbLocalDir } from './dynamoDbLocal.ts';
export { PortInUseError, assertPortFree, freePort, type PortService } from './ports.ts';
export { provisionResources } from './provision.ts';
export { SQS_CHUNK_BYTES, WireMeter, WIRE_PRICES, type WireMeterCounts } from './wireMeter.ts';

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
