/** load: the load test (see load/runLoad.ts), with progress, a summary, and JSON + HTML reports. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command as Program } from 'commander';
import { InvalidArgumentError } from 'commander';
import { integerOption, positiveNumber } from '../input.ts';
import { htmlReport, summaryLines } from '../load/report.ts';
import { MixError, parseMix } from '../load/mix.ts';
import { runLoad, type LoadPhase } from '../load/runLoad.ts';
import { ExitCode } from '../output.ts';
import type { Context, Progress } from '../context.ts';

export function registerLoad(program: Program, context: Context): void {
  program
    .command('load')
    .description('send N commands of the test app with a behaviour mix, wait until each has ended, and report latency, throughput, memory and cost')
    .option('--count <n>', 'commands to send', integerOption(1, 10_000_000), 10_000)
    .option('--rate <n>', 'commands per second (default: as fast as --concurrency sends go)', positiveNumber)
    .option('--concurrency <n>', 'sends in flight at once', integerOption(1, 1000), 32)
    .option(
      '--mix <mix>',
      'behaviours and weights: success, fail_permanent, fail_transient, fail_transient_then_succeed, timeout',
      (text: string) => {
        try {
          return parseMix(text);
        } catch (error) {
          if (error instanceof MixError) throw new InvalidArgumentError(error.message);
          throw error;
        }
      },
      parseMix('success=100'),
    )
    .option('--domain <domain>', "the test app's domain", 'test')
    .option('--type <commandType>', "the test app's command type", 'TestCommand')
    .option('--stall-timeout <seconds>', 'give up when no command has ended for this long', integerOption(1, 86_400), 120)
    .option('--report <dir>', 'write report.json and report.html here', `commandbus-load-${new Date().toISOString().replace(/[:.]/g, '-')}`)
    .option('--no-report', 'write no report files')
    .addHelpText(
      'after',
      '\nExits 1 unless every command sent reached the status its behaviour must end in. Cost is counted on a local runtime started with `commandbus serve --meter`.',
    )
    .action(async (options) => {
      const target = await context.target();
      const out = context.output();
      let bar: Progress | undefined;
      let phase: LoadPhase | undefined;
      const report = await runLoad(
        {
          count: options.count,
          ...(options.rate === undefined ? {} : { rate: options.rate }),
          concurrency: options.concurrency,
          mix: options.mix,
          domain: options.domain,
          commandType: options.type,
          stallTimeoutSeconds: options.stallTimeout,
        },
        {
          client: target.client,
          description: target.description,
          ...(target.local ? { workerPid: target.local.pid } : {}),
          ...(target.local?.meterUrl ? { meter: { url: target.local.meterUrl, token: target.local.token } } : {}),
        },
        (current, done, total) => {
          if (current !== phase) {
            bar?.stop();
            phase = current;
            bar = context.progress(current === 'send' ? 'sending' : 'waiting for every command to end', total);
          }
          bar?.update(done);
        },
      );
      bar?.stop();
      if (options.report !== false) {
        const dir = resolve(options.report);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
        writeFileSync(join(dir, 'report.html'), htmlReport(report));
        out.note(`report: ${join(dir, 'report.html')}`);
      }
      if (out.json) out.data({ ...report, series: undefined });
      else for (const line of summaryLines(report)) out.line(line);
      if (!report.ok) process.exitCode = ExitCode.Failed;
    });
}
