/** What every subcommand shares: the global options, the target (resolved once, on first use), the output. */
import cliProgress from 'cli-progress';
import type { Page } from '@commandbus/core';
import { createOutput, type Output } from './output.ts';
import { resolveTarget, type Target, type TargetOptions } from './target.ts';

export interface GlobalOptions extends TargetOptions {
  json?: boolean;
}

export interface Progress {
  increment(by?: number): void;
  /** Sets how much is done. */
  update(done: number): void;
  stop(): void;
}

export interface Context {
  target(): Promise<Target>;
  output(): Output;
  /** A progress bar on stderr when it is a terminal and the work is long enough to watch; otherwise nothing. */
  progress(label: string, total: number): Progress;
}

export function createContext(globals: () => GlobalOptions, env: NodeJS.ProcessEnv = process.env): Context {
  let target: Promise<Target> | undefined;
  return {
    target: () => {
      target ??= resolveTarget(globals(), env);
      return target;
    },
    output: () => createOutput({ json: globals().json === true }),
    progress(label, total) {
      if (!process.stderr.isTTY || total < 2 || globals().json === true) return { increment() {}, update() {}, stop() {} };
      const bar = new cliProgress.SingleBar(
        { format: `${label} [{bar}] {value}/{total}  {percentage}%  eta {eta_formatted}`, stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
      return { increment: (by = 1) => bar.increment(by), update: (done) => bar.update(done), stop: () => bar.stop() };
    },
  };
}

/**
 * Reads pages until `limit` items (or the end): the API's pages hold at most 100, and a filtered page
 * may come back short with a cursor to go on from.
 */
export async function pageThrough<T>(read: (cursor: string | undefined, limit: number) => Promise<Page<T>>, limit: number, cursor?: string): Promise<Page<T>> {
  const items: T[] = [];
  let next = cursor;
  do {
    const page = await read(next, Math.min(100, Math.max(1, limit - items.length)));
    items.push(...page.items);
    next = page.nextCursor;
  } while (next !== undefined && items.length < limit);
  return { items: items.slice(0, limit), ...(next === undefined ? {} : { nextCursor: next }) };
}
