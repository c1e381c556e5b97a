/**
 * `npm run bench`: the bus against the raw-call floor, in one process, on one embedded stack
 * (DynamoDB Local + fauxqs). Throughput, send→COMPLETED latency, requests and capacity counted on the
 * wire, and $ per million commands.
 *
 * Environment: N (2000) · WARMUP (1000 per system) · DATA_BYTES (1024) · CONCURRENCY (32) ·
 *   RATE (unset: the load run sends as fast as possible with SEND_PARALLELISM (64) sends in flight;
 *   set: commands/s) · RATE_LATENCY (20) and LATENCY_N (200) for the fixed-rate run (0 skips it) ·
 *   ROUNDS (4): each run is split into slices run in alternating order — bus, floor, floor, bus, … —
 *   so the emulators' warm-up and drift favour neither · STALL_TIMEOUT_MS (60000): a slice with no
 *   completion for this long stops waiting (longer than the queues' 30 s visibility timeout, so a
 *   redelivered message still completes in time) · SETTLE_MS (60000): at the end, how long to wait
 *   for messages still queued before reading every command back · LOSE (0): the floor drops this
 *   many messages unprocessed, to prove the accounting fails the run (e.g.
 *   `LOSE=1 WARMUP=0 N=200 LATENCY_N=0 STALL_TIMEOUT_MS=2000 npm run bench` must exit 1).
 *
 * Exit 1 if a command was lost (see accounting.ts) or something crashed, else 0 (whatever the
 * verdicts).
 */
import { randomUUID } from 'node:crypto';
import { createClients, startLocalStack, type LocalStack } from '@commandbus/local';
import { account, type SystemRecord } from './accounting.ts';
import { createBusSystem } from './busRun.ts';
import { readConfig } from './config.ts';
import { findJvmPids } from './cpu.ts';
import { createFloorSystem } from './floor.ts';
import { mergeResults, runPhase, type BenchSystem, type Load, type PhaseOptions, type PhaseResult } from './phase.ts';
import { printReport, type Comparison } from './report.ts';

const log = (message: string) => console.log(`[bench +${(performance.now() / 1000).toFixed(1)}s] ${message}`);

async function main(): Promise<number> {
  const config = readConfig();
  log('starting the embedded stack (DynamoDB Local + fauxqs)');
  const stack = await startLocalStack();
  const inspect = createClients(stack);
  const systems: BenchSystem[] = [];
  try {
    const run = randomUUID().slice(0, 8);
    const bus = await createBusSystem(stack, config, `bench-bus-${run}`, inspect);
    systems.push(bus);
    const floor = await createFloorSystem(stack, config, `bench-floor-${run}`, inspect);
    systems.push(floor);
    const options: PhaseOptions = { stallTimeoutMs: config.stallTimeoutMs, jvmPids: findJvmPids() };
    const results: PhaseResult[] = [];

    const phase = async (system: BenchSystem, name: string, n: number, load: Load) => {
      const result = await runPhase(system, name, n, load, options);
      log(
        `${system.label.padEnd(5)} ${name}: ${n} commands, ${result.throughput.toFixed(1)} cmd/s, p50 ${result.latency.p50.toFixed(1)} ms` +
          (result.lost.length ? `, ${result.lost.length} LOST` : ''),
      );
      results.push(result);
      return result;
    };
    /** n commands per system, in `rounds` slices, alternating which system goes first. */
    const compare = async (name: string, n: number, load: Load): Promise<Comparison> => {
      const slices: Record<'bus' | 'floor', PhaseResult[]> = { bus: [], floor: [] };
      for (let round = 0; round < config.rounds; round++) {
        const size = Math.floor((n * (round + 1)) / config.rounds) - Math.floor((n * round) / config.rounds);
        if (size === 0) continue;
        for (const system of round % 2 === 0 ? [bus, floor] : [floor, bus]) {
          slices[system.label as 'bus' | 'floor'].push(await phase(system, `${name} ${round + 1}/${config.rounds}`, size, load));
        }
      }
      return { bus: mergeResults(slices.bus, name), floor: mergeResults(slices.floor, name) };
    };

    const maxLoad: Load = { kind: 'max', inFlight: config.sendParallelism };
    if (config.warmup > 0) {
      await phase(bus, 'warm-up', config.warmup, maxLoad);
      await phase(floor, 'warm-up', config.warmup, maxLoad);
    }
    const load = await compare('load', config.n, config.rate === undefined ? maxLoad : { kind: 'rate', perSecond: config.rate });
    const latency = config.latencyN > 0 ? await compare('fixed-rate', config.latencyN, { kind: 'rate', perSecond: config.latencyRate }) : undefined;

    // Accounting, outside every counted window.
    log('accounting: reading every command back (BatchGetItem on an unmetered client) once its queue has settled…');
    const records: SystemRecord[] = [];
    for (const system of [bus, floor]) {
      const phases = results.filter((result) => result.system === system.label);
      const final = await system.finalState(
        phases.flatMap((result) => result.ids),
        config.settleMs,
      );
      records.push({
        label: system.label,
        phases,
        duplicateCompletions: system.tracker.duplicateCompletions,
        observedCompleted: (id) => system.tracker.completedAt(id) !== undefined,
        ...final,
      });
    }
    const { problems, notes, completed } = account(records);

    printReport(config, load, latency);
    console.log('');
    for (const result of [load.bus, load.floor, ...(latency ? [latency.bus, latency.floor] : [])]) {
      console.log(`  ${result.system} ${result.phase}: ${result.ids.length - result.lost.length}/${result.ids.length} seen COMPLETED within the slice`);
    }
    if (notes.length > 0) console.log(`\nnotes (not failures):\n${notes.map((note) => `  - ${note}`).join('\n')}`);
    if (problems.length > 0) {
      console.log(`\nACCOUNTING FAILED:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
      return 1;
    }
    const total = results.reduce((sum, result) => sum + result.ids.length, 0);
    console.log(
      `\nall ${config.n} accounted for: every command COMPLETED exactly once ` +
        `(${total} commands across all runs incl. warm-up, each read back from the table: bus ${completed.bus}, floor ${completed.floor}; queues empty)`,
    );
    return 0;
  } finally {
    log('stopping');
    await stopAll(systems, stack, inspect);
  }
}

async function stopAll(systems: BenchSystem[], stack: LocalStack, inspect: ReturnType<typeof createClients>): Promise<void> {
  await Promise.allSettled(systems.map((system) => system.stop()));
  inspect.dynamodb.destroy();
  inspect.sqs.destroy();
  await stack.stop();
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench crashed:', error);
    process.exit(1);
  },
);
