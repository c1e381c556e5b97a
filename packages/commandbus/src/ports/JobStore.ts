import type { JobStatus, OperatorJob, StoredJob } from '../domain/jobs.ts';
import type { Page } from '../types.ts';

/** What a runner writes after a page (or before one: `pending`), together, while it holds the job's lease. */
export interface JobCheckpoint {
  progress: OperatorJob['progress'];
  problemCodes: OperatorJob['problemCodes'];
  recentProblems: OperatorJob['recentProblems'];
  /** The listing's cursor to go on from (`null`: exhausted); left as it is when absent. */
  cursor?: string | null;
  /** The page about to be acted on; `null` clears it. Left as it is when absent. */
  pending?: StoredJob['pending'] | null;
  /** Extends the lease to this time (epoch ms); 0 releases it. */
  leaseUntil: number;
  /** The runner finished the listing: RUNNING or PAUSED becomes COMPLETED. */
  complete?: { finishedAt: string };
}

/**
 * Where operator jobs live (in the commands table, under a partition key no command has). Every
 * write is conditional: a status change on the status it expects, a runner's write on its lease.
 */
export interface JobStore {
  /** Creates the job (a new id). */
  create(job: StoredJob): Promise<void>;
  get(domain: string, jobId: string): Promise<StoredJob | undefined>;
  /** A domain's jobs, newest first. */
  list(domain: string, options: { limit: number; cursor?: string }): Promise<Page<StoredJob>>;
  /**
   * Moves the job to `to` if its status is one of `from`; returns the job as it is after the write,
   * or `{ refused }` with the job as it was (absent: no such job).
   */
  setStatus(
    domain: string,
    jobId: string,
    from: readonly JobStatus[],
    to: JobStatus,
    at: string,
  ): Promise<{ job: StoredJob } | { refused: true; current?: StoredJob }>;
  /** Takes the job's lease if it is RUNNING and nobody holds an unexpired lease; the job, or undefined. */
  acquire(domain: string, jobId: string, lease: string, leaseUntil: number, now: number): Promise<StoredJob | undefined>;
  /** Writes a checkpoint if `lease` is still the job's; the job after the write, or undefined (the lease was lost). */
  checkpoint(domain: string, jobId: string, lease: string, checkpoint: JobCheckpoint, at: string): Promise<StoredJob | undefined>;
}

/** Wakes a runner for a job: in AWS a message on the jobs queue, which the job-runner Lambda consumes. */
export interface JobQueue {
  enqueue(work: JobWork, delaySeconds?: number): Promise<void>;
}

/** One message of the jobs queue: work on this job for up to the runner's budget. */
export interface JobWork {
  domain: string;
  jobId: string;
}
