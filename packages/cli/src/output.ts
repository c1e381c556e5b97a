/**
 * How the CLI answers: aligned tables for people (colour only when stdout is a terminal and
 * NO_COLOR is unset), JSON for scripts (`--json`), one clear line on stderr for an error, and an
 * exit code that says what kind of failure it was.
 */
import { styleText } from 'node:util';
import Table from 'cli-table3';

export const ExitCode = {
  Ok: 0,
  /** The bus refused or failed the operation (or some of a bulk action did not succeed). */
  Failed: 1,
  /** The command line itself is wrong. */
  Usage: 2,
  /** Nothing to talk to: no local runtime, a stack that cannot be read, an API that does not answer. */
  NoTarget: 3,
  /** The command (or domain) asked for does not exist. */
  NotFound: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI reports as one line, with its exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = ExitCode.Failed) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export interface Output {
  json: boolean;
  /** Writes a value as JSON (for --json) — one document per command. */
  data(value: unknown): void;
  /** A table of rows (each an array of cells), with a header. */
  table(head: string[], rows: unknown[][]): void;
  /** `key  value` lines, aligned. */
  fields(entries: [string, unknown][]): void;
  line(text?: string): void;
  /** Progress and notes: stderr, so stdout stays the answer. */
  note(text: string): void;
  dim(text: string): string;
  bold(text: string): string;
  status(status: string): string;
}

const STATUS_COLOURS: Record<string, Parameters<typeof styleText>[0]> = {
  COMPLETED: 'green',
  IN_TSQ: 'red',
  CANCELLED: 'yellow',
  IN_PROGRESS: 'cyan',
  PENDING: 'blue',
};

export function createOutput(options: { json: boolean }, stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr): Output {
  const colour = (format: Parameters<typeof styleText>[0], text: string) => styleText(format, text, { stream: stdout });
  const write = (text: string) => stdout.write(`${text}\n`);
  return {
    json: options.json,
    data: (value) => write(JSON.stringify(value, null, 2)),
    table(head, rows) {
      const table = new Table({
        head: head.map((cell) => colour('bold', cell)),
        style: { head: [], border: [], compact: true },
        chars: {
          top: '',
          'top-mid': '',
          'top-left': '',
          'top-right': '',
          bottom: '',
          'bottom-mid': '',
          'bottom-left': '',
          'bottom-right': '',
          left: '',
          'left-mid': '',
          mid: '',
          'mid-mid': '',
          right: '',
          'right-mid': '',
          middle: '  ',
        },
      });
      for (const row of rows) table.push(row.map(cell));
      write(table.toString().replace(/^ /gm, '').replace(/ +$/gm, ''));
    },
    fields(entries) {
      const width = Math.max(...entries.map(([key]) => key.length));
      for (const [key, value] of entries) write(`${colour('dim', key.padEnd(width))}  ${cell(value)}`);
    },
    line: (text = '') => write(text),
    note: (text) => stderr.write(`${text}\n`),
    dim: (text) => colour('dim', text),
    bold: (text) => colour('bold', text),
    status: (status) => colour(STATUS_COLOURS[status] ?? 'reset', status),
  };
}

/** A value as one table cell: strings as they are, absent as '', anything else as compact JSON. */
function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Node could not find the package `name` itself (not a module it imports in turn): an optional peer not installed. */
export function isMissingPackage(error: unknown, name: string): boolean {
  return (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(`'${name}'`);
}
