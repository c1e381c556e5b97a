/**
 * Operator jobs: a bulk retry, cancel or complete of every parked command a TSQ filter matches,
 * run in the background at a rate the operator sets. Pure: the job's state machine, the window it
 * acts on, its progress arithmetic and the token bucket that paces it (with an injectable clock).
 */
import { randomBytes } from 'node:crypto';
import { InvalidOperationError, ValidationError } from '../errors.ts';
import type { BulkAction, ErrorKind, JsonValue } from '../types.ts';

/**
 * DRAFT (created with its dry run) → RUNNING ⇄ PAUSED → COMPLETED | CANCELLED. Only the runner
 * completes a job; an operator starts, pauses, resumes and cancels it.
 */
export type JobStatus = 'DRAFT' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'CANCELLED';
export type JobControl = 'start' | 'pause' | 'resume' | 'cancel';

/** The TSQ listing's filter (see TsqQuery): `from`/`to` on when the command was parked. */
export interface JobFilter {
  commandType?: string;
  errorCode?: string;
  errorType?: ErrorKind;
  from?: string;
  to?: string;
}

/**
 * `matched`: commands the runner listed so far; each ends in exactly one of `done` (acted on by this
 * job), `skipped` (its state changed since it was listed: not IN_TSQ any more, or gone) or `failed`.
 */
export interface JobProgress {
  matched: number;
  done: number;
  skipped: number;
  failed: number;
}

export type JobOutcome = { commandId: string; outcome: 'done' } | { commandId: string; outcome: 'skipped' | 'failed'; code: string; reason: string };

/** A skipped or failed command, among the most recent ones the job keeps (MAX_RECENT_PROBLEMS). */
export interface JobProblem {
  commandId: string;
  outcome: 'skipped' | 'failed';
  code: string;
  reason: string;
}

export interface JobSample {
  commandId: string;
  commandType: string;
  errorType?: string;
  errorCode?: string;
  movedToTsqAt: string;
}

export interface JobDryRun {
  /** How many parked commands the job's window and filter match, at creation. */
  count: number;
  /** false when counting by listing stopped at its budget: `count` is then a lower bound. */
  exact: boolean;
  /** `groups`: summed from the TSQ group counters (the filter is whole groups, no time window); `listing`: counted by paging the filtered listing. */
  countedBy: 'groups' | 'listing';
  /** The newest matching commands (up to 10), without their payloads. */
  sample: JobSample[];
}

/** An operator job as the API shows it. */
export interface OperatorJob {
  domain: string;
  jobId: string;
  action: BulkAction;
  filter: JobFilter;
  /** What the job acts on: the filter's window, closed at the job's creation (`to`, exclusive = min(filter.to, createdAt + 1 ms)). */
  window: { from?: string; to: string };
  /** Commands per second. */
  rate: number;
  operator: string;
  operatorSession?: string;
  /** cancel: the reason recorded on every command. */
  reason?: string;
  /** complete: the result every command completes with. */
  resultData?: JsonValue;
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  dryRun: JobDryRun;
  progress: JobProgress;
  /** Skipped and failed commands by error code. */
  problemCodes: Record<string, number>;
  /** The most recent skipped or failed commands, with their reasons (at most MAX_RECENT_PROBLEMS). */
  recentProblems: JobProblem[];
}

/** What only the runner needs: where it stopped, the page it was acting on, and who holds the job. */
export interface JobRunState {
  /** The listing's cursor after the last page acted on; absent before the first; `null` when the listing is exhausted. */
  cursor?: string | null;
  /** The page being acted on (written before acting on it): a runner that finds it replays it. */
  pending?: { commandIds: string[]; next: string | null };
  lease?: string;
  /** Epoch milliseconds. */
  leaseUntil?: number;
}

export type StoredJob = OperatorJob & JobRunState;

export const MIN_RATE = 0.1;
export const MAX_RATE = 1000;
export const MAX_RECENT_PROBLEMS = 20;
export const DRY_RUN_SAMPLE = 10;

/** The status a control moves a job to, from the statuses it is allowed from. */
export const JOB_CONTROLS: Record<JobControl, { from: readonly JobStatus[]; to: JobStatus }> = {
  start: { from: ['DRAFT'], to: 'RUNNING' },
  pause: { from: ['RUNNING'], to: 'PAUSED' },
  resume: { from: ['PAUSED'], to: 'RUNNING' },
  cancel: { from: ['DRAFT', 'RUNNING', 'PAUSED'], to: 'CANCELLED' },
};

