/**
 * Operator jobs, the operator's side: create one with its dry run, start, pause, resume, cancel,
 * read. The running is jobRunner.ts. Talks to ports only.
 */
import {
  controlJob,
  DRY_RUN_SAMPLE,
  emptyProgress,
  JOB_CONTROLS,
  jobWindow,
  newJobId,
  type JobControl,
  type JobDryRun,
  type JobFilter,
  type OperatorJob,
  type StoredJob,
} from '../domain/jobs.ts';
import { UNKNOWN_ERROR_CODE } from '../domain/lifecycle.ts';
import { JobNotFoundError } from '../errors.ts';
import type { CommandStore } from '../ports/CommandStore.ts';
import type { JobQueue, JobStore } from '../ports/JobStore.ts';
import type { Logger, TsqQuery } from '../types.ts';

export interface JobPorts {
  store: Pick<CommandStore, 'listTsq' | 'tsqGroups'>;
  jobs: JobStore;
  /** Wakes a runner when a job starts or resumes; absent: the caller runs it (tsq.runJob). */
  jobQueue?: JobQueue;
  logger: Logger;
}

/** How long a dry run may page the listing to count (when the group counters cannot answer). */
export const DRY_RUN_BUDGET_MS = 20_000;

export async function createJob(
  ports: JobPorts,
  request: Omit<OperatorJob, 'jobId' | 'window' | 'status' | 'createdAt' | 'updatedAt' | 'dryRun' | 'progress' | 'problemCodes' | 'recentProblems'>,
  options: { now?: number; dryRunBudgetMs?: number } = {},
): Promise<OperatorJob> {
  const nowMs = options.now ?? Date.now();
  const createdAt = new Date(nowMs).toISOString();
  const jobId = newJobId(nowMs);
  const window = jobWindow(request.filter, createdAt);
  const dryRun = await countJob(ports, request.domain, request.filter, window, options.dryRunBudgetMs ?? DRY_RUN_BUDGET_MS);
  const job: StoredJob = {
    ...request,
    jobId,
    window,
    status: 'DRAFT',
    createdAt,
    updatedAt: createdAt,
    dryRun,
    progress: emptyProgress(),
    problemCodes: {},
    recentProblems: [],
  };
  await ports.jobs.create(job);
  ports.logger.info('operator job created', { domain: job.domain, jobId, action: job.action, count: dryRun.count, exact: dryRun.exact });
  return toOperatorJob(job);
}

/**
 * The dry run: an exact count and a sample. A filter without a time window is a union of whole TSQ
 * groups (groups are keyed by exactly the filterable fields), so the group counters answer at once
 * (8 small Queries). Otherwise the filtered listing is paged to the end within the budget (each page
 * reads the shards' entries in the window; see docs/data-model.md), and a count cut short says so.
 */
async function countJob(ports: JobPorts, domain: string, filter: JobFilter, window: OperatorJob['window'], budgetMs: number): Promise<JobDryRun> {
  const query: TsqQuery = { domain, ...filter, ...window };
  const first = await ports.store.listTsq({ ...query, limit: DRY_RUN_SAMPLE });
  const sample = first.items.map((state) => ({
    commandId: state.commandId,
    commandType: state.commandType,
    ...(state.lastError ? { errorType: state.lastError.type, errorCode: state.lastError.code } : {}),
    movedToTsqAt: state.movedToTsqAt ?? state.updatedAt,
  }));
  if (filter.from === undefined && filter.to === undefined) {
    const groups = await ports.store.tsqGroups(domain);
    const count = groups
      .filter(
        (group) =>
          (filter.commandType === undefined || group.commandType === filter.commandType) &&
          (filter.errorCode === undefined || (group.errorCode === filter.errorCode && group.errorCode !== UNKNOWN_ERROR_CODE)) &&
          (filter.errorType === undefined || (group.errorType === filter.errorType && group.errorCode !== UNKNOWN_ERROR_CODE)),
      )
      .reduce((sum, group) => sum + group.count, 0);
    return { count, exact: true, countedBy: 'groups', sample };
  }
  const started = Date.now();
  let count = first.items.length;
  let cursor = first.nextCursor;
  while (cursor !== undefined && Date.now() - started < budgetMs) {
    const page = await ports.store.listTsq({ ...query, limit: 100, cursor });
    count += page.items.length;
    cursor = page.nextCursor;
  }
  return { count, exact: cursor === undefined, countedBy: 'listing', sample };
}

/** Starts, pauses, resumes or cancels a job; a start or resume wakes a runner through the jobs queue. */
export async function controlOperatorJob(ports: JobPorts, domain: string, jobId: string, control: JobControl): Promise<OperatorJob> {
  const rule = JOB_CONTROLS[control];
  if (!rule) controlJob('DRAFT', control); // refuses the unknown control
  const result = await ports.jobs.setStatus(domain, jobId, rule.from, rule.to, new Date().toISOString());
  if ('refused' in result) {
    if (!result.current) throw new JobNotFoundError(domain, jobId);
    controlJob(result.current.status, control); // throws: the status forbids it
    throw new Error(`job ${jobId}: ${control} refused`);
  }
  if (rule.to === 'RUNNING' && ports.jobQueue) await ports.jobQueue.enqueue({ domain, jobId });
  ports.logger.info('operator job control', { domain, jobId, control, status: result.job.status });
  return toOperatorJob(result.job);
}

export async function getOperatorJob(ports: Pick<JobPorts, 'jobs'>, domain: string, jobId: string): Promise<OperatorJob> {
  const job = await ports.jobs.get(domain, jobId);
  if (!job) throw new JobNotFoundError(domain, jobId);
  return toOperatorJob(job);
}

/** The public view: without the runner's cursor, pending page and lease. */
export function toOperatorJob(job: StoredJob): OperatorJob {
  const { cursor: _cursor, pending: _pending, lease: _lease, leaseUntil: _until, ...view } = job;
  return view;
}
