/**
 * `commandbus load`: sends N commands of the test application with a behaviour mix, at a rate or as
 * fast as the concurrency allows, then waits until every one has reached the status its behaviour
 * must end in, and measures the run: latency from send to that status, throughput, retries, memory
 * of this process and of the worker, and (with a metered local runtime) what AWS would bill.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, type CommandBusClient } from '@commandbus/client';
import { CommandStatus, DuplicateCommandError, SendFailedError, type Command } from '@commandbus/core';
import { apportion, type Mix, MIX_BEHAVIOURS, type MixBehaviour, schedule } from './mix.ts';
import { type LatencySummary, perSecond, percentilesPerSecond, summarise } from './stats.ts';

export interface LoadOptions {
  count: number;
  /** Commands per second; absent: as fast as `concurrency` sends go. */
  rate?: number;
  concurrency: number;
  mix: Mix;
  domain: string;
  commandType: string;
  /** Seconds without any command reaching its end before the rest count as unaccounted. */
  stallTimeoutSeconds: number;
}

export interface LoadTarget {
  client: CommandBusClient;
  description: string;
  /** The local runtime's process, whose memory is the worker's (absent for a remote target). */
  workerPid?: number;
  /** A metered local runtime's counts (`serve --meter`). */
  meter?: { url: string; token: string };
}

export type LoadPhase = 'send' | 'wait';

export interface LoadReport {
  target: string;
  startedAt: string;
  options: Omit<LoadOptions, 'mix'> & { mix: Record<string, number> };
  sent: number;
  sendFailures: { commandId: string; error: string }[];
  seconds: { sending: number; total: number };
  throughput: { sentPerSecond: number; endedPerSecond: number };
  latencyMs: { all: LatencySummary; byBehaviour: Record<string, LatencySummary> };
  finalStatus: {
    counts: Record<string, number>;
    expected: Record<string, number>;
    /** Commands that ended in another status than their behaviour must end in (at most 20 named). */
    wrong: { commandId: string; behaviour: MixBehaviour; expected: string; got: string }[];
    wrongCount: number;
    /** Sent, but never seen in their end status before the stall timeout (at most 20 named). */
    unaccounted: { commandId: string; behaviour: MixBehaviour; lastSeen?: string }[];
    unaccountedCount: number;
  };
  /** Attempts beyond the first, over all commands; commands parked in the TSQ. */
  retries: number;
  tsqEntries: number;
  memoryMb: { load: MemorySummary; worker?: MemorySummary };
  cost: CostSummary;
  series: {
    sentPerSecond: [number, number][];
    endedPerSecond: [number, number][];
    latencyPerSecond: { second: number; p50: number; p99: number }[];
    memory: { second: number; loadMb: number; workerMb?: number }[];
  };
  ok: boolean;
  problems: string[];
}

export interface MemorySummary {
  startMb: number;
  maxMb: number;
  endMb: number;
  /** Highest sample of the last third of the run over the highest of the first third (after the first 10%). */
  growth: number;
}

export type CostSummary =
  | { counted: false; why: string }
  | {
      counted: true;
      sqsRequests: number;
      writeUnits: number;
      readUnits: number;
      perCommand: { sqsRequests: number; writeUnits: number; readUnits: number };
      /** SQS + DynamoDB writes, per million commands (reads are mostly this test's own polling: apart). */
      dollarsPerMillion: number;
      readDollarsPerMillion: number;
      dollars: number;
    };

const ENDS: ReadonlySet<string> = new Set([CommandStatus.COMPLETED, CommandStatus.IN_TSQ, CommandStatus.CANCELLED]);
/** Below this many still open, each is read by id each second; above, the run's window is listed (see LISTING_EVERY_MS). */
export const READ_BY_ID_BELOW = 500;
/**
 * With many open, the window (every command of the run) is listed at most this often; in between, the
 * domain's stats (a handful of queries at any volume) show progress, and a listing comes early when
 * they say everything may have ended. Listing every second would read the whole run each second.
 */
export const LISTING_EVERY_MS = 15_000;

interface Tracked {
  commandId: string;
  behaviour: MixBehaviour;
  sentAt?: number;
  sendError?: string;
  ended?: { status: string; at: number; attempts: number };
  lastSeen?: string;
}

