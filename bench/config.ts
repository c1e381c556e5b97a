/** Benchmark settings, from the environment (documented at the top of run.ts). */

export interface BenchConfig {
  /** Commands in the measured load run. */
  n: number;
  /** Commands sent (per system) before anything is measured. */
  warmup: number;
  /** JSON size of each command's `data`. */
  dataBytes: number;
  /** Worker concurrency, and the floor consumer's. */
  concurrency: number;
  /** If set, the load run sends at this fixed rate instead of as fast as possible. */
  rate: number | undefined;
  /** Sends in flight during an as-fast-as-possible run. */
  sendParallelism: number;
  /** The fixed-rate latency run. */
  latencyRate: number;
  latencyN: number;
  /**
   * Each comparison is split into this many slices per system, run in alternating order
   * (bus, floor, floor, bus, …) so emulator warm-up and drift favour neither.
   */
  rounds: number;
  /**
   * A slice stops waiting after this long without a single completion; its missing commands count
   * as not completed there, and the final accounting decides whether they were lost.
   */
  stallTimeoutMs: number;
  /** After the runs, how long to wait for messages still queued before the final accounting. */
  settleMs: number;
  /** Commands the floor deliberately drops unprocessed (a self-test: the run must then exit 1). */
  lose: number;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const rate = env.RATE === undefined || env.RATE === '' ? undefined : number(env, 'RATE', 0, 0.001);
  return {
    n: integer(env, 'N', 2000, 1),
    warmup: integer(env, 'WARMUP', 1000, 0),
    dataBytes: integer(env, 'DATA_BYTES', 1024, EMPTY_DATA_BYTES),
    concurrency: integer(env, 'CONCURRENCY', 32, 1),
    rate,
    sendParallelism: integer(env, 'SEND_PARALLELISM', 64, 1),
    latencyRate: number(env, 'RATE_LATENCY', 20, 0.001),
    latencyN: integer(env, 'LATENCY_N', 200, 0),
    rounds: integer(env, 'ROUNDS', 4, 1),
    // Longer than the queues' 30 s visibility timeout, so a redelivered message can complete in time.
    stallTimeoutMs: integer(env, 'STALL_TIMEOUT_MS', 60_000, 1000),
    settleMs: integer(env, 'SETTLE_MS', 60_000, 0),
    lose: integer(env, 'LOSE', 0, 0),
  };
}

const EMPTY_DATA_BYTES = JSON.stringify({ payload: '' }).length;

/** A command's data: `{ payload: 'xxx…' }` whose JSON is exactly `bytes` long. */
export function benchData(bytes: number): { payload: string } {
  const data = { payload: 'x'.repeat(bytes - EMPTY_DATA_BYTES) };
  if (JSON.stringify(data).length !== bytes) throw new Error(`could not size data to ${bytes} bytes`);
  return data;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min} (got ${JSON.stringify(raw)})`);
  return value;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const value = number(env, name, fallback, min);
  if (!Number.isInteger(value)) throw new Error(`${name} must be an integer (got ${value})`);
  return value;
}
