import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { provisionResources } from '@commandbus/local';
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
  type WorkerOptions,
} from '@commandbus/core';
import { BehaviourStore, createTestCommandHandler, TEST_COMMAND, TEST_DOMAIN } from '@commandbus/testapp';
import { inject } from 'vitest';

/** AWS clients pointed at the embedded stack started by globalSetup. */
export function awsClients() {
  const env = inject('awsEnv');
  const common = {
    region: env.AWS_REGION!,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  };
  return {
    dynamodb: new DynamoDBClient({ ...common, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB! }),
    sqs: new SQSClient({ ...common, endpoint: env.AWS_ENDPOINT_URL_SQS! }),
  };
}

export interface ScenarioOptions extends Partial<Omit<WorkerOptions, 'domain' | 'registry'>> {
  /** Start a worker right away (the seed's worker_task fixture). Default true. */
  startWorker?: boolean;
}

/**
 * One isolated E2E world: a namespace of its own, the bus, the TSQ, the test app's behaviour store
 * and (by default) a running worker for the `test` domain.
 */
export async function createScenario(options: ScenarioOptions = {}) {
  const clients = awsClients();
  const namespace = `e2e-${randomUUID().slice(0, 8)}`;
  await provisionResources(clients, namespace, [TEST_DOMAIN]);
  const names = resourceNames(namespace);
  const config: CommandBusConfig = { namespace, dynamodb: clients.dynamodb, sqs: clients.sqs, logger: silentLogger };
  const bus = new CommandBus(config);
  const tsq = new TroubleshootingQueue(config);
  const behaviours = new BehaviourStore(clients.dynamodb, names.table);
  const registry = new HandlerRegistry().register(TEST_DOMAIN, TEST_COMMAND, createTestCommandHandler(behaviours));
  const { startWorker = true, ...workerOptions } = options;

  const workers: Worker[] = [];
  const createWorker = (overrides: Partial<Omit<WorkerOptions, 'domain' | 'registry'>> = {}) => {
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
  const runs: Promise<void>[] = [];
  if (startWorker) runs.push(createWorker().run());

  const getCommand = async (commandId: string) => bus.getCommand(TEST_DOMAIN, commandId);

  /** Polls until the command reaches `status` (the seed's wait_for_status); says where it is on timeout. */
  const waitForStatus = async (commandId: string, status: CommandStatus, timeoutMs = 10_000): Promise<Command> => {
    const deadline = Date.now() + timeoutMs;
    let command: Command | undefined;
    while (Date.now() < deadline) {
      command = await getCommand(commandId);
      if (command?.status === status) return command;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const trail = (await bus.getAuditTrail(commandId)).map((e) => `${e.eventType}#${e.attempt}`).join(' → ');
    throw new Error(`command ${commandId} did not reach ${status} in ${timeoutMs} ms: it is ${command?.status ?? 'missing'} (${trail})`);
  };

  const send = async (request: { data?: Record<string, never> | Command['data']; maxAttempts?: number; correlationId?: string; replyTo?: string; commandId?: string } = {}) => {
    const commandId = request.commandId ?? randomUUID();
    await bus.send({ domain: TEST_DOMAIN, commandType: TEST_COMMAND, commandId, data: request.data ?? {}, ...pick(request) });
    return commandId;
  };

  return {
    namespace,
    names,
    clients,
    config,
    bus,
    tsq,
    behaviours,
    registry,
    createWorker,
    /** Runs a worker until cleanup. */
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
