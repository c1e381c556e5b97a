import { PermanentCommandError, TransientCommandError } from '../errors.ts';
import type { CommandError } from '../types.ts';

/** Keeps stored error messages bounded: an audit trail lives inside one DynamoDB item. */
const MAX_MESSAGE_LENGTH = 1000;
/** Error details and results share the command's DynamoDB item (400 KB) with the payload and trail. */
export const MAX_DETAILS_BYTES = 8 * 1024;
export const MAX_RESULT_BYTES = 64 * 1024;

export class HandlerTimeoutError extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`handler did not finish within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
    this.name = 'HandlerTimeoutError';
  }
}

/** Transient and permanent errors keep their code; a timeout is TIMEOUT; anything else is transient. */
export function classifyError(error: unknown): CommandError {
  if (error instanceof PermanentCommandError) return withDetails({ type: 'PERMANENT', code: error.code, message: truncate(error.message) }, error.details);
  if (error instanceof TransientCommandError) return withDetails({ type: 'TRANSIENT', code: error.code, message: truncate(error.message) }, error.details);
  if (error instanceof HandlerTimeoutError) return { type: 'TIMEOUT', code: 'TIMEOUT', message: error.message };
  if (error instanceof Error) return { type: 'TRANSIENT', code: error.name || 'Error', message: truncate(error.message) };
  return { type: 'TRANSIENT', code: 'UNKNOWN', message: truncate(`non-Error thrown: ${safeString(error)}`) };
}

function withDetails(error: CommandError, details: CommandError['details']): CommandError {
  if (details === undefined) return error;
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(details), 'utf8');
  } catch {
    return { ...error, details: { dropped: 'error details were not JSON' } };
  }
  return bytes <= MAX_DETAILS_BYTES ? { ...error, details } : { ...error, details: { dropped: `error details of ${bytes} bytes exceed ${MAX_DETAILS_BYTES}` } };
}

function truncate(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}… (truncated)` : message;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
