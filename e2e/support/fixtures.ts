import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CommandBusClient } from '@commandbus/client';
import {
  CommandBus,
  CommandStatus,
  HandlerRegistry,
  resourceNames,
  silentLogger,
  TroubleshootingQueue,
  Worker,
  type AuditEvent,
  type Command,
  type CommandBusConfig,
  type CommandQuery,
  type JsonObject,
  type JsonValue,
  type Page,
  type Reply,
  type SendCommandRequest,
  type SendResult,
  type TsqEntry,
  type TsqQuery,
  type WorkerOptions,
} from '@commandbus/core';
import { provisionResources } from '@commandbus/local';
import { BehaviourStore, createTestCommandHandler, TEST_COMMAND, TEST_DOMAIN } from '@commandbus/testapp';
import { expect, inject } from 'vitest';

/** AWS clients pointed at the embedded stack started by globalSetup. */
export function awsClients() {
  const env = inject('awsEnv');
  // The embedded stack gives endpoints and keys; LocalStack/AWS use the SDK's own environment.
  const common = {
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } }
      : {}),
  };
  return {
    dynamodb: new DynamoDBClient({ ...common, ...(env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {}) }),
    sqs: new SQSClient({ ...common, ...(env.AWS_ENDPOINT_URL_SQS ? { endpoint: env.AWS_ENDPOINT_URL_SQS } : {}) }),
  };
}

/** What the scenarios call: the library in-process, or the HTTP API of the deployed shape. */
export interface BusApi {
  send(request: SendCommandRequest): Promise<SendResult>;
  getCommand(domain: string, commandId: string): Promise<Command | undefined>;
  getAuditTrail(commandId: string): Promise<AuditEvent[]>;
  queryCommands(query: CommandQuery): Promise<Page<Command>>;
}
export interface TsqApi {
  list(query: TsqQuery): Promise<Page<TsqEntry>>;
  operatorRetry(action: { domain: string; commandId: string; operator: string }): Promise<unknown>;
  operatorCancel(action: { domain: string; commandId: string; operator: string; reason: string }): Promise<unknown>;
  operatorComplete(action: { domain: string; commandId: string; operator: string; resultData?: JsonValue }): Promise<unknown>;
}

export interface ScenarioOptions extends Partial<Omit<WorkerOptions, 'domain' | 'registry'>> {
  /** Start a worker right away (the seed's worker_task fixture). Default true. Embedded target only. */
  startWorker?: boolean;
}

export const target = () => inject('target');

/**
 * One E2E world. Embedded target: a namespace of its own, the library's bus and TSQ, and (by
 * default) a running in-process worker. API target: the deployed shape started by globalSetup,
 * driven through the HTTP API only; the worker is the Lambda under the local runtime.
 */
