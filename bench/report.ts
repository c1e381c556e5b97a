/** The printed report: both systems side by side, the ratios against the floor, and the cost. */
import type { BenchConfig } from './config.ts';
import type { Load, PhaseResult } from './phase.ts';
import { PRICES } from './wireMeter.ts';

export const TARGETS = { dollarsPerMillion: 3.0, throughputRatio: 0.8, p50Ratio: 1.25 } as const;

export interface Comparison {
  bus: PhaseResult;
  floor: PhaseResult;
}

const LABEL_WIDTH = 34;
const COLUMN_WIDTH = 14;

const fixed = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits));
const row = (label: string, ...cells: string[]) => `  ${label.padEnd(LABEL_WIDTH)}${cells.map((cell) => cell.padStart(COLUMN_WIDTH)).join('')}`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

/** What "floor" means, in the verdicts. */
export const FLOOR_MEANS = 'floor = the same SQS and DynamoDB calls with no bus logic, measured in this run';

/**
 * A ratio and its verdict against a target (`at-least`: pass if ratio ≥ target; `at-most`: ≤).
 * Three decimals, more if three would round across the target (0.79996 is not printed as 0.800),
 * so the printed figure never contradicts the verdict.
 */
export function ratioVerdict(ratio: number, target: number, direction: 'at-least' | 'at-most'): { text: string; pass: boolean } {
  const passes = (value: number) => (direction === 'at-least' ? value >= target : value <= target);
  const pass = passes(ratio);
  if (!Number.isFinite(ratio)) return { text: 'n/a', pass: false };
  let digits = 3;
  while (digits < 8 && passes(Number(ratio.toFixed(digits))) !== pass) digits++;
  return { text: ratio.toFixed(digits), pass };
}
/** Bus/floor throughput of each round's adjacent slices (run back to back, so drift mostly cancels), and their median. */
export function pairedRatios(bus: readonly number[], floor: readonly number[]): { ratios: number[]; median: number } {
  const ratios = bus.slice(0, floor.length).map((value, i) => value / floor[i]!);
  const sorted = [...ratios].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { ratios, median };
}

/** CPU ms per command: this Node process (bus or floor, producer and consumer, and the SQS emulator's thread) and the DynamoDB Local JVM. */
export function cpuPerCommand(result: Pick<PhaseResult, 'cpu' | 'ids'>): { node: number; jvm: number | undefined; total: number | undefined } {
  const n = result.ids.length;
  const node = result.cpu.nodeMs / n;
  const jvm = result.cpu.jvmMs === undefined ? undefined : result.cpu.jvmMs / n;
  return { node, jvm, total: jvm === undefined ? undefined : node + jvm };
}

const describeLoad = (load: Load) => (load.kind === 'max' ? `as fast as possible, ${load.inFlight} sends in flight` : `${load.perSecond} commands/s`);
const ms = (value: number) => fixed(value, 1);

