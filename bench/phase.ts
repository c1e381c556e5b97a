/**
 * One measured run against a system (the bus or the floor): reset the meters, send n commands
 * (as fast as allowed, or at a fixed rate), wait for every COMPLETED and for the deletes to land,
 * then take the counts. Throughput = n / (first send → last COMPLETED).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CompletionTracker } from './completion.ts';
import type { ConsumerProbe, ConsumerStats } from './consumerProbe.ts';
import { startCpuMeter, type CpuUsage } from './cpu.ts';
import { summarize, type LatencySummary } from './stats.ts';
import type { FinalState } from './verify.ts';
import { costPerCommand, type CostPerCommand, type WireCounts, type WireMeter } from './wireMeter.ts';

export interface BenchSystem {
  readonly label: string;
  readonly meter: WireMeter;
  readonly tracker: CompletionTracker;
  readonly probe: ConsumerProbe;
  /** Sends one command; the send time is taken just before this is called. */
  send(commandId: string): Promise<void>;
  /**
   * Outside any counted window, on unmetered clients: these commands' statuses and the queue depth
   * once the queue has settled (see verify.ts), and the system's own checks.
   */
  finalState(commandIds: readonly string[], settleMs: number): Promise<FinalState & { problems: string[]; notes: string[] }>;
  stop(): Promise<void>;
}

export type Load = { kind: 'max'; inFlight: number } | { kind: 'rate'; perSecond: number };

export interface PhaseResult {
  system: string;
  phase: string;
  load: Load;
  ids: string[];
  /** Sent, then never COMPLETED (or never sent because send threw). */
  lost: string[];
  sendErrors: string[];
  /** First send → last COMPLETED (summed over slices when merged). */
  elapsedMs: number;
  /** First send → last send returned (summed over slices when merged). */
  sendMs: number;
  throughput: number;
  sendRate: number;
  /** Throughput of each slice a merged result was made of (one entry if not merged). */
  sliceThroughputs: number[];
  latencies: number[];
  latency: LatencySummary;
  counts: WireCounts;
  cost: CostPerCommand;
  cpu: CpuUsage;
  /** Where the consumer waited (time-weighted over the slices when merged). */
  consumer: ConsumerStats;
  /** Deletes still missing when the counts were taken (they would be counted in no run). */
  deletesMissing: number;
}

export interface PhaseOptions {
  stallTimeoutMs: number;
  jvmPids: readonly number[];
}

const DELETE_WAIT_MS = 10_000;

export async function runPhase(system: BenchSystem, phase: string, n: number, load: Load, options: PhaseOptions): Promise<PhaseResult> {
  const ids = Array.from({ length: n }, () => randomUUID());
  const sendErrors: string[] = [];
  const { tracker, meter } = system;
  const sendOne = async (id: string) => {
    tracker.markSent(id);
    try {
      await system.send(id);
    } catch (error) {
      sendErrors.push(`${id}: ${(error as Error).message}`);
    }
  };

  meter.reset();
  system.probe.reset();
  const stopCpu = startCpuMeter(options.jvmPids);
  const started = performance.now();
  if (load.kind === 'max') await sendBounded(ids, load.inFlight, sendOne);
  else await sendAtRate(ids, load.perSecond, sendOne);
  const lastSent = performance.now();

  const lost = await tracker.waitForAll(ids, options.stallTimeoutMs);
  const consumer = system.probe.snapshot();
  const completedTimes = ids.map((id) => tracker.completedAt(id)).filter((at): at is number => at !== undefined);
  const lastCompleted = completedTimes.length ? Math.max(...completedTimes) : performance.now();
  const expectedDeletes = n - lost.length;
  const deadline = performance.now() + DELETE_WAIT_MS;
  // Local state only: the deletes are batched behind COMPLETED, so let the last batch land.
  while (meter.deletedMessages < expectedDeletes && performance.now() < deadline) await sleep(5);
  const counts = meter.snapshot();
  const cpu = stopCpu();

  const latencies = ids.flatMap((id) => {
    const sent = tracker.sentAt(id);
    const completed = tracker.completedAt(id);
    return sent === undefined || completed === undefined ? [] : [completed - sent];
  });
  const elapsedMs = lastCompleted - started;
  const throughput = (n - lost.length) / (elapsedMs / 1000);
  return {
    system: system.label,
    phase,
    load,
    ids,
    lost,
    sendErrors,
    elapsedMs,
    sendMs: lastSent - started,
    throughput,
    sendRate: n / ((lastSent - started) / 1000),
    sliceThroughputs: [throughput],
    latencies,
    latency: summarize(latencies),
    counts,
    cost: costPerCommand(counts, n),
    cpu,
    consumer,
    deletesMissing: Math.max(0, expectedDeletes - counts.deletedMessages),
  };
}

/**
 * One result from several slices of the same system and load (run in alternating order with the
 * other system, so emulator warm-up and drift do not favour either): sums, and time-weighted CPU.
 */
