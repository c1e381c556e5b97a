/** send, get, audit, history, ls, counts: sending commands and looking at them. */
import { randomUUID } from 'node:crypto';
import type { Command as Program } from 'commander';
import { CommandStatus, type Command, type JsonObject } from '@commandbus/core';
import { integerOption, jsonObjectArgument } from '../input.ts';
import { CliError, ExitCode } from '../output.ts';
import { type Context, pageThrough } from '../context.ts';

export function registerInspect(program: Program, context: Context): void {
  program
    .command('send')
    .description('send a command (or --count of them, each with a fresh id)')
    .argument('<domain>', 'the domain (its queue must exist)')
    .argument('<commandType>', 'the command type the handler knows')
    .argument('[data]', 'the payload: JSON object, @file.json or - for stdin', '{}')
    .option('--id <uuid>', 'the command id (default: a new UUID); the idempotency key with the domain')
    .option('--count <n>', 'send this many commands with the same payload (ids generated)', integerOption(1, 100_000), 1)
    .option('--max-attempts <n>', 'attempts before the command is parked (1-25, default 3)', integerOption(1, 25))
    .option('--correlation-id <id>', 'ties related commands together (default: a new UUID)')
    .option('--reply-to <queue>', 'queue name that gets the reply when the command ends')
    .action(async (domain: string, commandType: string, dataText: string, options) => {
      const data = jsonObjectArgument(dataText, 'data') as JsonObject;
      if (options.id !== undefined && options.count > 1) throw new CliError('--id names one command: it cannot go with --count', ExitCode.Usage);
      const { client } = await context.target();
      const results = [];
      const progress = context.progress('sending', options.count);
      try {
        for (let sent = 0; sent < options.count; sent++) {
          results.push(
            await client.send({
              domain,
              commandType,
              commandId: options.id ?? randomUUID(),
              data,
              ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
              ...(options.correlationId === undefined ? {} : { correlationId: options.correlationId }),
              ...(options.replyTo === undefined ? {} : { replyTo: options.replyTo }),
            }),
          );
          progress.increment();
        }
      } finally {
        progress.stop();
      }
      const out = context.output();
      if (out.json) return out.data(options.count === 1 ? results[0] : results);
      out.table(
        ['COMMAND ID', 'STATUS', 'CORRELATION ID'],
        results.map((result) => [result.commandId, out.status(result.status), result.correlationId]),
      );
    });

  program
    .command('get')
    .description('show one command: status, attempts, payload (where stored), result, last error')
    .argument('<domain>')
    .argument('<commandId>')
    .action(async (domain: string, commandId: string) => {
      const { client } = await context.target();
      const command = await client.getCommand(domain, commandId);
      if (command === undefined) throw new CliError(`command ${commandId} not found in domain ${domain}`, ExitCode.NotFound);
      const out = context.output();
      if (out.json) return out.data(command);
      out.fields([
        ['domain', command.domain],
        ['commandId', command.commandId],
        ['commandType', command.commandType],
        ['status', out.status(command.status)],
        ['attempts', `${command.attempts} of ${command.maxAttempts}`],
        ['correlationId', command.correlationId],
        ['replyTo', command.replyTo],
        ['createdAt', command.createdAt],
        ['updatedAt', command.updatedAt],
        ['lastError', command.lastError ? `${command.lastError.type} ${command.lastError.code}: ${command.lastError.message}` : undefined],
        ['result', command.result],
        ['data', command.data],
        ['edits', command.edits],
      ]);
    });

  program
    .command('audit')
    .description("a command's audit trail, oldest first, with every event's details")
    .argument('<domain>')
    .argument('<commandId>')
    .action(async (domain: string, commandId: string) => {
      const { client } = await context.target();
      const events = await client.getAuditTrail(commandId, domain);
      if (events.length === 0) throw new CliError(`command ${commandId} not found in domain ${domain}`, ExitCode.NotFound);
      const out = context.output();
      if (out.json) return out.data(events);
      out.table(
        ['TIME', 'EVENT', 'ATTEMPT', 'DETAILS'],
        events.map((event) => [event.timestamp, event.eventType, event.attempt, Object.keys(event.details).length ? event.details : '']),
      );
    });

  program
    .command('history')
    .description("a command's payload edits (edit-and-retry), oldest first: who, when, before and after")
    .argument('<domain>')
    .argument('<commandId>')
    .action(async (domain: string, commandId: string) => {
      const { client } = await context.target();
      const edits = await pageThrough((cursor) => client.getCommandHistory({ domain, commandId, ...(cursor ? { cursor } : {}) }), Number.POSITIVE_INFINITY);
      const out = context.output();
      if (out.json) return out.data(edits.items);
      out.table(
        ['#', 'EDITED AT', 'OPERATOR', 'BEFORE', 'AFTER'],
        edits.items.map((edit) => [edit.editNumber, edit.editedAt, edit.operator, edit.before, edit.after]),
      );
    });

  program
    .command('ls')
    .description("list a domain's commands, newest first")
    .argument('<domain>')
    .option('--status <status>', `only this status (${Object.values(CommandStatus).join(', ')})`)
    .option('--type <commandType>', 'only this command type')
    .option('--from <time>', 'created at or after (ISO-8601)')
    .option('--to <time>', 'created before (ISO-8601)')
    .option('--correlation-id <id>', 'only the commands of this correlation (narrow with --from/--to: it reads the window)')
    .option(
      '--by-stats',
      'with --status: read only the minutes the stats say hold that status (bounded reads for a rare status; as eventually consistent as the stats)',
    )
    .option('--limit <n>', 'at most this many (pages are read until reached)', integerOption(1, 100_000), 25)
    .option('--cursor <cursor>', 'go on from where an earlier --json answer stopped (its nextCursor)')
    .option('--ids', 'print only the command ids, one per line (to pipe into retry/cancel/complete)')
    .action(async (domain: string, options) => {
      const { client } = await context.target();
      if (options.byStats && options.status === undefined) throw new CliError('--by-stats needs --status', ExitCode.Usage);
      const page = await pageThrough(
        (cursor, limit) =>
          options.byStats
            ? client.queryByStatus({
                domain,
                status: options.status,
                ...(options.from === undefined ? {} : { from: options.from }),
                ...(options.to === undefined ? {} : { to: options.to }),
                limit,
                ...(cursor ? { cursor } : {}),
              })
            : client.queryCommands({
                domain,
                ...(options.status === undefined ? {} : { status: options.status }),
                ...(options.type === undefined ? {} : { commandType: options.type }),
                ...(options.from === undefined ? {} : { from: options.from }),
                ...(options.to === undefined ? {} : { to: options.to }),
                ...(options.correlationId === undefined ? {} : { correlationId: options.correlationId }),
                limit,
                ...(cursor ? { cursor } : {}),
              }),
        options.limit,
        options.cursor,
      );
      printCommands(context, page, options.ids === true);
    });

  program
    .command('counts')
    .description("how many of a domain's commands are in each status (created in a time window, default the last 24 hours)")
    .argument('<domain>')
    .option('--from <time>', 'created at or after (ISO-8601)')
    .option('--to <time>', 'created before (ISO-8601)')
    .action(async (domain: string, options) => {
      const { client } = await context.target();
      const counts = await client.countByStatus({
        domain,
        ...(options.from === undefined ? {} : { from: options.from }),
        ...(options.to === undefined ? {} : { to: options.to }),
      });
      const out = context.output();
      if (out.json) return out.data(counts);
      out.table(
        ['STATUS', 'COMMANDS'],
        Object.entries(counts.counts).map(([status, count]) => [out.status(status), count]),
      );
      out.note(out.dim(`created ${counts.from} .. ${counts.to}${counts.truncated ? ` (counted the newest ${counts.counted}; more exist)` : ''}`));
    });
}