export async function runLoad(
  options: LoadOptions,
  target: LoadTarget,
  progress: (phase: LoadPhase, done: number, total: number) => void = () => {},
): Promise<LoadReport> {
  const counts = apportion(options.mix, options.count);
  const commands: Tracked[] = schedule(counts).map((behaviour) => ({ commandId: randomUUID(), behaviour }));
  const costBefore = await readMeter(target.meter);
  const start = Date.now();
  const from = new Date(start - 60_000).toISOString();
  // What had already ended in the window before this run (other runs'): the stats count those too.
  const endedBefore = options.count > READ_BY_ID_BELOW ? ((await endedInWindow(target.client, options.domain, from)) ?? 0) : 0;
  const memory = sampleMemory(start, target.workerPid);

  // Send: `concurrency` senders take the next command; with a rate, command i leaves at start + i/rate.
  let next = 0;
  let sentCount = 0;
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.count) }, async () => {
      for (let i = next++; i < commands.length; i = next++) {
        if (options.rate) {
          const due = start + (i * 1000) / options.rate;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        const command = commands[i]!;
        try {
          await sendWithRetry(target.client, options, command);
          command.sentAt = Date.now();
        } catch (error) {
          command.sendError = (error as Error).message;
        }
        progress('send', ++sentCount, commands.length);
      }
    }),
  );
  const sendingEnded = Date.now();
  const sent = commands.filter((command) => command.sentAt !== undefined);

  // Wait: until every sent command is in an end status, or nothing ends for stallTimeoutSeconds.
  const open = new Map(sent.map((command) => [command.commandId, command]));
  let lastProgress = Date.now();
  let listedAt = Number.NEGATIVE_INFINITY;
  let endedByStats = 0;
  while (open.size > 0 && Date.now() - lastProgress < options.stallTimeoutSeconds * 1000) {
    const before = open.size;
    let seen: Command[] = [];
    if (open.size <= READ_BY_ID_BELOW) {
      seen = await readEach(target.client, options.domain, [...open.keys()]);
    } else {
      const inWindow = await endedInWindow(target.client, options.domain, from);
      const ended = inWindow === undefined ? undefined : inWindow - endedBefore;
      if (ended !== undefined && ended > endedByStats) {
        endedByStats = ended;
        lastProgress = Date.now();
      }
      // Ended by the stats since the run began (seconds behind; others' commands ending now count too).
      const mayAllHaveEnded = ended === undefined || ended >= sent.length;
      if (mayAllHaveEnded || Date.now() - listedAt >= LISTING_EVERY_MS) {
        seen = await listWindow(target.client, options.domain, from);
        listedAt = Date.now();
      }
    }
    for (const state of seen) {
      const command = open.get(state.commandId);
      if (!command) continue;
      command.lastSeen = state.status;
      if (ENDS.has(state.status)) {
        command.ended = { status: state.status, at: Date.parse(state.updatedAt), attempts: state.attempts };
        open.delete(state.commandId);
      }
    }
    progress('wait', Math.max(sent.length - open.size, Math.min(endedByStats, sent.length)), sent.length);
    if (open.size < before) lastProgress = Date.now();
    if (open.size > 0) await sleep(1000);
  }
  const end = Date.now();
  const samples = memory.stop();
  const costAfter = await readMeter(target.meter);
  return buildReport(options, target, counts, commands, { start, sendingEnded, end }, samples, cost(costBefore, costAfter, sent.length, target));
}

async function sendWithRetry(client: CommandBusClient, options: LoadOptions, command: Tracked): Promise<void> {
  const request = {
    domain: options.domain,
    commandType: options.commandType,
    commandId: command.commandId,
    data: { behavior: MIX_BEHAVIOURS[command.behaviour].behavior },
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(request);
      return;
    } catch (error) {
      // A retried send whose first try landed finds the command: it was sent.
      if (attempt > 1 && error instanceof DuplicateCommandError) return;
      const retryable =
        error instanceof SendFailedError ||
        (error instanceof ApiError && (error.statusCode === 429 || error.statusCode >= 500)) ||
        (error instanceof TypeError && error.message === 'fetch failed');
      if (!retryable || attempt >= 6) throw error;
      await sleep(200 * 2 ** attempt);
    }
  }
}

