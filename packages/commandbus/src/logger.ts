import { readEnvironment } from './environment.ts';
import type { Logger } from './types.ts';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/**
 * Structured JSON lines on stderr. The level comes from COMMANDBUS_LOG_LEVEL (default warn), so a
 * library stays quiet unless asked.
 */
export function createConsoleLogger(level: Level = readEnvironment(process.env, ['logLevel']).logLevel ?? 'warn'): Logger {
  const threshold = Math.max(0, LEVELS.indexOf(level));
  const write = (at: Level) => (message: string, context?: Record<string, unknown>) => {
    if (LEVELS.indexOf(at) < threshold) return;
    process.stderr.write(`${JSON.stringify({ level: at, time: new Date().toISOString(), message, ...context })}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