export function registerStats(program: Program, context: Context): void {
  program
    .command('stats')
    .description(
      "a domain's exact counts by status and its rates (sent, completed, failed, parked; latency p50/p99) for a window, from the stream's aggregates",
    )
    .argument('<domain>')
    .option('--from <time>', 'window start (ISO-8601; default 24 hours before --to)')
    .option('--to <time>', 'window end (ISO-8601; default now)')
    .option('--series <granularity>', 'also a series per minute, hour or day')
    .action(async (domain: string, options: { from?: string; to?: string; series?: 'minute' | 'hour' | 'day' }) => {
      const { client } = await context.target();
      const stats = await client.stats({
        domain,
        ...(options.from === undefined ? {} : { from: options.from }),
        ...(options.to === undefined ? {} : { to: options.to }),
        ...(options.series === undefined ? {} : { series: options.series }),
      });
      const out = context.output();
      if (out.json) return out.data(stats);
      out.table(
        ['STATUS', 'COMMANDS'],
        Object.entries(stats.counts).map(([status, count]) => [out.status(status), count]),
      );
      const { totals } = stats;
      out.line(
        `\nin the window: ${totals.sent} sent, ${totals.completed} completed, ${totals.failed} failed attempts, ${totals.parked} parked, ${totals.cancelled} cancelled; latency p50 ${totals.latencyP50Ms ?? '-'} ms, p99 ${totals.latencyP99Ms ?? '-'} ms`,
      );
      if (stats.series) {
        out.table(
          ['FROM', 'SENT', 'COMPLETED', 'FAILED', 'PARKED', 'P50 MS', 'P99 MS'],
          stats.series.points.map((point) => [point.bucket, point.sent, point.completed, point.failed, point.parked, point.latencyP50Ms, point.latencyP99Ms]),
        );
      }
      out.note(out.dim(`created ${stats.from} .. ${stats.to}; aggregated as of ${stats.asOf ?? 'nothing yet'}`));
    });

  const shards = program.command('shards').description("a domain's index shard count (the ceiling of its sends and parks per second)");
  shards
    .command('get')
    .argument('<domain>')
    .description('what writers use, what readers query, and a pending change')
    .action(async (domain: string) => {
      const { client } = await context.target();
      const settings = await client.getShardSettings(domain);
      const out = context.output();
      if (out.json) return out.data(settings);
      out.fields(Object.entries(settings));
    });
  shards
    .command('set')
    .argument('<domain>')
    .argument('<shards>', 'the new count (1-256; ≈ 1,000 sends/s each on AWS)', integerOption(1, 256))
    .description('raise (readers at once, writers 2 minutes later: no downtime) or lower (writers only) the shard count')
    .action(async (domain: string, count: number) => {
      const { client } = await context.target();
      const settings = await client.setShardCount({ domain, shards: count });
      const out = context.output();
      if (out.json) return out.data(settings);
      out.fields(Object.entries(settings));
    });
}

export function printCommands(context: Context, page: { items: Command[]; nextCursor?: string }, idsOnly: boolean, movedAt = false): void {
  const out = context.output();
  if (idsOnly) {
    for (const command of page.items) out.line(command.commandId);
    return;
  }
  if (out.json) {
    out.data(page);
    return;
  }
  out.table(
    ['COMMAND ID', 'TYPE', 'STATUS', 'ATTEMPTS', movedAt ? 'PARKED AT' : 'CREATED AT', 'LAST ERROR'],
    page.items.map((command) => [
      command.commandId,
      command.commandType,
      out.status(command.status),
      `${command.attempts}/${command.maxAttempts}`,
      movedAt ? (command as Command & { movedToTsqAt?: string }).movedToTsqAt : command.createdAt,
      command.lastError ? `${command.lastError.code}: ${command.lastError.message}` : '',
    ]),
  );
  if (page.nextCursor) out.note(out.dim(`more: --cursor ${page.nextCursor}`));
}
