/** Parsing what people type: JSON values (inline, @file or - for stdin), id lists, numbers. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { CliError, ExitCode } from './output.ts';

/** `'{"a":1}'`, `@payload.json` or `-` (stdin) as JSON. */
export function jsonArgument(text: string, what: string): unknown {
  const source = text === '-' ? readFileSync(0, 'utf8') : text.startsWith('@') ? readFile(text.slice(1), what) : text;
  try {
    return JSON.parse(source);
  } catch (error) {
    throw new CliError(`${what} is not JSON (${(error as Error).message})`, ExitCode.Usage);
  }
}

export function jsonObjectArgument(text: string, what: string): Record<string, unknown> {
  const value = jsonArgument(text, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliError(`${what} must be a JSON object`, ExitCode.Usage);
  return value as Record<string, unknown>;
}

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`${what}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, ExitCode.Usage);
  }
}

/** A whole number in [min, max], for commander's option parsers. */
export function integerOption(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return value;
  };
}

/** A positive number (a rate), for commander's option parsers. */
export function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('must be a number above 0');
  return value;
}

/**
 * Command ids from the arguments, or read from stdin when the only argument is `-` (one per line, or
 * whitespace-separated; so `commandbus tsq ls … --ids | commandbus retry payments -` works).
 */
export function commandIds(args: string[]): string[] {
  const ids = args.length === 1 && args[0] === '-' ? readFileSync(0, 'utf8').split(/\s+/) : args;
  return [...new Set(ids.map((id) => id.trim()).filter(Boolean))];
}
