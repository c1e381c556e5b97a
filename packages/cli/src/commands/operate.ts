/** tsq ls|groups, and the operator actions: retry, cancel, complete (one id, or many as bulk actions), edit. */
import type { Command as Program } from 'commander';
import type { BulkAction, BulkResult, JsonObject, JsonValue } from '@commandbus/core';
import { commandIds, integerOption, jsonArgument, jsonObjectArgument } from '../input.ts';
import { CliError, ExitCode } from '../output.ts';
import { type Context, pageThrough } from '../context.ts';
import { printCommands } from './inspect.ts';
import { type FilterOptions, filterOf, rateOption, runFilterJob, withFilterOptions } from './jobs.ts';

/** The API's bulk limit per request. */
const BULK_CHUNK = 1000;

export function registerOperate(program: Program, context: Context): void {
  const tsq = program.command('tsq').description('the troubleshooting queue: parked commands');

  tsq
    .command('ls')
    .description('list parked commands, most recently parked first')
    .argument('<domain>')
    .option('--type <commandType>', 'only this command type')
    .option('--error-code <code>', 'only commands whose last error has this code (e.g. DEAD_LETTERED)')
    .option('--error-type <type>', 'only this error type (TRANSIENT, PERMANENT, …)')
    .option('--from <time>', 'parked at or after (ISO-8601)')
    .option('--to <time>', 'parked before (ISO-8601)')
    .option('--limit <n>', 'at most this many', integerOption(1, 100_000), 25)
    .option('--cursor <cursor>', 'go on from an earlier --json answer (its nextCursor)')
    .option('--ids', 'print only the command ids, one per line (to pipe into retry/cancel/complete)')
    .action(async (domain: string, options) => {
      const { client } = await context.target();
      const page = await pageThrough(
        (cursor, limit) =>
          client.listTsq({
            domain,
            ...(options.type === undefined ? {} : { commandType: options.type }),
            ...(options.errorCode === undefined ? {} : { errorCode: options.errorCode }),
            ...(options.errorType === undefined ? {} : { errorType: options.errorType }),
            ...(options.from === undefined ? {} : { from: options.from }),
            ...(options.to === undefined ? {} : { to: options.to }),
            limit,
            ...(cursor ? { cursor } : {}),
          }),
        options.limit,
        options.cursor,
      );
      printCommands(context, page, options.ids === true, true);
    });

  tsq
    .command('groups')
    .description('parked commands grouped by cause (command type, error type, error code), largest first, with exact counts')
    .argument('<domain>')
    .action(async (domain: string) => {
      const { client } = await context.target();
      const groups = await client.tsqGroups(domain);
      const out = context.output();
      if (out.json) return out.data(groups);
      out.table(
        ['COUNT', 'COMMAND TYPE', 'ERROR TYPE', 'ERROR CODE', 'NEWEST', 'SAMPLE'],
        groups.map((group) => [
          group.count,
          group.commandType,
          group.errorType,
          group.errorCode,
          group.newestMovedToTsqAt,
          group.sample ? `${group.sample.commandId}: ${group.sample.lastError?.message ?? ''}` : '',
        ]),
      );
    });

  for (const action of ['retry', 'cancel', 'complete'] as const) {
    const command = program
      .command(action)
      .description(
        {
          retry: 'send parked commands again (attempts start over)',
          cancel: 'cancel parked commands (their reply says CANCELLED, with the reason)',
          complete: 'complete parked commands by hand, with a result',
        }[action],
      )
      .argument('<domain>')
      .argument('[commandIds...]', 'command ids, or - to read them from stdin (e.g. from `tsq ls --ids`); or a filter instead (a job)')
      .addHelpText(
        'after',
        '\nBy ids: one request per 1,000. By filter (--error-code, --type, --error-type, --from, --to, or --all): an operator job, dry-run first, then at --rate.',
      );
    if (action === 'cancel') command.requiredOption('--reason <text>', 'why (recorded on every command and in its reply)');
    if (action === 'complete') command.option('--result <json>', 'the result every command completes with (JSON, @file or -; default null)');
    withFilterOptions(command);
    command.action(
      async (
        domain: string,
        ids: string[],
        options: FilterOptions & { reason?: string; result?: string; all?: boolean; rate: string; dryRun?: boolean; wait: boolean },
      ) => {
        const resultData = options.result === undefined ? undefined : (jsonArgument(options.result, '--result') as JsonValue);
        const extra = { ...(options.reason ? { reason: options.reason } : {}), ...(resultData === undefined ? {} : { resultData }) };
        const filter = filterOf(options) ?? (options.all ? {} : undefined);
        if (filter !== undefined) {
          if (ids.length > 0) throw new CliError('give command ids or a filter, not both', ExitCode.Usage);
          await runFilterJob(context, {
            domain,
            action,
            filter,
            rate: rateOption(options.rate),
            dryRun: options.dryRun === true,
            wait: options.wait,
            ...extra,
          });
          return;
        }
        const idList = commandIds(ids);
        if (idList.length === 0)
          throw new CliError('no command ids given (or a filter: --error-code, --type, --error-type, --from, --to, --all)', ExitCode.Usage);
        await act(context, { domain, action, commandIds: idList, ...extra });
      },
    );
  }

  program
    .command('edit')
    .description('retry a parked command with a corrected payload (the edit is kept in its history)')
    .argument('<domain>')
    .argument('<commandId>')
    .argument('<data>', 'the corrected payload: JSON object, @file.json or - for stdin')
    .action(async (domain: string, commandId: string, dataText: string) => {
      const data = jsonObjectArgument(dataText, 'data') as JsonObject;
      const { client } = await context.target();
      const command = await client.operatorEditAndRetry({ domain, commandId, data });
      const out = context.output();
      if (out.json) return out.data(command);
      out.line(`${command.commandId}  ${out.status(command.status)}  edit ${command.edits ?? 1}`);
    });
}

