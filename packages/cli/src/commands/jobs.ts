/**
 * Operator jobs from the command line: `retry|cancel|complete <domain> --error-code …` acts on every
 * parked command a filter matches, as a job (dry run first, then at --rate, progress shown);
 * `jobs ls|show|start|pause|resume|cancel` look after them.
 */
import type { Command as Program } from 'commander';
import type { BulkAction, JobFilter, JsonValue, OperatorJob } from '@commandbus/core';
import { CliError, ExitCode, type Output } from '../output.ts';
import type { Context } from '../context.ts';

export interface FilterOptions {
  type?: string;
  errorCode?: string;
  errorType?: string;
  from?: string;
  to?: string;
}

export function filterOf(options: FilterOptions): JobFilter | undefined {
  const filter: JobFilter = {
    ...(options.type === undefined ? {} : { commandType: options.type }),
    ...(options.errorCode === undefined ? {} : { errorCode: options.errorCode }),
    ...(options.errorType === undefined ? {} : { errorType: options.errorType as NonNullable<JobFilter['errorType']> }),
    ...(options.from === undefined ? {} : { from: options.from }),
    ...(options.to === undefined ? {} : { to: options.to }),
  };
  return Object.keys(filter).length > 0 ? filter : undefined;
}

/** Adds the filter options of a job to retry/cancel/complete. */
export function withFilterOptions(command: Program): Program {
  return command
    .option('--type <commandType>', 'by filter: this command type')
    .option('--error-code <code>', 'by filter: this error code')
    .option('--error-type <type>', 'by filter: this error type (TRANSIENT, PERMANENT, …)')
    .option('--from <time>', 'by filter: parked at or after (ISO-8601)')
    .option('--to <time>', 'by filter: parked before (ISO-8601)')
    .option('--all', 'by filter: every parked command of the domain')
    .option('--rate <n>', 'by filter: commands per second (0.1-1000)', '10')
    .option('--dry-run', 'by filter: count and show a sample, act on nothing (the job stays a draft: `jobs start` runs it)')
    .option('--no-wait', 'by filter: start the job and return (`jobs show` follows it)');
}

/** A filter action: create the job (its dry run), then start it and follow it unless --dry-run / --no-wait. */
export async function runFilterJob(
  context: Context,
  request: { domain: string; action: BulkAction; filter: JobFilter; rate: number; reason?: string; resultData?: JsonValue; dryRun: boolean; wait: boolean },
): Promise<void> {
  const { client } = await context.target();
  const out = context.output();
  const draft = await client.createJob({
    domain: request.domain,
    action: request.action,
    filter: request.filter,
    rate: request.rate,
    ...(request.reason === undefined ? {} : { reason: request.reason }),
    ...(request.resultData === undefined ? {} : { resultData: request.resultData }),
  });
  if (request.dryRun || draft.dryRun.count === 0) {
    if (out.json) return out.data(draft);
    printJob(out, draft);
    out.note(
      draft.dryRun.count === 0
        ? 'nothing matches: the job stays a draft'
        : `dry run only: \`commandbus jobs start ${draft.domain} ${draft.jobId}\` runs it, \`commandbus jobs cancel …\` drops it`,
    );
    return;
  }
  if (!out.json)
    out.note(`${request.action} of ${draft.dryRun.exact ? '' : 'at least '}${draft.dryRun.count} parked commands at ${draft.rate}/s: job ${draft.jobId}`);
  const started = await client.startJob({ domain: draft.domain, jobId: draft.jobId });
  if (!request.wait) {
    if (out.json) return out.data(started);
    printJob(out, started);
    return;
  }
  const finished = await follow(context, started);
  if (out.json) out.data(finished);
  else printJob(out, finished);
  if (finished.status !== 'COMPLETED' || finished.progress.failed > 0) process.exitCode = ExitCode.Failed;
}

/** Polls the job until it ends (or is paused), with a progress bar on a terminal. */
async function follow(context: Context, job: OperatorJob): Promise<OperatorJob> {
  const { client } = await context.target();
  const bar = context.progress(`${job.action} ${job.jobId.slice(0, 8)}`, Math.max(1, job.dryRun.count));
  let current = job;
  try {
    while (current.status === 'RUNNING' || current.status === 'DRAFT') {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      current = await client.getJob({ domain: job.domain, jobId: job.jobId });
      const { done, skipped, failed } = current.progress;
      bar.update(done + skipped + failed);
    }
  } finally {
    bar.stop();
  }
  return current;
}

