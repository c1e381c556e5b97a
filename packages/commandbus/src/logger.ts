import { readEnvironment } from './environment.ts';
import type { Logger } from './types.ts';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/**
 * Structured JSON lines on stderr, laid out as the Lambdas' Powertools Logger lays out its own
 * (`level` in capitals, `message`, `timestamp`, `service`, then the line's keys), so a long-running
 * Worker and the Lambdas log in one format. The level comes from COMMANDBUS_LOG_LEVEL (default warn),
 * so a library stays quiet unless asked.
 */
export function createConsoleLogger(level: Level = readEnvironment(process.env, ['logLevel']).logLevel ?? 'warn', service = 'commandbus'): Logger {
  const threshold = Math.max(0, LEVELS.indexOf(level));
  const write = (at: Level) => (message: string, context?: Record<string, unknown>) => {
    if (LEVELS.indexOf(at) < threshold) return;
    process.stderr.write(`${JSON.stringify({ level: at.toUpperCase(), message, timestamp: new Date().toISOString(), service, ...context })}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