/** Every command of the domain created since `from`, newest first, page by page. */
async function listWindow(client: CommandBusClient, domain: string, from: string): Promise<Command[]> {
  const to = new Date(Date.now() + 60_000).toISOString();
  const items: Command[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.queryCommands({ domain, from, to, limit: 100, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** Commands of the domain created since `from` that are in an end status, by its stats; undefined if they cannot be read. */
async function endedInWindow(client: CommandBusClient, domain: string, from: string): Promise<number | undefined> {
  try {
    const { counts } = await client.stats({ domain, from });
    return [...ENDS].reduce((sum, status) => sum + (counts[status as CommandStatus] ?? 0), 0);
  } catch {
    return undefined;
  }
}

async function readEach(client: CommandBusClient, domain: string, ids: string[]): Promise<Command[]> {
  const found: Command[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(16, ids.length) }, async () => {
      for (let i = next++; i < ids.length; i = next++) {
        const command = await client.getCommand(domain, ids[i]!);
        if (command) found.push(command);
      }
    }),
  );
  return found;
}

interface MemorySample {
  at: number;
  loadMb: number;
  workerMb?: number;
}

function sampleMemory(start: number, workerPid: number | undefined): { stop(): MemorySample[] } {
  const samples: MemorySample[] = [];
  const take = () => {
    const workerMb = workerPid === undefined ? undefined : residentMb(workerPid);
    samples.push({ at: Date.now() - start, loadMb: process.memoryUsage.rss() / 2 ** 20, ...(workerMb === undefined ? {} : { workerMb }) });
  };
  take();
  const timer = setInterval(take, 1000);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** Resident memory of a process (Linux /proc), MiB; undefined where it cannot be read. */
function residentMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The wire meter's snapshot (packages/local WireMeter): counts, and what they cost as AWS bills them. */
interface MeterCounts {
  sqs: { billable: number };
  dynamodb: { writeUnits: number; readUnits: number };
  cost: { sqs: number; dynamodbWrites: number; dynamodbReads: number };
}

async function readMeter(meter: LoadTarget['meter']): Promise<MeterCounts | undefined> {
  if (!meter) return undefined;
  const response = await fetch(meter.url, { headers: { authorization: `Bearer ${meter.token}` } });
  if (!response.ok) throw new Error(`the wire meter at ${meter.url} answered ${response.status}`);
  return (await response.json()) as MeterCounts;
}

function cost(before: MeterCounts | undefined, after: MeterCounts | undefined, commands: number, target: LoadTarget): CostSummary {
  if (!before || !after) {
    return {
      counted: false,
      why:
        target.workerPid === undefined
          ? 'a remote target: read its bill (Cost Explorer) for the run'
          : 'the local runtime is not metered: start it with `commandbus serve --meter`',
    };
  }
  const sqsRequests = after.sqs.billable - before.sqs.billable;
  const writeUnits = after.dynamodb.writeUnits - before.dynamodb.writeUnits;
  const readUnits = after.dynamodb.readUnits - before.dynamodb.readUnits;
  const per = (n: number) => (commands === 0 ? 0 : n / commands);
  // Priced by the meter itself: its prices are the one definition.
  const busDollars = after.cost.sqs - before.cost.sqs + (after.cost.dynamodbWrites - before.cost.dynamodbWrites);
  const readDollars = after.cost.dynamodbReads - before.cost.dynamodbReads;
  return {
    counted: true,
    sqsRequests,
    writeUnits,
    readUnits,
    perCommand: { sqsRequests: per(sqsRequests), writeUnits: per(writeUnits), readUnits: per(readUnits) },
    dollarsPerMillion: per(busDollars) * 1e6,
    readDollarsPerMillion: per(readDollars) * 1e6,
    dollars: busDollars + readDollars,
  };
}

function memorySummary(values: number[]): MemorySummary {
  const skip = Math.floor(values.length / 10);
  const body = values.slice(skip);
  const third = Math.max(1, Math.floor(body.length / 3));
  const max = (of: number[]) => of.reduce((highest, value) => Math.max(highest, value), 0);
  const firstMax = max(body.slice(0, third));
  const lastMax = max(body.slice(-third));
  return { startMb: values[0]!, maxMb: max(values), endMb: values[values.length - 1]!, growth: firstMax > 0 ? lastMax / firstMax : 1 };
}

function buildReport(
  options: LoadOptions,
  target: LoadTarget,
  counts: Record<MixBehaviour, number>,
  commands: Tracked[],
  times: { start: number; sendingEnded: number; end: number },
  samples: MemorySample[],
  costSummary: CostSummary,
): LoadReport {
  const sent = commands.filter((command) => command.sentAt !== undefined);
  const ended = sent.filter((command) => command.ended !== undefined);
  const latency = (of: Tracked[]) => summarise(of.map((command) => command.ended!.at - command.sentAt!));
  const byBehaviour: Record<string, LatencySummary> = {};
  for (const behaviour of Object.keys(counts) as MixBehaviour[]) {
    const of = ended.filter((command) => command.behaviour === behaviour);
    if (of.length > 0) byBehaviour[behaviour] = latency(of);
  }
  const statusCounts: Record<string, number> = {};
  for (const command of ended) statusCounts[command.ended!.status] = (statusCounts[command.ended!.status] ?? 0) + 1;
  const expected: Record<string, number> = {};
  for (const [behaviour, n] of Object.entries(counts) as [MixBehaviour, number][]) {
    if (n > 0) expected[MIX_BEHAVIOURS[behaviour].ends] = (expected[MIX_BEHAVIOURS[behaviour].ends] ?? 0) + n;
  }
  const wrong = ended
    .filter((command) => command.ended!.status !== MIX_BEHAVIOURS[command.behaviour].ends)
    .map((command) => ({
      commandId: command.commandId,
      behaviour: command.behaviour,
      expected: MIX_BEHAVIOURS[command.behaviour].ends,
      got: command.ended!.status,
    }));
  const unaccounted = sent
    .filter((command) => command.ended === undefined)
    .map((command) => ({ commandId: command.commandId, behaviour: command.behaviour, ...(command.lastSeen ? { lastSeen: command.lastSeen } : {}) }));
  const sendFailures = commands
    .filter((command) => command.sendError !== undefined)
    .map((command) => ({ commandId: command.commandId, error: command.sendError! }));
  const totalSeconds = (times.end - times.start) / 1000;
  const lastEnd = ended.reduce((latest, command) => Math.max(latest, command.ended!.at), times.start);
  const loadMemory = memorySummary(samples.map((sample) => sample.loadMb));
  const workerValues = samples.flatMap((sample) => (sample.workerMb === undefined ? [] : [sample.workerMb]));

  const problems: string[] = [];
  if (sendFailures.length > 0) problems.push(`${sendFailures.length} commands could not be sent (first: ${sendFailures[0]!.error})`);
  if (unaccounted.length > 0) {
    problems.push(
      `${unaccounted.length} commands did not reach an end status within ${options.stallTimeoutSeconds} s of the last progress: ${unaccounted
        .slice(0, 5)
        .map((command) => `${command.commandId} (${command.behaviour}, last seen ${command.lastSeen ?? 'never'})`)
        .join(', ')}`,
    );
  }
  if (wrong.length > 0)
    problems.push(
      `${wrong.length} commands ended in another status than their behaviour's: ${wrong
        .slice(0, 5)
        .map((w) => `${w.commandId} ${w.behaviour} → ${w.got}`)
        .join(', ')}`,
    );

  return {
    target: target.description,
    startedAt: new Date(times.start).toISOString(),
    options: { ...options, mix: Object.fromEntries(options.mix.map((entry) => [entry.behaviour, entry.weight])) },
    sent: sent.length,
    sendFailures: sendFailures.slice(0, 20),
    seconds: { sending: (times.sendingEnded - times.start) / 1000, total: totalSeconds },
    throughput: {
      sentPerSecond: sent.length / Math.max(0.001, (times.sendingEnded - times.start) / 1000),
      endedPerSecond: ended.length / Math.max(0.001, (lastEnd - times.start) / 1000),
    },
    latencyMs: { all: latency(ended), byBehaviour },
    finalStatus: {
      counts: statusCounts,
      expected,
      wrong: wrong.slice(0, 20),
      wrongCount: wrong.length,
      unaccounted: unaccounted.slice(0, 20),
      unaccountedCount: unaccounted.length,
    },
    retries: ended.reduce((sum, command) => sum + Math.max(0, command.ended!.attempts - 1), 0),
    tsqEntries: statusCounts[CommandStatus.IN_TSQ] ?? 0,
    memoryMb: { load: loadMemory, ...(workerValues.length > 0 ? { worker: memorySummary(workerValues) } : {}) },
    cost: costSummary,
    series: {
      sentPerSecond: perSecond(
        sent.map((command) => command.sentAt!),
        times.start,
      ),
      endedPerSecond: perSecond(
        ended.map((command) => command.ended!.at),
        times.start,
      ),
      latencyPerSecond: percentilesPerSecond(
        ended.map((command) => ({ at: command.sentAt!, value: command.ended!.at - command.sentAt! })),
        times.start,
      ),
      memory: samples.map((sample) => ({
        second: sample.at / 1000,
        loadMb: sample.loadMb,
        ...(sample.workerMb === undefined ? {} : { workerMb: sample.workerMb }),
      })),
    },
    ok: problems.length === 0,
    problems,
  };
}
