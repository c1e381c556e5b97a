import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  DEFAULT_NAMESPACE,
  DEPLOYMENT_DEFAULTS,
  DynamoStreamPoller,
  JOB_RUNNER,
  resourceNames,
  type CommandBusConfig,
  type HandlerRegistry,
  type StreamBatchEvent,
} from '@commandbus/core';
import { createClients, startLocalStack, WireMeter, type LocalStack } from '@commandbus/local';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { HttpApi, type ScopedToken } from './HttpApi.ts';
import type { SigV4Identity } from './sigv4.ts';
import { invoke } from './lambdaContext.ts';
import { SqsEventSource } from './SqsEventSource.ts';

/**
 * The E2E application's worker (functions/testWorker.ts): the default when running from the
 * repository's sources, never part of the published package (its @commandbus/testapp is private).
 */
export const TEST_WORKER_ENTRY = new URL('../../../functions/testWorker.ts', import.meta.url);

/** Whether the repository's test worker can be the default: running from the sources, with the file there. */
export function testWorkerAvailable(): boolean {
  return new URL(import.meta.url).pathname.endsWith('.ts') && existsSync(fileURLToPath(TEST_WORKER_ENTRY));
}

export interface LocalRuntimeOptions {
  namespace?: string;
  /** Default ['test'] (the E2E application's domain). */
  domains?: string[];
  /** HTTP API port on 127.0.0.1; default random. */
  port?: number;
  token?: string;
  /** Recorded as the operator of actions taken through the API. */
  operator?: string;
  /** More bearer tokens, each with its identity and scope (packages/commandbus/src/scopes.ts); `token` keeps full access. */
  tokens?: ScopedToken[];
  /** Key pairs whose SigV4-signed requests are accepted as their identity (full access), as IAM principals on AWS. */
  sigv4Identities?: SigV4Identity[];
  /** Module exporting the worker `handler`; default: `registry`, else (in the repository) functions/testWorker.ts. */
  workerEntry?: string | URL;
  /** The worker Lambda runs `createWorkerHandler({ registry })` of @commandbus/lambda with these handlers. */
  registry?: HandlerRegistry;
  /** Module exporting the API `handler`; default @commandbus/lambda's createApiHandler. */
  apiEntry?: string | URL;
  workerTimeoutSeconds?: number;
  batchSize?: number;
  batchingWindowSeconds?: number;
  maxConcurrency?: number;
  retryBaseSeconds?: number;
  retryMaxSeconds?: number;
  /** The job-runner function's time limit (default JOB_RUNNER.lambdaTimeoutSeconds); it works on a job for ⅔ of it per message. */
  jobRunnerTimeoutSeconds?: number;
  /** How often the TSQ sweeper function runs, as the stack's schedule does (default 300; 0: never). */
  sweepIntervalSeconds?: number;
  /**
   * Count every request the functions and the event source mappings make, as AWS would bill them
   * (`runtime.meter`): they then reach the embedded AWS through the wire meter's proxies.
   */
  meter?: boolean;
  /**
   * How often the stats function's stream poller looks for new records when caught up, as the
   * stack's event source mapping batches them (default 1 s; 0: no stats aggregation).
   */
  statsBatchingWindowMs?: number;
  /** Reuse a running embedded stack; otherwise one is started (and stopped with the runtime). */
  stack?: LocalStack;
  onError?: (error: unknown) => void;
}

export interface LocalRuntime {
  apiUrl: string;
  token: string;
  namespace: string;
  stack: LocalStack;
  /** What the functions were given: the AWS_* endpoint variables and COMMANDBUS_* settings. */
  env: Record<string, string>;
  /** With `meter`: what the functions and event source mappings asked of AWS so far, and its cost. */
  meter?: WireMeter;
  stop(): Promise<void>;
}

type WorkerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
type ApiHandler = (event: APIGatewayProxyEventV2WithIAMAuthorizer, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | string>;
type CreateApiHandler = (options: { config: CommandBusConfig }) => ApiHandler;

/**
 * The deployed shape, on this machine: the embedded AWS, the queues and table of the stack (from the
 * same definitions), the real worker Lambda behind SQS event source mappings, and the real API
 * Lambda behind an HTTP API on 127.0.0.1. The functions read their settings from process.env when
 * first imported, so run one runtime per process.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const domains = options.domains ?? ['test'];
  const workerTimeoutSeconds = options.workerTimeoutSeconds ?? DEPLOYMENT_DEFAULTS.workerTimeoutSeconds;
  if (options.workerEntry === undefined && options.registry === undefined && !testWorkerAvailable()) {
    throw new Error('startLocalRuntime: give the worker, as registry (a HandlerRegistry) or workerEntry (a module exporting `handler`)');
  }
  const stack = options.stack ?? (await startLocalStack());
  const ownsStack = options.stack === undefined;
  const provisioned = await stack.provision(namespace, domains);
  const { table } = provisioned;
  const names = resourceNames(namespace);
  // With a meter, everything the functions and the mappings send goes through its proxies.
  const meter = options.meter ? new WireMeter() : undefined;
  const endpoints = meter ? await meter.start(stack.endpoints) : stack.endpoints;
  const queueUrls = Object.fromEntries(
    Object.entries(provisioned.queueUrls).map(([name, url]) => [name, url.replace(new URL(stack.endpoints.sqs).origin, new URL(endpoints.sqs).origin)]),
  );
  const clients = createClients({ ...stack, endpoints });

  // As the stack does: visibility timeout = 6 × the worker's function timeout.
  const queues = await Promise.all(
    domains.map(async (domain) => {
      const queueUrl = queueUrls[names.commandsQueue(domain)]!;
      await clients.sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: queueUrl,
          Attributes: { VisibilityTimeout: String(workerTimeoutSeconds * DEPLOYMENT_DEFAULTS.visibilityTimeoutFactor) },
        }),
      );
      const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
      return { domain, queueUrl, queueArn: Attributes!.QueueArn! };
    }),
  );

  const env: Record<string, string> = {
    ...stack.env(),
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    COMMANDBUS_NAMESPACE: namespace,
    COMMANDBUS_TABLE: table,
    COMMANDBUS_QUEUE_URLS: JSON.stringify(queueUrls),
    COMMANDBUS_DOMAINS: domains.join(','),
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
    // The worker's EMF metric lines stay off locally unless asked for (POWERTOOLS_METRICS_DISABLED=false).
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    ...(options.retryBaseSeconds === undefined ? {} : { COMMANDBUS_RETRY_BASE_SECONDS: String(options.retryBaseSeconds) }),
    ...(options.retryMaxSeconds === undefined ? {} : { COMMANDBUS_RETRY_MAX_SECONDS: String(options.retryMaxSeconds) }),
  };
  Object.assign(process.env, env);
  // The functions are imported only now: they read their settings from process.env on import.
  const worker =
    options.workerEntry === undefined && options.registry !== undefined
      ? { handler: (await import('@commandbus/lambda')).createWorkerHandler({ registry: options.registry }) as WorkerHandler }
      : ((await import(String(options.workerEntry ?? TEST_WORKER_ENTRY))) as { handler: WorkerHandler });
  // The API is given its configuration (its AWS SDK clients read the endpoints set above, as on
  // Lambda); a module of one's own (apiEntry) exports a ready `handler`.
  const api = options.apiEntry
    ? ((await import(String(options.apiEntry))) as { handler: ApiHandler })
    : {
        handler: ((await import('@commandbus/lambda/api')) as { createApiHandler: CreateApiHandler }).createApiHandler({
          config: { namespace, tableName: table, queueUrls },
        }),
      };
  const sweeper = (await import('@commandbus/lambda/tsqSweeper')) as { handler: (event: unknown, context: Context) => Promise<unknown> };

  const sources = queues.map(
    ({ domain, queueUrl, queueArn }) =>
      new SqsEventSource({
        sqs: clients.sqs,
        queueUrl,
        queueArn,
        region: stack.region,
        functionName: `${namespace}-worker-${domain}`,
        handler: worker.handler,
        batchSize: options.batchSize ?? DEPLOYMENT_DEFAULTS.batchSize,
        batchingWindowSeconds: options.batchingWindowSeconds ?? DEPLOYMENT_DEFAULTS.batchingWindowSeconds,
        maxConcurrency: options.maxConcurrency ?? DEPLOYMENT_DEFAULTS.maxConcurrency,
        functionTimeoutMs: workerTimeoutSeconds * 1000,
        ...(options.onError ? { onError: options.onError } : {}),
      }),
  );
  // Operator jobs: the job-runner function behind the jobs queue, one message at a time, as the stack's mapping.
  const jobsQueueUrl = queueUrls[names.jobsQueue]!;
  const { Attributes: jobsQueue } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: jobsQueueUrl, AttributeNames: ['QueueArn'] }));
  const jobRunner = (await import('@commandbus/lambda/jobRunner')) as { handler: WorkerHandler };
  sources.push(
    new SqsEventSource({
      sqs: clients.sqs,
      queueUrl: jobsQueueUrl,
      queueArn: jobsQueue!.QueueArn!,
      region: stack.region,
      functionName: `${namespace}-job-runner`,
      handler: jobRunner.handler,
      batchSize: 1,
      batchingWindowSeconds: 0,
      maxConcurrency: 2,
      functionTimeoutMs: (options.jobRunnerTimeoutSeconds ?? JOB_RUNNER.lambdaTimeoutSeconds) * 1000,
      ...(options.onError ? { onError: options.onError } : {}),
    }),
  );
  for (const source of sources) source.start();

  const http = new HttpApi({
    handler: api.handler,
    functionName: `${namespace}-api`,
    functionTimeoutMs: DEPLOYMENT_DEFAULTS.apiTimeoutSeconds * 1000,
    region: stack.region,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.operator === undefined ? {} : { operator: options.operator }),
    ...(options.tokens === undefined ? {} : { tokens: options.tokens }),
    ...(options.sigv4Identities === undefined ? {} : { sigv4Identities: options.sigv4Identities }),
  });
  const apiUrl = await http.start();

  // The stack runs the sweeper on a schedule; so does the runtime, one run at a time.
  const sweepIntervalSeconds = options.sweepIntervalSeconds ?? 300;
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweepTimer =
    sweepIntervalSeconds > 0
      ? setInterval(() => {
          sweeping = sweeping
            .then(() => invoke(sweeper.handler, {}, { functionName: `${namespace}-tsq-sweeper`, timeoutMs: 60_000, region: stack.region }))
            .catch((error: unknown) => options.onError?.(error));
        }, sweepIntervalSeconds * 1000)
      : undefined;

  // The stack feeds the stats function from the table's stream; so does the runtime, shard by shard.
  const statsWindowMs = options.statsBatchingWindowMs ?? 1000;
  const statsFunction =
    statsWindowMs > 0
      ? ((await import('@commandbus/lambda/statsAggregator')) as {
          handler: (event: StreamBatchEvent, context: Context) => Promise<unknown>;
        })
      : undefined;
  const statsPoller = statsFunction
    ? new DynamoStreamPoller({
        dynamodb: clients.dynamodb,
        tableName: table,
        idleMs: statsWindowMs,
        handler: (event) => invoke(statsFunction.handler, event, { functionName: `${namespace}-stats`, timeoutMs: 60_000, region: stack.region }),
        onError: (error) => options.onError?.(error),
      })
    : undefined;
  statsPoller?.start();

  return {
    apiUrl,
    token: http.token,
    namespace,
    stack,
    env,
    ...(meter ? { meter } : {}),
    async stop() {
      clearInterval(sweepTimer);
      await sweeping;
      await statsPoller?.stop();
      await http.stop();
      await Promise.all(sources.map((source) => source.stop()));
      clients.dynamodb.destroy();
      clients.sqs.destroy();
      await meter?.stop();
      if (ownsStack) await stack.stop();
    },
  };
}
