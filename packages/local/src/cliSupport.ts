/**
 * Shared error handling for the command-line entry points (packages/local/src/cli.ts,
 * scripts/serve.ts): a failure is one clear line on stderr and exit code 1, never a stack trace
 * (COMMANDBUS_DEBUG=1 adds it, for bug reports).
 */
import { readEnvironment } from '@commandbus/core';
import { JavaNotFoundError } from './dynamoDbLocal.ts';
import { PortInUseError, type PortService } from './ports.ts';

/** Bad command-line input; its message is shown as is. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

/** `--flag` value as a port: a whole number 0..65535 (0: any free port). */
export function portOption(value: string, flag: string): number {
  const port = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new CliUsageError(`${flag} must be a port number from 0 to 65535, 0 for any free port (got "${value}")`);
  }
  return port;
}

/** Comma-separated, non-empty list. */
export function listOption(value: string, flag: string): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new CliUsageError(`${flag} needs at least one name (got "${value}")`);
  return items;
}

/** One line (or a few, for a child's output) saying what went wrong and what to do about it. */
export function describeFailure(error: unknown, portFlags: Partial<Record<PortService, string>> = {}): string {
  if (error instanceof PortInUseError) {
    const flag = portFlags[error.service];
    return flag ? `${error.message} (choose another with ${flag}, or ${flag} 0 for any free port)` : error.message;
  }
  if (error instanceof JavaNotFoundError || error instanceof CliUsageError) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
    return `${(error as Error).message.replace(/\s*\n\s*/g, ' ')} (see --help)`; // parseArgs spreads some over lines
  }
  if (error instanceof Error) return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}

/**
 * Runs a CLI's main. On failure, main has already stopped whatever it started; this prints the
 * reason and exits 1 (explicitly: an SDK socket or a worker thread must not keep the process up).
 */
export async function runCli(program: string, main: () => Promise<void>, portFlags: Partial<Record<PortService, string>> = {}): Promise<void> {
  try {
    await main();
  } catch (error) {
    process.stderr.write(`${program}: ${describeFailure(error, portFlags)}\n`);
    if (readEnvironment(process.env, ['debug']).debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  }
}
