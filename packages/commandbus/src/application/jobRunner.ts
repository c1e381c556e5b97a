/**
 * Runs an operator job: pages the filtered TSQ listing from the job's checkpoint and acts on each
 * command through the single-command operator path, paced by a token bucket. Talks to ports only.
 *
 * Exactly-once accounting: before acting on a page the runner writes the page's ids as `pending`
 * (with the cursor after it); after the page it writes the outcomes, the cursor and clears
 * `pending`, together, in one conditional write on its lease. A runner that dies mid-page leaves
 * `pending`; the next one replays those ids, and a command whose audit trail already holds this
 * job's event counts as done without being acted on again (the listing alone could not tell: a
 * command acted on has left the TSQ). So every listed command is counted once, and acted on at most
 * once (the operator paths are conditional on IN_TSQ; a command re-parked after this job retried it
 * is outside the job's window, which closes at its creation).
 */
import { randomUUID } from 'node:crypto';
import { addOutcomes, isFinished, pageSizeFor, systemClock, TokenBucket, type Clock, type JobOutcome, type StoredJob } from '../domain/jobs.ts';
import { CommandBusError, CommandNotFoundError, InvalidOperationError } from '../errors.ts';
import type { CommandStore } from '../ports/CommandStore.ts';
import type { JobStore } from '../ports/JobStore.ts';
import type { Logger } from '../types.ts';

export interface JobRunPorts {
  store: Pick<CommandStore, 'listTsq' | 'auditTrail'>;
  jobs: JobStore;
  logger: Logger;
}

export interface RunJobOptions {
  domain: string;
  jobId: string;
  /** Acts on one command as the job's operator, with `{ operator…, jobId }` in the event's details. */
  act: (commandId: string) => Promise<void>;
  /** Stop at a page boundary once this much time has passed (default 60 s). */
  budgetMs?: number;
  /** How long the lease is held past each checkpoint (default 30 s). */
  leaseMs?: number;
  /** Stop at the next page boundary (a graceful stop; progress is kept). */
  signal?: AbortSignal;
  clock?: Clock;
  /** How many commands are acted on at a time within a page (the rate still bounds them; default rate/4, 4–64). */
  concurrency?: number;
}

export interface RunJobResult {
  /** `busy`: another runner holds the job; `idle`: not RUNNING (draft, paused, finished, or none). */
  stopped: 'finished' | 'paused' | 'cancelled' | 'budget' | 'aborted' | 'busy' | 'idle' | 'leaseLost';
  job?: StoredJob;
  /** Commands acted on (or replayed) in this run. */
  handled: number;
}

