import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { MAX_ALLOWED_ATTEMPTS } from '../resources.ts';
import type { JsonObject, JsonValue, SendCommandRequest } from '../types.ts';
import { encodeJson } from './messageBody.ts';
import { findUnstorable } from './storableJson.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Domains become part of queue names (SQS: letters, digits, - and _; 80 characters in all). */
const DOMAIN = /^[a-z0-9][a-z0-9_-]{0,39}$/i;
const IDENTIFIER_MAX = 128;
export const DEFAULT_MAX_ATTEMPTS = 3;
/**
 * Default ceiling for serialized data. The message must fit SQS (256 KiB on our queues) and, when a
 * command is parked, the DynamoDB item (400 KB, where nested data takes more room than its JSON)
 * together with its audit trail.
 */
export const DEFAULT_MAX_DATA_BYTES = 128 * 1024;

export function validateUuid(field: string, value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new ValidationError(field, `must be a UUID string (got ${describe(value)})`);
  }
  return value.toLowerCase();
}

export function validateDomain(value: unknown, field = 'domain'): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(field, `must be a non-empty string (got ${describe(value)})`);
  }
  if (!DOMAIN.test(value)) {
    throw new ValidationError(field, `must be 1-40 letters, digits, '-' or '_', starting with a letter or digit (got ${JSON.stringify(value)})`);
  }
  return value;
}

export function validateName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new ValidationError(field, `must be a non-empty string (got ${describe(value)})`);
  }
  if (value.length > IDENTIFIER_MAX) {
    throw new ValidationError(field, `must be at most ${IDENTIFIER_MAX} characters (got ${value.length})`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this refuses
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new ValidationError(field, 'must not contain control characters');
  }
  if (!value.isWellFormed()) {
    throw new ValidationError(field, 'must be well-formed Unicode (it holds a lone surrogate)');
  }
  return value;
}

/**
 * A queue *name* (not a URL): replies go only to queues of the configured account and endpoint,
 * never to a host a caller picked (the request is signed with the worker's credentials).
 */
export function validateQueueName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,75}(\.fifo)?$/.test(value)) {
    throw new ValidationError(field, `must be an SQS queue name: 1-80 letters, digits, '-' or '_' (got ${describe(value)})`);
  }
  return value;
}

export function validateMaxAttempts(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_ATTEMPTS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ALLOWED_ATTEMPTS) {
    throw new ValidationError('maxAttempts', `must be an integer from 1 to ${MAX_ALLOWED_ATTEMPTS} (got ${describe(value)})`);
  }
  return value;
}

/**
 * Checks that `value` is plain JSON that the command item can store exactly (see storableJson.ts)
 * and names the first offender by its path.
 */
export function assertJson(field: string, value: unknown): asserts value is JsonValue {
  const problem = findUnstorable(value, field);
  if (problem) throw new ValidationError(problem.path, problem.message);
}

export function validateJsonObject(field: string, value: unknown, maxBytes: number): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, `must be a JSON object (got ${describe(value)})`);
  }
  assertJson(field, value);
  // Measured as it travels: characters SQS (or its emulator) refuses raw are sent escaped.
  const bytes = Buffer.byteLength(encodeJson(value), 'utf8');
  if (bytes > maxBytes) {
    throw new ValidationError(field, `is ${bytes} bytes as JSON; the limit is ${maxBytes} bytes (SQS message and DynamoDB item sizes)`);
  }
  return value as JsonObject;
}

export interface NormalizedSend {
  domain: string;
  commandType: string;
  commandId: string;
  data: JsonObject;
  maxAttempts: number;
  correlationId: string;
  replyTo?: string;
}

export function validateSendRequest(request: SendCommandRequest, maxDataBytes = DEFAULT_MAX_DATA_BYTES): NormalizedSend {
  if (typeof request !== 'object' || request === null) {
    throw new ValidationError('request', 'must be an object');
  }
  const normalized: NormalizedSend = {
    domain: validateDomain(request.domain),
    commandType: validateName('commandType', request.commandType),
    commandId: validateUuid('commandId', request.commandId),
    data: validateJsonObject('data', request.data, maxDataBytes),
    maxAttempts: validateMaxAttempts(request.maxAttempts),
    correlationId: request.correlationId === undefined ? randomUUID() : validateName('correlationId', request.correlationId),
  };
  if (request.replyTo !== undefined) normalized.replyTo = validateQueueName('replyTo', request.replyTo);
  return normalized;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