export function printReport(config: BenchConfig, load: Comparison, latency: Comparison | undefined): void {
  const out: string[] = [];
  out.push('', `=== commandbus benchmark: bus vs floor (same run, same emulators) ===`, FLOOR_MEANS);
  out.push(
    `data ${config.dataBytes} B/command · worker concurrency ${config.concurrency} · warm-up ${config.warmup}/system · node ${process.version}`,
    `each run in ${config.rounds} slice(s) per system, alternating order (bus, floor, floor, bus, …)`,
    '',
  );
  out.push(row('', 'bus', 'floor', 'bus/floor'));

  out.push(`Load run: ${load.bus.ids.length} commands per system, ${describeLoad(load.bus.load)}`);
  timingRows(out, load, true);
  if (latency) {
    out.push(`Fixed-rate run: ${latency.bus.ids.length} commands per system at ${describeLoad(latency.bus.load)}`);
    timingRows(out, latency, false);
  }

  out.push(`On the wire, per command (load run; counters reset after warm-up)`);
  wireRows(out, load);
  if (latency) {
    out.push(`On the wire, per command (fixed-rate run: receive/delete batches are small at low rates)`);
    wireRows(out, latency);
  }

  const busCost = load.bus.cost.dollarsPerMillion.total;
  const throughput = ratioVerdict(load.bus.throughput / load.floor.throughput, TARGETS.throughputRatio, 'at-least');
  out.push('', `Verdicts (${FLOOR_MEANS})`);
  out.push(
    `  cost per million commands (load run): bus $${busCost.toFixed(3)}, floor $${load.floor.cost.dollarsPerMillion.total.toFixed(3)}` +
      `  — target ≤ $${TARGETS.dollarsPerMillion.toFixed(2)}: ${verdict(busCost <= TARGETS.dollarsPerMillion)}`,
  );
  out.push(
    `  throughput bus/floor: ${throughput.text} (${load.bus.throughput.toFixed(1)} / ${load.floor.throughput.toFixed(1)} cmd/s)` +
      `  — target ≥ ${TARGETS.throughputRatio}: ${verdict(throughput.pass)}`,
  );
  const rounds = pairedRatios(load.bus.sliceThroughputs, load.floor.sliceThroughputs);
  const cpuBus = cpuPerCommand(load.bus).total;
  const cpuFloor = cpuPerCommand(load.floor).total;
  out.push(
    `    per round (adjacent slices): ${rounds.ratios.map((value) => value.toFixed(2)).join(' ')}, median ${fixed(rounds.median, 3)}` +
      (cpuBus === undefined || cpuFloor === undefined
        ? ''
        : `; CPU per command floor/bus ${fixed(cpuFloor / cpuBus, 3)} (where the ratio settles when the machine's CPU is the limit)`),
  );
  if (latency) {
    const p50 = ratioVerdict(latency.bus.latency.p50 / latency.floor.latency.p50, TARGETS.p50Ratio, 'at-most');
    out.push(
      `  p50 latency bus/floor at ${describeLoad(latency.bus.load)}: ${p50.text} (${ms(latency.bus.latency.p50)} / ${ms(latency.floor.latency.p50)} ms)` +
        `  — target ≤ ${TARGETS.p50Ratio}: ${verdict(p50.pass)}`,
    );
  }
  out.push(
    `  prices: SQS $${PRICES.sqsRequest}/M requests (per 64 KB), DynamoDB $${PRICES.writeUnit}/M WCU, $${PRICES.readUnit}/M RCU` +
      ' (table + every index, as reported; transactions doubled)',
  );
  console.log(out.join('\n'));
}

function timingRows(out: string[], { bus, floor }: Comparison, showThroughput: boolean): void {
  const ratio = (a: number, b: number) => fixed(a / b, 3);
  if (showThroughput) {
    out.push(row('throughput (cmd/s)', fixed(bus.throughput, 1), fixed(floor.throughput, 1), ratio(bus.throughput, floor.throughput)));
    if (bus.sliceThroughputs.length > 1) {
      const slices = (result: PhaseResult) => result.sliceThroughputs.map((value) => value.toFixed(0)).join('/');
      out.push(`    per slice, in run order (cmd/s): bus ${slices(bus)} · floor ${slices(floor)}`);
    }
  }
  out.push(row('send rate achieved (cmd/s)', fixed(bus.sendRate, 1), fixed(floor.sendRate, 1)));
  for (const key of ['p50', 'p95', 'p99', 'max'] as const) {
    out.push(row(`send→COMPLETED ${key} (ms)`, ms(bus.latency[key]), ms(floor.latency[key]), ratio(bus.latency[key], floor.latency[key])));
  }
  out.push(row('CPU: node process (% of a core)', fixed(bus.cpu.nodePercent, 0), fixed(floor.cpu.nodePercent, 0)));
  out.push(row('Node event loop busy (%)', fixed(bus.cpu.eventLoopPercent, 0), fixed(floor.cpu.eventLoopPercent, 0)));
  out.push(row('CPU: DynamoDB Local JVM (%)', fixed(bus.cpu.jvmPercent, 0), fixed(floor.cpu.jvmPercent, 0)));
  const cpu = { bus: cpuPerCommand(bus), floor: cpuPerCommand(floor) };
  out.push(row('CPU per command: node (ms)', fixed(cpu.bus.node, 2), fixed(cpu.floor.node, 2), ratio(cpu.bus.node, cpu.floor.node)));
  out.push(
    row('CPU per command: JVM (ms)', fixed(cpu.bus.jvm, 2), fixed(cpu.floor.jvm, 2), cpu.bus.jvm && cpu.floor.jvm ? ratio(cpu.bus.jvm, cpu.floor.jvm) : 'n/a'),
  );
  out.push(
    row(
      'consumer: messages held (mean)',
      fixed(bus.consumer.meanHeld, 1),
      fixed(floor.consumer.meanHeld, 1),
      ratio(bus.consumer.meanHeld, floor.consumer.meanHeld),
    ),
  );
  out.push(row('consumer: messages per receive', fixed(bus.consumer.messagesPerReceive, 2), fixed(floor.consumer.messagesPerReceive, 2)));
  out.push(row('consumer: receive (ms, non-empty)', fixed(bus.consumer.receiveMs, 1), fixed(floor.consumer.receiveMs, 1)));
  out.push(
    row('consumer: DynamoDB call (ms)', fixed(bus.consumer.writeMs, 1), fixed(floor.consumer.writeMs, 1), ratio(bus.consumer.writeMs, floor.consumer.writeMs)),
  );
  out.push(
    row(
      'event-loop delay p50/p99 (ms)',
      `${fixed(bus.consumer.loopDelayP50, 1)}/${fixed(bus.consumer.loopDelayP99, 1)}`,
      `${fixed(floor.consumer.loopDelayP50, 1)}/${fixed(floor.consumer.loopDelayP99, 1)}`,
    ),
  );
}