export async function runJob(ports: JobRunPorts, options: RunJobOptions): Promise<RunJobResult> {
  const { domain, jobId, act } = options;
  const clock = options.clock ?? systemClock;
  const budgetMs = options.budgetMs ?? 60_000;
  const leaseMs = options.leaseMs ?? 30_000;
  const startedAt = clock.now();
  const lease = randomUUID();
  const at = () => new Date(clock.now()).toISOString();

  let job = await ports.jobs.acquire(domain, jobId, lease, clock.now() + leaseMs, clock.now());
  if (!job) {
    const current = await ports.jobs.get(domain, jobId);
    return { stopped: current?.status === 'RUNNING' ? 'busy' : 'idle', ...(current ? { job: current } : {}), handled: 0 };
  }
  const bucket = new TokenBucket(job.rate, clock);
  // Enough actions in flight for the rate (an action takes a few requests), never more than the bucket allows.
  const concurrency = options.concurrency ?? Math.min(64, Math.max(4, Math.ceil(job.rate / 4)));
  // A page must be acted on well within the lease (it is extended at each checkpoint).
  const pageSize = Math.max(1, Math.min(pageSizeFor(job.rate), Math.floor((job.rate * leaseMs) / 2000)));
  const marginMs = Math.min(1_000, leaseMs / 10);
  let handled = 0;
  let leaseUntil = clock.now() + leaseMs;

  const checkpoint = async (patch: Partial<Parameters<JobStore['checkpoint']>[3]> & { outcomes?: JobOutcome[] }) => {
    const { outcomes = [], ...rest } = patch;
    const counted = addOutcomes(job!, outcomes);
    leaseUntil = rest.leaseUntil ?? clock.now() + leaseMs;
    return ports.jobs.checkpoint(domain, jobId, lease, { ...counted, ...rest, leaseUntil }, at());
  };
  const release = async (stopped: RunJobResult['stopped']): Promise<RunJobResult> => {
    const after = await checkpoint({ leaseUntil: 0 });
    if (!after) return { stopped: 'leaseLost', job: job!, handled };
    // Resumed while this runner was stopping for the pause: the resume's wake-up may have found the
    // lease still held and given up, so say "go on" (the Lambda sends a continuation).
    if (stopped === 'paused' && after.status === 'RUNNING') return { stopped: 'budget', job: after, handled };
    return { stopped, job: after, handled };
  };

  const list = (cursor: string | null | undefined) =>
    ports.store.listTsq({ domain, ...job!.filter, ...job!.window, limit: pageSize, ...(cursor ? { cursor } : {}) });
  let prefetched: { from: string; page: Promise<Awaited<ReturnType<typeof list>>> } | undefined;

  for (;;) {
    // The page to act on: the one a previous runner left unfinished, or the next of the listing.
    let ids: string[];
    let next: string | null;
    const replay = job.pending !== undefined;
    if (job.pending) {
      ids = job.pending.commandIds;
      next = job.pending.next;
    } else {
      if (job.cursor === null) {
        const done = await checkpoint({ leaseUntil: 0, complete: { finishedAt: at() } });
        return { stopped: done ? 'finished' : 'leaseLost', ...(done ? { job: done } : {}), handled };
      }
      // The page read ahead while the previous one was acted on, if it was read from here; else now.
      const ahead = prefetched !== undefined && prefetched.from === job.cursor ? prefetched.page : undefined;
      prefetched = undefined;
      const page = await (ahead ?? list(job.cursor));
      ids = page.items.map((item) => item.commandId);
      next = page.nextCursor ?? null;
      if (ids.length === 0) {
        const advanced = await checkpoint({ cursor: next });
        if (!advanced) return { stopped: 'leaseLost', job, handled };
        job = advanced;
        continue;
      }
      const written = await checkpoint({ pending: { commandIds: ids, next } });
      if (!written) return { stopped: 'leaseLost', job, handled };
      job = written;
    }

    // Read the next page while this one is acted on (it lies after this page in the listing, so what
    // this page does cannot change it), so the listing does not stall the pace between pages.
    if (next !== null) {
      const from = next;
      prefetched = { from, page: list(from).catch(() => list(from)) };
      prefetched.page.catch(() => {}); // a failure surfaces when the page is used
    }
    const outcomes = await actOnPage(ids, {
      concurrency,
      take: () => bucket.take(),
      // Never act past the lease: a runner stalled beyond it stops, and its page is replayed by the next.
      mayAct: () => clock.now() < leaseUntil - marginMs,
      act: async (commandId) => {
        if (replay && (await actedOnByJob(ports.store, domain, commandId, jobId))) return;
        await act(commandId);
      },
    });
    if (outcomes === undefined) return { stopped: 'leaseLost', job, handled };
    handled += outcomes.length;
    const after = await checkpoint({ outcomes, cursor: next, pending: null });
    if (!after) return { stopped: 'leaseLost', job, handled };
    job = after;

    if (isFinished(job.status)) return release(job.status === 'CANCELLED' ? 'cancelled' : 'finished');
    if (job.status === 'PAUSED') return release('paused');
    if (options.signal?.aborted) return release('aborted');
    const pageTimeMs = (pageSize / job.rate) * 1000;
    if (clock.now() - startedAt + pageTimeMs > budgetMs) return release('budget');
  }
}

/** Whether the command's audit trail holds an event of this job (it was acted on before a crash). */
async function actedOnByJob(store: Pick<CommandStore, 'auditTrail'>, domain: string, commandId: string, jobId: string): Promise<boolean> {
  const events = await store.auditTrail(commandId, domain);
  return events.some((event) => event.eventType.startsWith('OPERATOR_') && event.details?.jobId === jobId);
}

/** Acts on every id, paced and a few at a time; undefined when the lease ran out first (nothing of the page is counted). */
async function actOnPage(
  ids: readonly string[],
  options: { concurrency: number; take: () => Promise<void>; mayAct: () => boolean; act: (commandId: string) => Promise<void> },
): Promise<JobOutcome[] | undefined> {
  const outcomes: JobOutcome[] = new Array(ids.length);
  let next = 0;
  let expired = false;
  const lane = async () => {
    while (next < ids.length && !expired) {
      const index = next++;
      const commandId = ids[index]!;
      await options.take();
      if (!options.mayAct()) {
        expired = true;
        return;
      }
      outcomes[index] = await options.act(commandId).then(
        (): JobOutcome => ({ commandId, outcome: 'done' }),
        (error: unknown) => outcomeOf(commandId, error),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, ids.length) }, lane));
  return expired ? undefined : outcomes;
}

/** Not IN_TSQ any more, or gone: skipped; anything else: failed. */
function outcomeOf(commandId: string, error: unknown): JobOutcome {
  const skipped = error instanceof InvalidOperationError || error instanceof CommandNotFoundError;
  const code =
    error instanceof CommandBusError ? error.code : error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'INTERNAL_ERROR';
  const reason = error instanceof Error ? error.message : String(error);
  return { commandId, outcome: skipped ? 'skipped' : 'failed', code, reason };
}