export function mergeResults(slices: readonly PhaseResult[], phase: string): PhaseResult {
  const first = slices[0];
  if (!first) throw new Error('nothing to merge');
  const ids = slices.flatMap((slice) => slice.ids);
  const lost = slices.flatMap((slice) => slice.lost);
  const elapsedMs = slices.reduce((total, slice) => total + slice.elapsedMs, 0);
  const sendMs = slices.reduce((total, slice) => total + slice.sendMs, 0);
  const latencies = slices.flatMap((slice) => slice.latencies);
  const counts = mergeCounts(slices.map((slice) => slice.counts));
  const weighted = (pick: (cpu: CpuUsage) => number | undefined) => {
    const values = slices.map((slice) => pick(slice.cpu));
    if (values.some((value) => value === undefined)) return undefined;
    return slices.reduce((total, slice, i) => total + values[i]! * slice.elapsedMs, 0) / elapsedMs;
  };
  const byTime = (pick: (slice: PhaseResult) => number) => slices.reduce((total, slice) => total + pick(slice) * slice.elapsedMs, 0) / elapsedMs;
  return {
    system: first.system,
    phase,
    load: first.load,
    ids,
    lost,
    sendErrors: slices.flatMap((slice) => slice.sendErrors),
    elapsedMs,
    sendMs,
    throughput: (ids.length - lost.length) / (elapsedMs / 1000),
    sendRate: ids.length / (sendMs / 1000),
    sliceThroughputs: slices.flatMap((slice) => slice.sliceThroughputs),
    latencies,
    latency: summarize(latencies),
    counts,
    cost: costPerCommand(counts, ids.length),
    cpu: {
      nodePercent: weighted((cpu) => cpu.nodePercent)!,
      eventLoopPercent: weighted((cpu) => cpu.eventLoopPercent)!,
      jvmPercent: weighted((cpu) => cpu.jvmPercent),
      nodeMs: slices.reduce((total, slice) => total + slice.cpu.nodeMs, 0),
      jvmMs: slices.some((slice) => slice.cpu.jvmMs === undefined) ? undefined : slices.reduce((total, slice) => total + slice.cpu.jvmMs!, 0),
    },
    consumer: {
      receives: slices.reduce((total, slice) => total + slice.consumer.receives, 0),
      emptyReceives: slices.reduce((total, slice) => total + slice.consumer.emptyReceives, 0),
      messagesPerReceive: byTime((slice) => slice.consumer.messagesPerReceive),
      receiveMs: byTime((slice) => slice.consumer.receiveMs),
      meanHeld: byTime((slice) => slice.consumer.meanHeld),
      writeMs: byTime((slice) => slice.consumer.writeMs),
      loopDelayP50: byTime((slice) => slice.consumer.loopDelayP50),
      loopDelayP99: byTime((slice) => slice.consumer.loopDelayP99),
    },
    deletesMissing: slices.reduce((total, slice) => total + slice.deletesMissing, 0),
  };
}

function mergeCounts(all: readonly WireCounts[]): WireCounts {
  const merged: WireCounts = { sqs: {}, dynamodb: {}, writeUnits: {}, readUnits: {}, unreportedFailedWrites: 0, deletedMessages: 0 };
  for (const counts of all) {
    for (const [action, count] of Object.entries(counts.sqs)) {
      const into = (merged.sqs[action] ??= { requests: 0, billable: 0, bodyBytes: 0 });
      into.requests += count.requests;
      into.billable += count.billable;
      into.bodyBytes += count.bodyBytes;
    }
    for (const [op, count] of Object.entries(counts.dynamodb)) {
      const into = (merged.dynamodb[op] ??= { requests: 0, succeeded: 0, conditionalFailures: 0 });
      into.requests += count.requests;
      into.succeeded += count.succeeded;
      into.conditionalFailures += count.conditionalFailures;
    }
    for (const [target, units] of Object.entries(counts.writeUnits)) merged.writeUnits[target] = (merged.writeUnits[target] ?? 0) + units;
    for (const [target, units] of Object.entries(counts.readUnits)) merged.readUnits[target] = (merged.readUnits[target] ?? 0) + units;
    merged.unreportedFailedWrites += counts.unreportedFailedWrites;
    merged.deletedMessages += counts.deletedMessages;
  }
  return merged;
}

/** As fast as the producer can, with at most `inFlight` sends outstanding. */
async function sendBounded(ids: readonly string[], inFlight: number, sendOne: (id: string) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < ids.length) await sendOne(ids[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, ids.length) }, lane));
}

/** Open loop: send i starts at start + i / rate, whether or not earlier sends have returned. */
async function sendAtRate(ids: readonly string[], perSecond: number, sendOne: (id: string) => Promise<void>): Promise<void> {
  const start = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < ids.length; i++) {
    const wait = start + (i * 1000) / perSecond - performance.now();
    if (wait > 0) await sleep(wait);
    sends.push(sendOne(ids[i]!));
  }
  await Promise.all(sends);
}