function wireRows(out: string[], { bus, floor }: Comparison): void {
  const union = (a: Record<string, number>, b: Record<string, number>) => [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const three = (value: number | undefined) => fixed(value ?? 0, 3);
  const b = bus.cost;
  const f = floor.cost;
  for (const action of union(b.sqsRequestsByAction, f.sqsRequestsByAction)) {
    out.push(row(`SQS ${action} req`, three(b.sqsRequestsByAction[action]), three(f.sqsRequestsByAction[action])));
  }
  out.push(row('SQS requests, total', three(b.sqsRequests), three(f.sqsRequests)));
  const sendBody = (result: PhaseResult) => {
    const send = result.counts.sqs.SendMessage;
    return send ? fixed(send.bodyBytes / send.requests, 0) : 'n/a';
  };
  out.push(row('SQS SendMessage body (bytes, avg)', sendBody(bus), sendBody(floor)));
  out.push(row('SQS billable (64 KB chunks)', three(b.sqsBillable), three(f.sqsBillable)));
  for (const op of union(b.dynamoRequestsByOp, f.dynamoRequestsByOp)) {
    out.push(row(`DynamoDB ${op} req`, three(b.dynamoRequestsByOp[op]), three(f.dynamoRequestsByOp[op])));
  }
  const conditional = (result: PhaseResult) =>
    Object.values(result.counts.dynamodb).reduce((total, count) => total + count.conditionalFailures, 0) / result.ids.length;
  out.push(row('DynamoDB failed conditions', three(conditional(bus)), three(conditional(floor))));
  for (const target of union(b.writeUnitsByTarget, f.writeUnitsByTarget)) {
    out.push(row(`WCU ${target === 'table' ? 'table' : `GSI ${target}`}`, three(b.writeUnitsByTarget[target]), three(f.writeUnitsByTarget[target])));
  }
  if (b.unreportedFailedWrites || f.unreportedFailedWrites) {
    out.push(row('WCU failed cond. (est. 1 each)', three(b.unreportedFailedWrites), three(f.unreportedFailedWrites)));
  }
  out.push(row('WCU total', three(b.writeUnits), three(f.writeUnits)));
  for (const target of union(b.readUnitsByTarget, f.readUnitsByTarget)) {
    out.push(row(`RCU ${target === 'table' ? 'table' : `index ${target}`}`, three(b.readUnitsByTarget[target]), three(f.readUnitsByTarget[target])));
  }
  out.push(row('RCU total', three(b.readUnits), three(f.readUnits)));
  out.push(row('$ / million commands: SQS', fixed(b.dollarsPerMillion.sqs, 3), fixed(f.dollarsPerMillion.sqs, 3)));
  out.push(
    row(
      '$ / million commands: DynamoDB',
      fixed(b.dollarsPerMillion.writes + b.dollarsPerMillion.reads, 3),
      fixed(f.dollarsPerMillion.writes + f.dollarsPerMillion.reads, 3),
    ),
  );
  out.push(
    row(
      '$ / million commands: total',
      fixed(b.dollarsPerMillion.total, 3),
      fixed(f.dollarsPerMillion.total, 3),
      fixed(b.dollarsPerMillion.total / f.dollarsPerMillion.total, 3),
    ),
  );
}
