/**
 * CPU used during a run: this Node process (bus, worker, floor and the in-process SQS emulator) and
 * the DynamoDB Local JVM (found under our process tree in /proc; Linux only, else reported as n/a).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance as perf } from 'node:perf_hooks';

const CLOCK_TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  ticks: number;
}

function readStat(pid: number | string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' ');
    return {
      pid: Number(pid),
      comm: text.slice(text.indexOf('(') + 1, close),
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return undefined;
  }
}

/** Every `java` process descending from this one. */
export function findJvmPids(): number[] {
  let stats: ProcStat[];
  try {
    stats = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(readStat)
      .filter((stat): stat is ProcStat => stat !== undefined);
  } catch {
    return [];
  }
  const parents = new Map(stats.map((stat) => [stat.pid, stat.ppid]));
  const descends = (pid: number) => {
    for (let at: number | undefined = pid; at !== undefined && at > 1; at = parents.get(at)) {
      if (at === process.pid) return true;
    }
    return false;
  };
  return stats.filter((stat) => stat.comm === 'java' && descends(stat.pid)).map((stat) => stat.pid);
}

export interface CpuUsage {
  /** % of one core, over the measured wall time. */
  nodePercent: number;
  /** % of the wall time the Node event loop was busy (100% = JS on the main thread is the limit). */
  eventLoopPercent: number;
  jvmPercent: number | undefined;
  /** CPU time used (ms): this process (all threads), and the JVM. */
  nodeMs: number;
  jvmMs: number | undefined;
}

export function startCpuMeter(jvmPids: readonly number[]): () => CpuUsage {
  const wall = performance.now();
  const node = process.cpuUsage();
  const loop = perf.eventLoopUtilization();
  const jvmTicks = () => {
    const ticks = jvmPids.map((pid) => readStat(pid)?.ticks);
    return ticks.length && ticks.every((value) => value !== undefined) ? (ticks as number[]).reduce((a, b) => a + b, 0) : undefined;
  };
  const jvmStart = jvmTicks();
  return () => {
    const elapsedMs = performance.now() - wall;
    const used = process.cpuUsage(node);
    const jvmEnd = jvmTicks();
    const nodeMs = (used.user + used.system) / 1000;
    const jvmMs = jvmStart === undefined || jvmEnd === undefined ? undefined : ((jvmEnd - jvmStart) / CLOCK_TICKS_PER_SECOND) * 1000;
    return {
      nodeMs,
      jvmMs,
      nodePercent: (nodeMs / elapsedMs) * 100,
      eventLoopPercent: perf.eventLoopUtilization(loop).utilization * 100,
      jvmPercent: jvmMs === undefined ? undefined : (jvmMs * 100) / elapsedMs,
    };
  };
}
