/**
 * `npm start`: the whole lifecycle on the embedded AWS. Starts DynamoDB Local + fauxqs, a worker for
 * the `test` domain, sends one command per behaviour, prints every audit event as it happens,
 * resolves what lands in the troubleshooting queue with operator actions, and exits when every
 * command has reached its end state.
 */
import { randomUUID } from 'node:crypto';
import { styleText } from 'node:util';
import { CommandBus, CommandStatus, HandlerRegistry, silentLogger, StatsAggregator, TroubleshootingQueue, Worker, type AuditEvent } from '@commandbus/core';
import { createClients, startLocalStack } from '@commandbus/local';
import { BehaviourStore, createTestCommandHandler, TEST_COMMAND, TEST_DOMAIN, type Behaviour } from '@commandbus/testapp';

interface DemoCommand {
  label: string;
  behaviour: Behaviour;
  maxAttempts: number;
  /** What the operator does once it is in the TSQ. */
  resolve?: 'retry' | 'cancel' | 'complete';
}

const DEMO: DemoCommand[] = [
  { label: 'success', behaviour: { type: 'success', delay_ms: 300 }, maxAttempts: 3 },
  {
    label: 'fail_permanent',
    behaviour: { type: 'fail_permanent', error_code: 'INVALID_ACCOUNT', error_message: 'Account does not exist' },
    maxAttempts: 3,
    resolve: 'retry',
  },
  { label: 'fail_transient', behaviour: { type: 'fail_transient', error_code: 'UPSTREAM_UNAVAILABLE' }, maxAttempts: 3, resolve: 'complete' },
  { label: 'fail_transient_then_succeed', behaviour: { type: 'fail_transient_then_succeed', transient_failures: 2 }, maxAttempts: 3 },
  { label: 'timeout', behaviour: { type: 'timeout', timeout_ms: 5000 }, maxAttempts: 2, resolve: 'cancel' },
];

const END_STATES: readonly string[] = [CommandStatus.COMPLETED, CommandStatus.CANCELLED];
const t0 = Date.now();
const clock = (at = Date.now()) => styleText('dim', `+${((at - t0) / 1000).toFixed(2).padStart(6)}s`);
const colour = (type: string) =>
  type === 'COMPLETED' || type === 'OPERATOR_COMPLETE'
    ? styleText('green', type)
    : type === 'FAILED' || type === 'RETRY_EXHAUSTED'
      ? styleText('yellow', type)
      : type === 'MOVED_TO_TSQ'
        ? styleText('red', type)
        : type.startsWith('OPERATOR')
          ? styleText('magenta', type)
          : styleText('cyan', type);

function describeEvent(event: AuditEvent): string {
  const d = event.details;
  if (d.errorCode) return `${d.errorType} ${d.errorCode}: ${d.errorMessage}`;
  if (d.operator) return `by ${d.operator}${d.reason ? ` — "${d.reason}"` : ''}${d.resultData ? ` — result ${JSON.stringify(d.resultData)}` : ''}`;
  return '';
}

