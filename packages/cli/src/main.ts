/**
 * `commandbus`: one command-line tool for the bus. Each subcommand is a thin layer over the HTTP
 * client (packages/client), so it behaves the same against the local runtime and a deployed stack.
 */
import { Command, CommanderError } from 'commander';
import { CommandBusError, CommandNotFoundError, DomainNotFoundError, readEnvironment, ValidationError } from '@commandbus/core';
import { ApiError } from '@commandbus/client';
import { registerInspect, registerStats } from './commands/inspect.ts';
import { registerOperate } from './commands/operate.ts';
import { registerRedrive } from './commands/redrive.ts';
import { registerLoad } from './commands/load.ts';
import { registerConsole } from './commands/console.ts';
import { registerJobs } from './commands/jobs.ts';
import { createContext, type GlobalOptions } from './context.ts';
import { CliError, ExitCode, isMissingPackage } from './output.ts';

const EXIT_CODES = `
Targets (first that applies): --stack <name> (a deployed stack: its ApiUrl output, calls signed with
SigV4 from the standard AWS credential chain, region from --region or AWS_REGION), --url and --token
(a running \`commandbus serve\`), else the local runtime \`commandbus serve\` started on this machine.
Environment: COMMANDBUS_STACK, COMMANDBUS_URL, COMMANDBUS_TOKEN.

Exit codes: 0 done; 1 refused or failed (a bulk action with anything not done); 2 bad command line or
input; 3 nothing to talk to; 4 not found.`;

/**
 * Entry points with options of their own, which parse their arguments themselves and stay up until
 * Ctrl-C: `local` from @commandbus/local, `serve` from @commandbus/runtime (optional peers of this
 * package: installed with it in the repository, by choice elsewhere).
 */
const PASS_THROUGH: Record<string, { package: string; load: () => Promise<(argv: string[]) => Promise<void>>; summary: string }> = {
  local: {
    package: '@commandbus/local',
    load: async () => (await import('@commandbus/local/cli')).localCli,
    summary: 'start the embedded AWS (DynamoDB Local + SQS) and print its AWS_* settings',
  },
  serve: {
    package: '@commandbus/runtime',
    load: async () => (await import('@commandbus/runtime/serve')).serve,
    summary: 'run the deployed shape here: embedded AWS, your worker (--worker) and the API Lambdas, HTTP API on 127.0.0.1',
  },
};

export function createProgram(env: NodeJS.ProcessEnv = process.env): Command {
  const program = new Command('commandbus')
    .description('Send, inspect and operate commands of a commandbus: the embedded stack, a local runtime, or a deployed stack.')
    .option('--json', 'answer in JSON (for scripts)')
    .option('--stack <name>', 'a deployed stack (CloudFormation stack name)')
    .option('--region <region>', "the deployed stack's region (default AWS_REGION)")
    .option('--url <url>', 'a commandbus HTTP API (e.g. the one `commandbus serve` printed)')
    .option('--token <token>', 'bearer token for --url')
    .option('--sigv4', 'sign calls to --url with SigV4 from the standard AWS credential chain (as --stack does)')
    .addHelpText('after', EXIT_CODES)
    // A wrong command line is one line, like every other error: `commandbus: …` and where to look.
    .configureOutput({ outputError: (message, write) => write(`${message.trim().replace(/^error: /, 'commandbus: ')} (see --help)\n`) })
    .exitOverride();
  const context = createContext(() => program.opts<GlobalOptions>(), env);

  for (const [name, { summary }] of Object.entries(PASS_THROUGH)) {
    // Listed for --help; `run` hands them their arguments before commander parses anything.
    program.command(name).description(`${summary} (\`commandbus ${name} --help\` for its options)`);
  }
  registerInspect(program, context);
  registerStats(program, context);
  registerOperate(program, context);
  registerRedrive(program, context);
  registerLoad(program, context);
  registerConsole(program, context);
  registerJobs(program, context);
  return program;
}

/** Runs the CLI; returns the exit code (the caller sets it, so tests can run it in process). */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const passThrough = argv[0] === undefined ? undefined : PASS_THROUGH[argv[0]];
  if (passThrough) {
    let main: (argv: string[]) => Promise<void>;
    try {
      main = await passThrough.load();
    } catch (error) {
      // Optional peers: an operator of a deployed stack installs neither the runtime nor the embedded AWS.
      const missing = isMissingPackage(error, passThrough.package) ? passThrough.package : undefined;
      process.stderr.write(
        missing
          ? `commandbus ${argv[0]}: needs ${missing}, which is not installed (npm install -D ${missing})\n`
          : `commandbus ${argv[0]}: cannot load it (${error instanceof Error ? error.message.split('\n')[0] : String(error)})\n`,
      );
      return ExitCode.Usage;
    }
    await main(argv.slice(1));
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  }
  const program = createProgram(env);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to commander; they were already printed.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    const { message, exitCode } = describe(error);
    process.stderr.write(`commandbus: ${message}\n`);
    if (readEnvironment(env, ['debug']).debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return exitCode;
  }
}

function describe(error: unknown): { message: string; exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof CommandNotFoundError || error instanceof DomainNotFoundError) return { message: error.message, exitCode: ExitCode.NotFound };
  if (error instanceof ValidationError) return { message: error.message, exitCode: ExitCode.Usage };
  if (error instanceof ApiError && (error.statusCode === 401 || error.statusCode === 403)) {
    return { message: `${error.message} (your token or IAM identity may not do this)`, exitCode: ExitCode.Failed };
  }
  if (error instanceof CommandBusError) return { message: error.message, exitCode: ExitCode.Failed };
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  if (error instanceof TypeError && (cause === 'ECONNREFUSED' || cause === 'ENOTFOUND' || error.message === 'fetch failed')) {
    return { message: `the API does not answer (${cause ?? error.message}): is it running?`, exitCode: ExitCode.NoTarget };
  }
  return { message: error instanceof Error ? error.message : String(error), exitCode: ExitCode.Failed };
}