/** The status after `control`, or InvalidOperationError (409) naming the status that forbids it. */
export function controlJob(status: JobStatus, control: JobControl): JobStatus {
  const rule = JOB_CONTROLS[control];
  if (!rule) throw new ValidationError('control', `must be one of ${Object.keys(JOB_CONTROLS).join(', ')} (got ${JSON.stringify(control)})`);
  if (!rule.from.includes(status)) {
    throw new InvalidOperationError(`cannot ${control} a job that is ${status} (only from ${rule.from.join(' or ')})`, status);
  }
  return rule.to;
}

export const isFinished = (status: JobStatus): boolean => status === 'COMPLETED' || status === 'CANCELLED';

/**
 * The window a job acts on: nothing parked after its creation, so a job never touches what it did
 * not dry-run. `to` is exclusive (as the listing's): the millisecond after the creation.
 */
export function jobWindow(filter: JobFilter, createdAt: string): { from?: string; to: string } {
  const end = new Date(Date.parse(createdAt) + 1).toISOString();
  const to = filter.to !== undefined && filter.to < end ? filter.to : end;
  return { ...(filter.from === undefined ? {} : { from: filter.from }), to };
}

export function validateRate(rate: unknown): number {
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < MIN_RATE || rate > MAX_RATE) {
    throw new ValidationError('rate', `must be a number of commands per second from ${MIN_RATE} to ${MAX_RATE} (got ${JSON.stringify(rate)})`);
  }
  return rate;
}

export const emptyProgress = (): JobProgress => ({ matched: 0, done: 0, skipped: 0, failed: 0 });

/** Progress after a page's outcomes: every listed command counted once, in exactly one outcome. */
export function addOutcomes(
  job: Pick<OperatorJob, 'progress' | 'problemCodes' | 'recentProblems'>,
  outcomes: readonly JobOutcome[],
): Pick<OperatorJob, 'progress' | 'problemCodes' | 'recentProblems'> {
  const progress = { ...job.progress };
  const problemCodes = { ...job.problemCodes };
  const recent = [...job.recentProblems];
  for (const outcome of outcomes) {
    progress.matched++;
    progress[outcome.outcome]++;
    if (outcome.outcome !== 'done') {
      problemCodes[outcome.code] = (problemCodes[outcome.code] ?? 0) + 1;
      recent.push({ commandId: outcome.commandId, outcome: outcome.outcome, code: outcome.code, reason: outcome.reason.slice(0, 300) });
    }
  }
  return { progress, problemCodes, recentProblems: recent.slice(-MAX_RECENT_PROBLEMS) };
}

/** How many commands a page holds: about two seconds of work at the rate (so pause and cancel act within a page), 10–100. */
export function pageSizeFor(rate: number): number {
  return Math.max(10, Math.min(100, Math.ceil(rate * 2)));
}

/**
 * A time-ordered UUID (version 7: 48 bits of Unix milliseconds, then random): job ids sort by
 * creation, so a domain's jobs list newest first from one Query.
 */
export function newJobId(nowMs: number): string {
  const bytes = randomBytes(16);
  let time = BigInt(nowMs);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = Number(time & 0xffn);
    time >>= 8n;
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A token bucket as a virtual schedule (GCRA): every take reserves the next slot, `1/rate` seconds
 * after the previous one, with a burst of `burst` takes at most. Concurrent takers queue in order,
 * so over any span the number of takes is ≤ rate × span + burst.
 */
export class TokenBucket {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  /** When the next take's slot falls, without burst. */
  private next = Number.NEGATIVE_INFINITY;

  private readonly clock: Clock;

  constructor(rate: number, clock: Clock, burst = Math.max(1, Math.floor(rate / 10))) {
    this.clock = clock;
    this.intervalMs = 1000 / rate;
    this.toleranceMs = (burst - 1) * this.intervalMs;
  }

  /** Reserves a slot; how long to wait for it (0: now). */
  reserve(now = this.clock.now()): number {
    const slot = Math.max(this.next, now - this.toleranceMs);
    this.next = slot + this.intervalMs;
    return Math.max(0, slot - now);
  }

  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.clock.sleep(wait);
  }
}
