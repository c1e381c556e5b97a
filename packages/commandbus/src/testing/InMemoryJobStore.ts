import type { JobStatus, StoredJob } from '../domain/jobs.ts';
import { ValidationError } from '../errors.ts';
import type { JobCheckpoint, JobQueue, JobStore, JobWork } from '../ports/JobStore.ts';
import type { Page } from '../types.ts';

/** The JobStore twin: the same conditions as DynamoJobStore (status on controls, lease on the runner's writes). */
export class InMemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, StoredJob>();

  async create(job: StoredJob): Promise<void> {
    const key = `${job.domain}/${job.jobId}`;
    if (this.jobs.has(key)) throw new Error(`job ${key} exists`);
    this.jobs.set(key, structuredClone(job));
  }

  async get(domain: string, jobId: string): Promise<StoredJob | undefined> {
    const job = this.jobs.get(`${domain}/${jobId}`);
    return job && structuredClone(job);
  }

  async list(domain: string, options: { limit: number; cursor?: string }): Promise<Page<StoredJob>> {
    const after = options.cursor === undefined ? undefined : Buffer.from(options.cursor, 'base64url').toString('utf8');
    if (after !== undefined && !/^[0-9a-f-]{36}$/.test(after)) throw new ValidationError('cursor', 'is not a cursor returned by this API');
    const all = [...this.jobs.values()]
      .filter((job) => job.domain === domain && (after === undefined || job.jobId < after))
      .sort((a, b) => (a.jobId < b.jobId ? 1 : -1));
    const items = all.slice(0, options.limit).map((job) => structuredClone(job));
    const last = items[items.length - 1];
    return all.length > options.limit && last ? { items, nextCursor: Buffer.from(last.jobId).toString('base64url') } : { items };
  }

  async setStatus(domain: string, jobId: string, from: readonly JobStatus[], to: JobStatus, at: string) {
    const job = this.jobs.get(`${domain}/${jobId}`);
    if (!job || !from.includes(job.status)) return { refused: true as const, ...(job ? { current: structuredClone(job) } : {}) };
    job.status = to;
    job.updatedAt = at;
    if (to === 'RUNNING') job.startedAt ??= at;
    if (to === 'CANCELLED' || to === 'COMPLETED') job.finishedAt = at;
    return { job: structuredClone(job) };
  }

  async acquire(domain: string, jobId: string, lease: string, leaseUntil: number, now: number): Promise<StoredJob | undefined> {
    const job = this.jobs.get(`${domain}/${jobId}`);
    if (job?.status !== 'RUNNING' || (job.leaseUntil !== undefined && job.leaseUntil >= now)) return undefined;
    job.lease = lease;
    job.leaseUntil = leaseUntil;
    return structuredClone(job);
  }

  async checkpoint(domain: string, jobId: string, lease: string, checkpoint: JobCheckpoint, at: string): Promise<StoredJob | undefined> {
    const job = this.jobs.get(`${domain}/${jobId}`);
    if (!job || job.lease !== lease) return undefined;
    job.progress = structuredClone(checkpoint.progress);
    job.problemCodes = structuredClone(checkpoint.problemCodes);
    job.recentProblems = structuredClone(checkpoint.recentProblems);
    job.leaseUntil = checkpoint.leaseUntil;
    job.updatedAt = at;
    if (checkpoint.cursor !== undefined) job.cursor = checkpoint.cursor;
    if (checkpoint.pending === null) delete job.pending;
    else if (checkpoint.pending !== undefined) job.pending = structuredClone(checkpoint.pending);
    if (checkpoint.complete && job.status !== 'CANCELLED') {
      job.status = 'COMPLETED';
      job.finishedAt = checkpoint.complete.finishedAt;
    }
    return structuredClone(job);
  }
}

/** Records what would have been sent to the jobs queue. */
export class InMemoryJobQueue implements JobQueue {
  readonly sent: { work: JobWork; delaySeconds: number }[] = [];
  async enqueue(work: JobWork, delaySeconds = 0): Promise<void> {
    this.sent.push({ work: { ...work }, delaySeconds });
  }
}