async function main(): Promise<void> {
  console.log(`${styleText('bold', 'commandbus demo')} — the command lifecycle on an embedded AWS (no Docker, no account)\n`);
  const stack = await startLocalStack();
  const namespace = 'demo';
  const { table } = await stack.provision(namespace, [TEST_DOMAIN]);
  console.log(`${clock()}  DynamoDB Local at ${stack.endpoints.dynamodb}, fauxqs (SQS) at ${stack.endpoints.sqs}; node ${process.version}\n`);

  const clients = createClients(stack);
  const config = { namespace, dynamodb: clients.dynamodb, sqs: clients.sqs, logger: silentLogger };
  const bus = new CommandBus(config);
  const tsq = new TroubleshootingQueue(config);
  const behaviours = new BehaviourStore(clients.dynamodb, table);
  const registry = new HandlerRegistry().register(TEST_DOMAIN, TEST_COMMAND, createTestCommandHandler(behaviours));
  const worker = new Worker({
    ...config,
    domain: TEST_DOMAIN,
    registry,
    concurrency: 4,
    visibilityTimeout: 2,
    waitTimeSeconds: 1,
    retryPolicy: { baseDelaySeconds: 1, maxDelaySeconds: 2 },
  });
  const running = worker.run();
  console.log(`${clock()}  worker for domain '${TEST_DOMAIN}' running: concurrency 4, visibility timeout 2 s, backoff 1–2 s\n`);

  const commands = new Map<string, DemoCommand & { printed: number; resolved: boolean; status?: string }>();
  for (const demo of DEMO) {
    const commandId = randomUUID();
    commands.set(commandId, { ...demo, printed: 0, resolved: false });
    await behaviours.create(commandId, demo.behaviour);
    await bus.send({ domain: TEST_DOMAIN, commandType: TEST_COMMAND, commandId, data: { behaviour: demo.label }, maxAttempts: demo.maxAttempts });
  }

  const width = Math.max(...DEMO.map((demo) => demo.label.length));
  const deadline = Date.now() + 90_000;
  try {
    while ([...commands.values()].some((c) => !END_STATES.includes(c.status ?? '')) && Date.now() < deadline) {
      // New events of every command, printed in the order they happened.
      const fresh: { label: string; event: AuditEvent }[] = [];
      for (const [commandId, c] of commands) {
        const events = await bus.getAuditTrail(commandId, TEST_DOMAIN);
        fresh.push(...events.slice(c.printed).map((event) => ({ label: c.label, event })));
        c.printed = events.length;
      }
      fresh.sort((a, b) => (a.event.timestamp < b.event.timestamp ? -1 : a.event.timestamp > b.event.timestamp ? 1 : 0));
      for (const { label, event } of fresh) {
        console.log(
          `${clock(Date.parse(event.timestamp))}  ${label.padEnd(width)}  ${colour(event.eventType).padEnd(30)} attempt ${event.attempt}  ${styleText('dim', describeEvent(event))}`,
        );
      }
      for (const [commandId, c] of commands) {
        const command = await bus.getCommand(TEST_DOMAIN, commandId);
        c.status = command?.status;
        if (command?.status === CommandStatus.IN_TSQ && !c.resolved) {
          c.resolved = true;
          const action = { domain: TEST_DOMAIN, commandId, operator: 'demo-operator' };
          if (c.resolve === 'retry') {
            await behaviours.update(commandId, { type: 'success' });
            console.log(`${clock()}  ${styleText('magenta', `operator fixes the account and retries ${c.label}`)}`);
            await tsq.operatorRetry(action);
          } else if (c.resolve === 'complete') {
            console.log(`${clock()}  ${styleText('magenta', `operator completes ${c.label} by hand`)}`);
            await tsq.operatorComplete({ ...action, resultData: { settledManually: true } });
          } else {
            console.log(`${clock()}  ${styleText('magenta', `operator cancels ${c.label}`)}`);
            await tsq.operatorCancel({ ...action, reason: 'customer withdrew the request' });
          }
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await worker.stop();
    await running;
  }

  console.log(`\n${styleText('bold', 'End states')}`);
  let allDone = true;
  for (const [commandId, c] of commands) {
    const command = await bus.getCommand(TEST_DOMAIN, commandId);
    const done = END_STATES.includes(command?.status ?? '');
    allDone &&= done;
    console.log(
      `  ${c.label.padEnd(width)}  ${(done ? styleText('green', command!.status) : styleText('red', command?.status ?? 'missing')).padEnd(22)} attempts ${command?.attempts}  ${styleText('dim', commandId)}`,
    );
  }

  // The counts a dashboard reads: aggregated from the table's stream (on AWS, by the stats Lambda).
  await new StatsAggregator(config).drain();
  const stats = await bus.stats({ domain: TEST_DOMAIN });
  const counts = Object.entries(stats.counts)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${status} ${count}`)
    .join(', ');
  const { sent, completed, failed, parked, cancelled, latencyP50Ms } = stats.totals;
  console.log(`
${styleText('bold', 'Stats')} (bus.stats, ${stats.queries} queries): ${counts}`);
  console.log(
    `  sent ${sent}, completed ${completed}, failed attempts ${failed}, parked ${parked}, cancelled ${cancelled}, completion p50 ${latencyP50Ms ?? '–'} ms`,
  );
  clients.dynamodb.destroy();
  clients.sqs.destroy();
  await stack.stop();
  if (!allDone) {
    console.error(styleText('red', '\nnot every command reached its end state in 90 s'));
    process.exitCode = 1;
  } else {
    console.log(`\nevery command reached its end state in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