/** One id: the single action (its error as it is). Several: bulk requests of up to 1,000, totals summed. */
async function act(
  context: Context,
  request: { domain: string; action: BulkAction; commandIds: string[]; reason?: string; resultData?: JsonValue },
): Promise<void> {
  const { client } = await context.target();
  const out = context.output();
  if (request.commandIds.length === 1) {
    const commandId = request.commandIds[0]!;
    const command =
      request.action === 'retry'
        ? await client.operatorRetry({ domain: request.domain, commandId })
        : request.action === 'cancel'
          ? await client.operatorCancel({ domain: request.domain, commandId, reason: request.reason! })
          : await client.operatorComplete({
              domain: request.domain,
              commandId,
              ...(request.resultData === undefined ? {} : { resultData: request.resultData }),
            });
    if (out.json) return out.data(command);
    out.line(`${command.commandId}  ${out.status(command.status)}`);
    return;
  }
  const results: BulkResult[] = [];
  const progress = context.progress(request.action, request.commandIds.length);
  try {
    for (let start = 0; start < request.commandIds.length; start += BULK_CHUNK) {
      const chunk = request.commandIds.slice(start, start + BULK_CHUNK);
      results.push(await client.bulk({ ...request, commandIds: chunk }));
      progress.increment(chunk.length);
    }
  } finally {
    progress.stop();
  }
  const totals = { requested: 0, done: 0, skipped: 0, failed: 0 };
  for (const result of results) for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += result.totals[key];
  const items = results.flatMap((result) => result.results);
  if (out.json) {
    out.data({ domain: request.domain, action: request.action, bulkIds: results.map((result) => result.bulkId), totals, results: items });
  } else {
    const notDone = items.filter((item) => item.outcome !== 'done');
    if (notDone.length > 0)
      out.table(
        ['COMMAND ID', 'OUTCOME', 'CODE', 'REASON'],
        notDone.map((item) => [item.commandId, item.outcome, item.code, item.reason]),
      );
    out.line(`${request.action}: ${totals.done} done, ${totals.skipped} skipped, ${totals.failed} failed of ${totals.requested}`);
  }
  if (totals.failed > 0 || totals.skipped > 0) process.exitCode = ExitCode.Failed;
}