export async function createScenario(options: ScenarioOptions = {}) {
  const clients = awsClients();
  const where = target();
  const api = where.kind === 'api';
  const namespace = api ? where.namespace : `e2e-${randomUUID().slice(0, 8)}`;
  if (!api) await provisionResources(clients, namespace, [TEST_DOMAIN]);
  const names = resourceNames(namespace);
  const config: CommandBusConfig = { namespace, dynamodb: clients.dynamodb, sqs: clients.sqs, logger: silentLogger };
  const behaviours = new BehaviourStore(clients.dynamodb, names.table);
  const registry = new HandlerRegistry().register(TEST_DOMAIN, TEST_COMMAND, createTestCommandHandler(behaviours));
  const { startWorker = true, ...workerOptions } = options;

  let bus: BusApi;
  let tsq: TsqApi;
  let client: CommandBusClient | undefined;
  if (api) {
    const http = new CommandBusClient({ baseUrl: where.apiUrl, auth: where.auth });
    client = http;
    bus = {
      send: (request) => http.send(request),
      getCommand: (domain, commandId) => http.getCommand(domain, commandId),
      getAuditTrail: (commandId) => http.getAuditTrail(commandId, TEST_DOMAIN),
      queryCommands: (query) => http.queryCommands(query),
    };
    // The operator is whoever the API authenticated, not a parameter.
    tsq = {
      list: (query) => http.listTsq(query),
      operatorRetry: ({ domain, commandId }) => http.operatorRetry({ domain, commandId }),
      operatorCancel: ({ domain, commandId, reason }) => http.operatorCancel({ domain, commandId, reason }),
      operatorComplete: ({ domain, commandId, resultData }) =>
        http.operatorComplete({ domain, commandId, ...(resultData === undefined ? {} : { resultData }) }),
    };
  } else {
    const library = new CommandBus(config);
    const troubleshooting = new TroubleshootingQueue(config);
    bus = {
      send: (request) => library.send(request),
      getCommand: (domain, commandId) => library.getCommand(domain, commandId),
      getAuditTrail: (commandId) => library.getAuditTrail(commandId),
      queryCommands: (query) => library.queryCommands(query),
    };
    tsq = {
      list: (query) => troubleshooting.list(query),
      operatorRetry: (action) => troubleshooting.operatorRetry(action),
      operatorCancel: (action) => troubleshooting.operatorCancel(action),
      operatorComplete: (action) => troubleshooting.operatorComplete(action),
    };
  }

  const workers: Worker[] = [];
  const runs: Promise<void>[] = [];
  const createWorker = (overrides: Partial<Omit<WorkerOptions, 'domain' | 'registry'>> = {}) => {
    if (api) throw new Error('the API target runs the worker Lambda; scenarios cannot start workers there');
    const worker = new Worker({
      ...config,
      domain: TEST_DOMAIN,
      registry,
      concurrency: 4,
      visibilityTimeout: 30,
      waitTimeSeconds: 1,
      retryPolicy: { baseDelaySeconds: 0, maxDelaySeconds: 0 },
      ...workerOptions,
      ...overrides,
    });
    workers.push(worker);
    return worker;
  };
  if (startWorker && !api) runs.push(createWorker().run());

  const getCommand = async (commandId: string) => bus.getCommand(TEST_DOMAIN, commandId);

  /** Polls until the command reaches `status` (the seed's wait_for_status); says where it is on timeout. */
  const waitForStatus = async (commandId: string, status: CommandStatus, timeoutMs = 10_000): Promise<Command> => {
    // The deployed shape adds a batching window per receive, and a real cloud its own latency.
    const deadline = Date.now() + timeoutMs * (api ? (where.where === 'remote' ? 4 : 2) : 1);
    let command: Command | undefined;
    while (Date.now() < deadline) {
      command = await getCommand(commandId);
      if (command?.status === status) return command;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const trail = (await bus.getAuditTrail(commandId)).map((e) => `${e.eventType}#${e.attempt}`).join(' → ');
    throw new Error(`command ${commandId} did not reach ${status} in ${timeoutMs} ms: it is ${command?.status ?? 'missing'} (${trail})`);
  };

  const send = async (request: { data?: JsonObject; maxAttempts?: number; correlationId?: string; replyTo?: string; commandId?: string } = {}) => {
    const commandId = request.commandId ?? randomUUID();
    await bus.send({ domain: TEST_DOMAIN, commandType: TEST_COMMAND, commandId, data: request.data ?? {}, ...pick(request) });
    return commandId;
  };

  /** Pages through the TSQ (it may hold other tests' commands) looking for one command. */
  const findInTsq = async (commandId: string): Promise<TsqEntry | undefined> => {
    let cursor: string | undefined;
    do {
      const page = await tsq.list({ domain: TEST_DOMAIN, limit: 100, ...(cursor ? { cursor } : {}) });
      const found = page.items.find((item) => item.commandId === commandId);
      if (found) return found;
      cursor = page.nextCursor;
    } while (cursor);
    return undefined;
  };

  /**
   * Every reply to one command on the replies queue (shared with other tests on the API target):
   * ours are deleted, others hidden only briefly. After the first, it listens a little longer, so a
   * second reply would be seen.
   */
  const collectReplies = async (commandId: string): Promise<Reply[]> => {
    const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: names.repliesQueue }));
    const replies = new Map<string, Reply>();
    const poll = async () => {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 2 }),
      );
      for (const message of Messages) {
        const reply = JSON.parse(message.Body!) as Reply;
        if (reply.commandId !== commandId) continue;
        replies.set(message.MessageId!, reply);
        await clients.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    };
    await waitFor(
      `a reply to ${commandId}`,
      async () => {
        await poll();
        return replies.size > 0 ? true : undefined;
      },
      api ? 20_000 : 10_000,
    );
    for (let round = 0; round < 3; round++) await poll();
    return [...replies.values()];
  };

  return {
    target: where,
    collectReplies,
    /** The operator the audit trail should show (a matcher where the remote identity is not known). */
    operator: (api ? (where.operator ?? expect.stringMatching(/.+/)) : 'test-operator') as string,
    /** The HTTP client of an API target. */
    client,
    /** How many handlers may run at once. */
    maxParallel: api ? where.maxConcurrency * where.batchSize : (options.concurrency ?? 4),
    namespace,
    names,
    clients,
    config,
    bus,
    tsq,
    behaviours,
    registry,
    createWorker,
    /** Runs a worker until cleanup (embedded target). */
    startWorker: (overrides: Partial<Omit<WorkerOptions, 'domain' | 'registry'>> = {}) => {
      const worker = createWorker(overrides);
      runs.push(worker.run());
      return worker;
    },
    send,
    getCommand,
    waitForStatus,
    waitForCompletion: (commandId: string, timeoutMs?: number) => waitForStatus(commandId, CommandStatus.COMPLETED, timeoutMs),
    auditTypes: async (commandId: string) => (await bus.getAuditTrail(commandId)).map((event: AuditEvent) => event.eventType),
    findInTsq,
    async cleanup() {
      await Promise.all(workers.map((worker) => worker.stop()));
      await Promise.all(runs);
    },
  };
}

function pick(request: { maxAttempts?: number; correlationId?: string; replyTo?: string }) {
  return {
    ...(request.maxAttempts === undefined ? {} : { maxAttempts: request.maxAttempts }),
    ...(request.correlationId === undefined ? {} : { correlationId: request.correlationId }),
    ...(request.replyTo === undefined ? {} : { replyTo: request.replyTo }),
  };
}

export type Scenario = Awaited<ReturnType<typeof createScenario>>;

/** Polls `probe` until it returns a value other than undefined. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
