import type { JsonObject } from '../types.ts';
import { encodeJson } from './messageBody.ts';

/**
 * The SQS message body. It carries everything needed to process a command, so the happy path never
 * stores the payload in DynamoDB, and a worker can record a command whose send crashed half-way.
 */
export interface Envelope {
  v: 1;
  domain: string;
  commandType: string;
  commandId: string;
  data: JsonObject;
  maxAttempts: number;
  correlationId: string;
  replyTo?: string;
  /** Identifies this enqueue. A message whose token differs from the command's is a stale copy. */
  token: string;
  /** When the command was first sent (ISO-8601). */
  sentAt: string;
}

/** Message attribute set on copies the worker parks in the TSQ queue. */
export const PARKED_ATTRIBUTE = 'cb-parked';
export const ERROR_CODE_ATTRIBUTE = 'cb-error-code';

export function encodeEnvelope(envelope: Envelope): string {
  return encodeJson(envelope);
}

export type DecodeResult = { ok: true; envelope: Envelope } | { ok: false; reason: string };

export function decodeEnvelope(body: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: `body is not JSON (${(error as Error).message})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'body is not a JSON object' };
  }
  const m = parsed as Record<string, unknown>;
  if (m.v !== 1) return { ok: false, reason: `unknown envelope version ${JSON.stringify(m.v)}` };
  for (const field of ['domain', 'commandType', 'commandId', 'correlationId', 'token', 'sentAt'] as const) {
    if (typeof m[field] !== 'string' || (m[field] as string).length === 0) {
      return { ok: false, reason: `field '${field}' is missing or not a string` };
    }
  }
  if (typeof m.data !== 'object' || m.data === null || Array.isArray(m.data)) {
    return { ok: false, reason: "field 'data' is missing or not an object" };
  }
  if (typeof m.maxAttempts !== 'number' || !Number.isInteger(m.maxAttempts) || m.maxAttempts < 1) {
    return { ok: false, reason: "field 'maxAttempts' is not a positive integer" };
  }
  if (m.replyTo !== undefined && typeof m.replyTo !== 'string') {
    return { ok: false, reason: "field 'replyTo' is not a string" };
  }
  return { ok: true, envelope: m as unknown as Envelope };
}
