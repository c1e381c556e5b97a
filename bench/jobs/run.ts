/**
 * The operator-jobs load proof (`npm run load:jobs -- --commands=100000 --matching=20000 --rate=500`):
 *
 * 1. parks `commands` commands in DynamoDB Local, through the store's insert of records created
 *    parked (as a dead-lettered or malformed message is recorded: the item and its TSQ group counter
 *    in one transaction), `matching` of them with error code GATEWAY_DOWN, the rest BAD_AMOUNT;
 * 2. dry-runs a retry job on `errorCode = GATEWAY_DOWN` (the count must equal `matching`), and times a
 *    dry run that has to count by listing (a time window) over the whole TSQ, for comparison;
 * 3. starts the job and runs it in a child process at `rate` commands/s; SIGKILLs that process once
 *    half the matches are done (mid-page: the job's pending page says how far it had got), and starts
 *    another, which waits for the dead runner's lease, replays the page and finishes;
 * 4. reads every command back (a Scan of the table) and checks: each match retried exactly once by
 *    this job (one OPERATOR_RETRY with its jobId) and PENDING, nothing else touched, the job's counts
 *    exact, and the rate held (largest count in any 1 s window, and the mean over the running time).
 *
 * Prints the figures; exits 1 if a check fails.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AuditEventType, CommandStatus, DynamoCommandStore, DynamoJobStore, silentLogger, TroubleshootingQueue } from '@commandbus/core';
import { createClients, startLocalStack } from '@commandbus/local';
import type { NewCommandRecord } from '../../packages/commandbus/src/domain/lifecycle.ts';
import { costPerCommand, type WireCounts } from '../wireMeter.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const arg = (name: string, fallback: number) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const COMMANDS = arg('commands', 100_000);
const MATCHING = arg('matching', Math.round(COMMANDS / 5));
const RATE = arg('rate', 500);
const SEED_CONCURRENCY = arg('seed-concurrency', 48);
const LEASE_MS = arg('lease-ms', 5_000);
const DOMAIN = 'load';
const MATCH_CODE = 'GATEWAY_DOWN';
const OTHER_CODE = 'BAD_AMOUNT';

const log = (message: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 23)}] ${message}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  log(`${ok ? 'PASS' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const stack = await startLocalStack();
const namespace = `loadjobs-${randomUUID().slice(0, 8)}`;
const { table } = await stack.provision(namespace, [DOMAIN]);
const clients = createClients(stack);
const config = { namespace, dynamodb: clients.dynamodb, sqs: clients.sqs, logger: silentLogger, jobQueue: false as const };
const store = new DynamoCommandStore(clients.dynamodb, table);
const tsq = new TroubleshootingQueue(config);
log(`${namespace}: ${COMMANDS} commands, ${MATCHING} with ${MATCH_CODE}, job rate ${RATE}/s, lease ${LEASE_MS} ms`);

try {
  // 1. Seed.
  const matchIds = new Set<string>();
  const seedStarted = Date.now();
  let next = 0;
  const parkedRecord = (i: number): NewCommandRecord => {
    const commandId = randomUUID();
    const code = i % Math.round(COMMANDS / MATCHING) === 0 && matchIds.size < MATCHING ? MATCH_CODE : OTHER_CODE;
    if (code === MATCH_CODE) matchIds.add(commandId);
    const now = new Date().toISOString();
    const lastError = { type: 'PERMANENT' as const, code, message: `${code} (seeded)` };
    return {
      domain: DOMAIN,
      commandId,
      commandType: 'Charge',
      status: CommandStatus.IN_TSQ,
      attempts: 1,
      maxAttempts: 3,
      token: randomUUID(),
      correlationId: commandId,
      createdAt: now,
      updatedAt: now,
      lastError,
      data: { amount: i, note: 'x'.repeat(200) },
      events: [
        { eventType: AuditEventType.SENT, timestamp: now, attempt: 0, details: {} },
        {
          eventType: AuditEventType.MOVED_TO_TSQ,
          timestamp: now,
          attempt: 1,
          details: { errorType: lastError.type, errorCode: code, errorMessage: lastError.message },
        },
      ],
    };
  };
  let lastReport = Date.now();
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      while (next < COMMANDS) {
        const i = next++;
        await store.insert(parkedRecord(i));
        if (Date.now() - lastReport > 10_000) {
          lastReport = Date.now();
          log(`seeded ${next} (${Math.round(next / ((Date.now() - seedStarted) / 1000))}/s)`);
        }
      }
    }),
  );
  const seedMs = Date.now() - seedStarted;
  log(`seeded ${COMMANDS} parked commands in ${seconds(seedMs)} (${Math.round(COMMANDS / (seedMs / 1000))}/s), ${matchIds.size} matching`);

  // 2. Dry runs.
  let started = Date.now();
  const job = await tsq.createJob({ domain: DOMAIN, action: 'retry', filter: { errorCode: MATCH_CODE }, rate: RATE, operator: 'load-operator' });
  const dryRunMs = Date.now() - started;
  log(`dry run (${job.dryRun.countedBy}) in ${dryRunMs} ms: count ${job.dryRun.count}, exact ${job.dryRun.exact}, sample of ${job.dryRun.sample.length}`);
  check(job.dryRun.count === matchIds.size && job.dryRun.exact, `dry-run count ${job.dryRun.count} = the matching subset ${matchIds.size}`);
  check(
    job.dryRun.sample.every((entry) => matchIds.has(entry.commandId)),
    'every sampled command is in the matching subset',
  );
  started = Date.now();
  const listed = await tsq.createJob({
    domain: DOMAIN,
    action: 'retry',
    filter: { errorCode: MATCH_CODE, from: '2000-01-01T00:00:00Z' },
    rate: RATE,
    operator: 'load-operator',
  });
  const listingMs = Date.now() - started;
  log(`dry run with a time window (${listed.dryRun.countedBy}) in ${seconds(listingMs)}: count ${listed.dryRun.count}, exact ${listed.dryRun.exact}`);
  await tsq.cancelJob({ domain: DOMAIN, jobId: listed.jobId });

  // 3. Run, kill half-way, resume.
  await tsq.startJob({ domain: DOMAIN, jobId: job.jobId });
  const meterDir = mkdtempSync(path.join(tmpdir(), 'loadjobs-'));
  const runner = (name: string) => {
    const meterFile = path.join(meterDir, `${name}.json`);
    // `node --import tsx`, not the tsx CLI: the CLI runs the script in a grandchild, which a kill of the child would leave running.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'runner.ts')], {
      cwd: root,
      env: {
        ...process.env,
        ...stack.env(),
        LOADJOBS_NAMESPACE: namespace,
        LOADJOBS_DOMAIN: DOMAIN,
        LOADJOBS_JOB: job.jobId,
        LOADJOBS_LEASE_MS: String(LEASE_MS),
        LOADJOBS_METER_FILE: meterFile,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().trim().split('\n')) log(`runner ${name}: ${line}`);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, meterFile };
  };
  const read = () => tsq.getJob({ domain: DOMAIN, jobId: job.jobId });

  const runStarted = Date.now();
  const first = runner('A');
  const jobs = new DynamoJobStore(clients.dynamodb, table);
  // Half-way, once the runner has written the page it is about to act on, kill it 40% into that page.
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const seen = (await jobs.get(DOMAIN, job.jobId))!;
    if (seen.progress.done >= matchIds.size / 2 && seen.pending) {
      await new Promise((resolve) => setTimeout(resolve, (seen.pending!.commandIds.length / RATE) * 1000 * 0.4));
      break;
    }
  }
  first.child.kill('SIGKILL');
  await first.exited;
  const killedAt = Date.now();
  // What the dead runner left: its last checkpoint, and the page it was acting on.
  const stored = (await jobs.get(DOMAIN, job.jobId))!;
  const pendingIds = stored.pending?.commandIds ?? [];
  let actedInPending = 0;
  for (const commandId of pendingIds) {
    const events = await store.auditTrail(commandId, DOMAIN);
    if (events.some((event) => event.details?.jobId === job.jobId)) actedInPending++;
  }
  log(
    `killed runner A (SIGKILL) after ${seconds(killedAt - runStarted)}: checkpoint says ${stored.progress.done} done; ` +
      `its pending page holds ${pendingIds.length} ids, ${actedInPending} of them already acted on (uncounted)`,
  );
  check(pendingIds.length > 0 && actedInPending > 0 && actedInPending <= pendingIds.length, 'the kill fell mid-page (a pending page, partly acted on)');

  const second = runner('B');
  const exitCode = await second.exited;
  const finishedAt = Date.now();
  const final = await read();
  log(`runner B exited ${exitCode} after ${seconds(finishedAt - killedAt)}; job ${final.status}, progress ${JSON.stringify(final.progress)}`);
  check(final.status === 'COMPLETED', 'the job completed');
  check(
    final.progress.matched === matchIds.size && final.progress.done === matchIds.size && final.progress.skipped === 0 && final.progress.failed === 0,
    `the job counted every match once: ${JSON.stringify(final.progress)}`,
  );

  // 4. Read every command back.
  started = Date.now();
  const retriedAt: number[] = [];
  let commandsRead = 0;
  let matchedOnce = 0;
  let untouched = 0;
  const problems: string[] = [];
  await Promise.all(
    Array.from({ length: 4 }, async (_, segment) => {
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await clients.dynamodb.send(
          new ScanCommand({
            TableName: table,
            Segment: segment,
            TotalSegments: 4,
            ProjectionExpression: 'pk, sk, #status, events',
            ExpressionAttributeNames: { '#status': 'status' },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const raw of page.Items ?? []) {
          const item = unmarshall(raw) as { pk: string; sk: string; status?: string; events?: { e: string; t: string; d?: Record<string, unknown> }[] };
          if (item.sk !== DOMAIN || !/^[0-9a-f-]{36}$/.test(item.pk)) continue; // jobs, group counters
          commandsRead++;
          const ofJob = (item.events ?? []).filter((event) => event.d?.jobId === job.jobId);
          if (matchIds.has(item.pk)) {
            const once = ofJob.length === 1 && ofJob[0]!.e === AuditEventType.OPERATOR_RETRY && item.status === CommandStatus.PENDING;
            if (once) {
              matchedOnce++;
              retriedAt.push(Date.parse(ofJob[0]!.t));
            } else if (problems.length < 5) problems.push(`${item.pk}: ${ofJob.length} events of the job, status ${item.status}`);
          } else if (ofJob.length === 0 && item.status === CommandStatus.IN_TSQ && (item.events ?? []).length === 2) untouched++;
          else if (problems.length < 5) problems.push(`${item.pk} (not matching) was touched: status ${item.status}`);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }),
  );
  log(`read back ${commandsRead} commands in ${seconds(Date.now() - started)}${problems.length ? `; problems: ${problems.join('; ')}` : ''}`);
  check(commandsRead === COMMANDS, `every command read back (${commandsRead})`);
  check(matchedOnce === matchIds.size, `every match retried exactly once by the job, now PENDING (${matchedOnce}/${matchIds.size})`);
  check(untouched === COMMANDS - matchIds.size, `nothing else touched (${untouched}/${COMMANDS - matchIds.size} still parked, unchanged)`);

  // The rate: the audit events' timestamps (each written when its retry was recorded).
  retriedAt.sort((a, b) => a - b);
  const maxIn = (windowMs: number) => {
    let max = 0;
    for (let i = 0, j = 0; i < retriedAt.length; i++) {
      while (retriedAt[i]! - retriedAt[j]! >= windowMs) j++;
      max = Math.max(max, i - j + 1);
    }
    return max;
  };
  const gaps: number[] = [];
  for (let i = 1; i < retriedAt.length; i++) gaps.push(retriedAt[i]! - retriedAt[i - 1]!);
  const pause = Math.max(...gaps);
  const activeMs = retriedAt.at(-1)! - retriedAt[0]! - pause;
  const meanRate = (retriedAt.length - 2) / (activeMs / 1000);
  // The bucket paces when actions start (a burst of rate/10 after each runner starts); an event is
  // stamped when its action ends, so up to the actions in flight may end in a window beyond its share.
  const burst = Math.max(1, Math.floor(RATE / 10));
  const inFlight = Math.min(64, Math.max(4, Math.ceil(RATE / 4)));
  const [oneSecond, tenSeconds] = [maxIn(1000), maxIn(10_000)];
  log(
    `rate: set ${RATE}/s; most retries ended in any 1 s window ${oneSecond}, in any 10 s window ${tenSeconds}; ` +
      `mean ${meanRate.toFixed(1)}/s over ${seconds(activeMs)} of running (the kill's gap of ${seconds(pause)} left out)`,
  );
  check(
    tenSeconds <= 10 * RATE + burst + inFlight,
    `no 10 s window above 10 × the rate + a burst + the actions in flight (${tenSeconds} ≤ ${10 * RATE + burst + inFlight})`,
  );
  check(oneSecond <= RATE + burst + inFlight, `no 1 s window above the rate + a burst + the actions in flight (${oneSecond} ≤ ${RATE + burst + inFlight})`);
  const meanBound = RATE * 1.01 + (2 * burst) / (activeMs / 1000);
  check(meanRate <= meanBound, `mean rate not above the set rate (+1%, + two runners' starting bursts: ${meanRate.toFixed(1)} ≤ ${meanBound.toFixed(1)})`);

  // What the runners sent over the wire (runner A's last 200 ms before the kill are not in its file).
  const counts = [first.meterFile, second.meterFile].map((file) => JSON.parse(readFileSync(file, 'utf8')) as WireCounts);
  const merged: WireCounts = counts.reduce(
    (sum, c) => {
      const add = (a: Record<string, number>, b: Record<string, number>) => {
        for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
        return a;
      };
      for (const [k, v] of Object.entries(c.sqs)) {
        const into = (sum.sqs[k] ??= { requests: 0, billable: 0, bodyBytes: 0 });
        into.requests += v.requests;
        into.billable += v.billable;
        into.bodyBytes += v.bodyBytes;
      }
      for (const [k, v] of Object.entries(c.dynamodb)) {
        const into = (sum.dynamodb[k] ??= { requests: 0, succeeded: 0, conditionalFailures: 0 });
        into.requests += v.requests;
        into.succeeded += v.succeeded;
        into.conditionalFailures += v.conditionalFailures;
      }
      add(sum.writeUnits, c.writeUnits);
      add(sum.readUnits, c.readUnits);
      sum.unreportedFailedWrites += c.unreportedFailedWrites;
      return sum;
    },
    { sqs: {}, dynamodb: {}, writeUnits: {}, readUnits: {}, unreportedFailedWrites: 0, deletedMessages: 0 } as WireCounts,
  );
  const cost = costPerCommand(merged, matchIds.size);
  log(
    `per command acted on (runners A + B): ${cost.writeUnits.toFixed(2)} WCU ${JSON.stringify(roundAll(cost.writeUnitsByTarget))}, ` +
      `${cost.readUnits.toFixed(2)} RCU ${JSON.stringify(roundAll(cost.readUnitsByTarget))}, ${cost.sqsRequests.toFixed(2)} SQS requests; ` +
      `DynamoDB requests ${JSON.stringify(roundAll(cost.dynamoRequestsByOp))}; $${cost.dollarsPerMillion.total.toFixed(2)} per million commands acted on`,
  );
  log(failures.length === 0 ? 'ALL CHECKS PASSED' : `FAILED: ${failures.join('; ')}`);
} finally {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
  await stack.stop();
}
process.exit(failures.length === 0 ? 0 : 1);

function roundAll(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Math.round(v * 100) / 100]));
}