function printJob(out: Output, job: OperatorJob): void {
  const { progress, dryRun } = job;
  out.fields([
    ['job', job.jobId],
    ['domain', job.domain],
    ['action', `${job.action}${job.reason ? ` (reason: ${job.reason})` : ''}`],
    ['filter', job.filter],
    ['window', `${job.window.from ?? 'start'} .. ${job.window.to}`],
    ['rate', `${job.rate}/s`],
    ['status', job.status],
    ['matched (dry run)', `${dryRun.exact ? '' : '≥ '}${dryRun.count} (counted by ${dryRun.countedBy})`],
    ['progress', `${progress.matched} listed: ${progress.done} done, ${progress.skipped} skipped, ${progress.failed} failed`],
    ['operator', job.operatorSession ? `${job.operator} (${job.operatorSession})` : job.operator],
    ['created', job.createdAt],
    ['finished', job.finishedAt],
  ]);
  if (dryRun.sample.length > 0 && job.status === 'DRAFT') {
    out.table(
      ['SAMPLE', 'TYPE', 'ERROR', 'PARKED AT'],
      dryRun.sample.map((entry) => [entry.commandId, entry.commandType, entry.errorCode, entry.movedToTsqAt]),
    );
  }
  if (job.recentProblems.length > 0) {
    out.table(
      ['COMMAND ID', 'OUTCOME', 'CODE', 'REASON'],
      job.recentProblems.map((problem) => [problem.commandId, problem.outcome, problem.code, problem.reason]),
    );
  }
}

export function registerJobs(program: Program, context: Context): void {
  const jobs = program.command('jobs').description('operator jobs: bulk actions by filter, running in the background at a rate');
  jobs
    .command('ls')
    .argument('<domain>')
    .description("a domain's jobs, newest first")
    .action(async (domain: string) => {
      const { client } = await context.target();
      const page = await client.listJobs({ domain, limit: 50 });
      const out = context.output();
      if (out.json) return out.data(page);
      out.table(
        ['JOB', 'ACTION', 'STATUS', 'MATCHED', 'DONE', 'SKIPPED', 'FAILED', 'RATE', 'CREATED'],
        page.items.map((job) => [
          job.jobId,
          job.action,
          job.status,
          job.dryRun.count,
          job.progress.done,
          job.progress.skipped,
          job.progress.failed,
          job.rate,
          job.createdAt,
        ]),
      );
    });
  jobs
    .command('show')
    .argument('<domain>')
    .argument('<jobId>')
    .option('--follow', 'follow it until it ends, with progress')
    .description('one job: its dry run, progress and the most recent problems')
    .action(async (domain: string, jobId: string, options: { follow?: boolean }) => {
      const { client } = await context.target();
      let job = await client.getJob({ domain, jobId });
      if (options.follow) job = await follow(context, job);
      const out = context.output();
      if (out.json) return out.data(job);
      printJob(out, job);
    });
  for (const control of ['start', 'pause', 'resume', 'cancel'] as const) {
    jobs
      .command(control)
      .argument('<domain>')
      .argument('<jobId>')
      .description(
        {
          start: 'run a drafted job',
          pause: 'pause a running job (at its next page)',
          resume: 'go on from where it paused',
          cancel: 'stop it for good (what was done stays done)',
        }[control],
      )
      .action(async (domain: string, jobId: string) => {
        const { client } = await context.target();
        const ref = { domain, jobId };
        const job =
          control === 'start'
            ? await client.startJob(ref)
            : control === 'pause'
              ? await client.pauseJob(ref)
              : control === 'resume'
                ? await client.resumeJob(ref)
                : await client.cancelJob(ref);
        const out = context.output();
        if (out.json) return out.data(job);
        out.line(`${job.jobId}  ${job.status}`);
      });
  }
}

export function rateOption(text: string): number {
  const rate = Number(text);
  if (!Number.isFinite(rate) || rate < 0.1 || rate > 1000)
    throw new CliError(`--rate must be from 0.1 to 1000 commands per second (got "${text}")`, ExitCode.Usage);
  return rate;
}
