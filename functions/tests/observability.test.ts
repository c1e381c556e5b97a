import { randomUUID } from 'node:crypto';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CommandBus, HandlerRegistry, METRIC_NAMES, PermanentCommandError, TransientCommandError } from '@commandbus/core';
import { inMemoryAdapters } from '@commandbus/core/testing';
import { createWorkerHandler } from '../worker.ts';

const DOMAIN = 'payments';

const context = {
  functionName: 'commandbus-worker',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:commandbus-worker',
  memoryLimitInMB: '512',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

/** A stand-in for X-Ray's segments: keeps names, annotations, errors and subsegments. */
class FakeSegment {
  readonly annotations: Record<string, unknown> = {};
  readonly subsegments: FakeSegment[] = [];
  readonly errors: unknown[] = [];
  closed = false;
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  addNewSubsegment(name: string) {
    const subsegment = new FakeSegment(name);
    this.subsegments.push(subsegment);
    return subsegment;
  }
  addAnnotation(key: string, value: unknown) {
    this.annotations[key] = value;
  }
  addMetadata() {}
  addError(error: unknown) {
    this.errors.push(error);
  }
  close() {
    this.closed = true;
  }
}

/** A worker Lambda over in-memory adapters; `invoke` sends commands, delivers them as one SQS batch, and returns what it printed. */
function world(options: { traced?: boolean } = {}) {
  const adapters = inMemoryAdapters({ domains: [DOMAIN] });
  const bus = new CommandBus(adapters);
  const registry = new HandlerRegistry().register(DOMAIN, 'Charge', (command) => {
    if (command.data.mode === 'busy') throw new TransientCommandError('BUSY', 'try later');
    if (command.data.mode === 'declined') throw new PermanentCommandError('DECLINED', 'card declined');
    return { charged: true };
  });
  const tracer = new Tracer({ serviceName: 'commandbus-worker' });
  const root = new FakeSegment('facade');
  if (options.traced) {
    // As inside Lambda: tracing on, the invocation's segment current.
    let current: unknown = root;
    vi.spyOn(tracer, 'isTracingEnabled').mockReturnValue(true);
    vi.spyOn(tracer, 'getSegment').mockImplementation(() => current as never);
    vi.spyOn(tracer, 'setSegment').mockImplementation((segment) => void (current = segment));
    vi.spyOn(tracer, 'putAnnotation').mockImplementation((key, value) => (current as FakeSegment).addAnnotation(key, value));
  }
  const handler = createWorkerHandler({ registry, tracer, config: adapters });
  return {
    root,
    async invoke(commands: { commandType?: string; data: Record<string, string> }[]) {
      const ids: string[] = [];
      for (const command of commands) {
        const commandId = randomUUID();
        await bus.send({ domain: DOMAIN, commandType: command.commandType ?? 'Charge', commandId, data: command.data, maxAttempts: 3 });
        ids.push(commandId);
      }
      const messages = await adapters.transport.receive(DOMAIN, { maxMessages: 10, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30 });
      const event: SQSEvent = {
        Records: messages.map(
          (message) =>
            ({
              messageId: message.messageId,
              receiptHandle: message.receiptHandle,
              body: message.body,
              attributes: { ApproximateReceiveCount: String(message.receiveCount) },
              messageAttributes: {},
              eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:commandbus-${DOMAIN}-commands`,
            }) as unknown as SQSRecord,
        ),
      };
      const before = printed.length;
      const response = await handler(event, context);
      return { ids, response, lines: printed.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>) };
    },
  };
}

interface Emf {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}
const emf = (lines: Record<string, unknown>[]) => lines.filter((line): line is Emf => '_aws' in line);

/** The JSON lines written to stdout (EMF, log lines) and stderr (warnings, errors) since the test began. */
let printed: string[] = [];
beforeEach(() => {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_DEV', '');
  // The worker reads its domain from the queue's name in this namespace (npm test's e2e set-up sets another).
  vi.stubEnv('COMMANDBUS_NAMESPACE', 'commandbus');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
  printed = [];
  // Before the handler is created: Powertools' loggers take hold of stdout when they are made.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk) => {
      printed.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line.startsWith('{')),
      );
      return true;
    });
  }
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('Function: the worker handler (metrics)', () => {
  it('prints, at the end of the invocation, one EMF line per command type with completed, failed, retried and parked counts', async () => {
    // Prepare
    const { invoke } = world();

    // Act
    const { response, lines } = await invoke([
      { data: { mode: 'ok' } },
      { data: { mode: 'ok' } },
      { data: { mode: 'busy' } },
      { data: { mode: 'declined' } },
      { commandType: 'Refund', data: {} },
    ]);

    // Assess
    expect(response.batchItemFailures).toHaveLength(1); // the retried one stays in the queue
    const blobs = emf(lines);
    expect(blobs).toHaveLength(2);
    const charge = blobs.find((blob) => blob.commandType === 'Charge')!;
    expect(charge._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'commandbus',
        Dimensions: [['domain', 'commandType']],
        Metrics: expect.arrayContaining([
          { Name: METRIC_NAMES.completed, Unit: 'Count' },
          { Name: METRIC_NAMES.failed, Unit: 'Count' },
          { Name: METRIC_NAMES.retried, Unit: 'Count' },
          { Name: METRIC_NAMES.parked, Unit: 'Count' },
          { Name: METRIC_NAMES.duration, Unit: 'Milliseconds' },
          { Name: METRIC_NAMES.latency, Unit: 'Milliseconds' },
        ]),
      },
    ]);
    expect(charge).toMatchObject({
      domain: DOMAIN,
      commandType: 'Charge',
      [METRIC_NAMES.completed]: [1, 1],
      [METRIC_NAMES.failed]: [1, 1],
      [METRIC_NAMES.retried]: 1,
      [METRIC_NAMES.parked]: 1,
    });
    expect(charge[METRIC_NAMES.duration]).toHaveLength(4); // every attempt whose outcome was written
    expect(charge[METRIC_NAMES.latency]).toEqual([expect.any(Number), expect.any(Number)]);
    expect(charge).not.toHaveProperty('service');
    // No handler for Refund: a permanent NO_HANDLER, parked.
    const refund = blobs.find((blob) => blob.commandType === 'Refund')!;
    expect(refund).toMatchObject({ domain: DOMAIN, commandType: 'Refund', [METRIC_NAMES.failed]: 1, [METRIC_NAMES.parked]: 1 });
    expect(refund).not.toHaveProperty(METRIC_NAMES.completed);
  });

  it('prints nothing for an invocation that wrote no outcome, and what is printed once is not printed again', async () => {
    // Prepare
    const { invoke } = world();
    await invoke([{ data: { mode: 'ok' } }]);

    // Act
    const { lines } = await invoke([]);

    // Assess
    expect(emf(lines)).toEqual([]);
  });

  it('puts the correlation id, command id, domain and command type on the log lines of a command', async () => {
    // Prepare
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'WARN');
    const { invoke } = world();

    // Act
    const { ids, lines } = await invoke([{ data: { mode: 'busy' } }]);

    // Assess
    const failed = lines.find((line) => line.message === 'command failed');
    expect(failed).toMatchObject({
      level: 'WARN',
      service: 'commandbus-worker',
      domain: DOMAIN,
      commandType: 'Charge',
      commandId: ids[0],
      correlationId: expect.any(String),
    });
  });
});

describe('Function: the worker handler (traces)', () => {
  it('runs each command handler in a subsegment annotated with domain, commandType, commandId and correlationId', async () => {
    // Prepare
    const { invoke, root } = world({ traced: true });

    // Act
    const { ids } = await invoke([{ data: { mode: 'ok' } }, { data: { mode: 'declined' } }]);

    // Assess
    const [lambda] = root.subsegments;
    expect(lambda!.name).toMatch(/^## /); // the Lambda handler (captureLambdaHandler)
    expect(lambda!.annotations).toEqual({ ColdStart: expect.any(Boolean), Service: 'commandbus-worker' });
    expect(lambda!.subsegments.map(({ name, annotations, closed }) => ({ name, annotations, closed }))).toEqual(
      expect.arrayContaining(
        ids.map((commandId) => ({
          name: `## ${DOMAIN}/Charge`,
          annotations: { domain: DOMAIN, commandType: 'Charge', commandId, correlationId: expect.any(String), attempt: 1 },
          closed: true,
        })),
      ),
    );
    const declined = lambda!.subsegments.find((subsegment) => subsegment.annotations.commandId === ids[1])!;
    expect(declined.errors).toEqual([expect.objectContaining({ code: 'DECLINED' })]);
  });

  it('traces nothing outside Lambda', async () => {
    // Prepare
    const { invoke, root } = world();

    // Act
    await invoke([{ data: { mode: 'ok' } }]);

    // Assess
    expect(root.subsegments).toEqual([]);
  });
});
