import type { JsonObject } from '../types.ts';
import * as z from 'zod/mini';
import { ValidationError } from '../errors.ts';
import { encodeJson } from './messageBody.ts';
import { assertJson, validateDomain, validateMaxAttempts, validateName, validateQueueName, validateUuid } from './validation.ts';

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

/** Message attribute set on copies the worker parks in the TSQ queue: '1' for a command, 'malformed'. */
export const PARKED_ATTRIBUTE = 'cb-parked';
export const ERROR_CODE_ATTRIBUTE = 'cb-error-code';
/** On parked copies: the record they belong to and its token, so the sweeper can tell a stale copy. */
export const RECORD_ATTRIBUTE = 'cb-record';
export const TOKEN_ATTRIBUTE = 'cb-token';
/** On a message a worker sent again because it could not learn whether its writes landed: its lease. */
export const RETAKE_ATTRIBUTE = 'cb-retake';
/** How many times the message was sent again that way. */
export const RETAKES_ATTRIBUTE = 'cb-retakes';

/** A message attribute value SQS accepts: allowed characters only, bounded length. */
export function attributeValue(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters SQS allows, listed by code point
  const clean = text.toWellFormed().replace(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd]/gu, '?');
  return clean.length > 256 ? clean.slice(0, 256) : clean || '?';
}

export function encodeEnvelope(envelope: Envelope): string {
  return encodeJson(envelope);
}

const text = () => z.string({ error: 'is missing or not a string' }).check(z.minLength(1, { error: 'is missing or not a string' }));

/** The envelope's shape; the values then meet the same rules as a send (validation.ts). */
const ENVELOPE_SHAPE = z.object(
  {
    v: z.literal(1, { error: (issue) => `unknown envelope version ${JSON.stringify(issue.input)}` }),
    domain: text(),
    commandType: text(),
    commandId: text(),
    correlationId: text(),
    token: text(),
    sentAt: text(),
    data: z.record(z.string(), z.unknown(), { error: 'is missing or not an object' }),
    maxAttempts: z.int({ error: 'is not a positive integer' }).check(z.minimum(1, { error: 'is not a positive integer' })),
    replyTo: z.optional(z.string({ error: 'is not a string' })),
  },
  { error: 'body is not a JSON object' },
);

export type DecodeResult = { ok: true; envelope: Envelope } | { ok: false; reason: string };

export function decodeEnvelope(body: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: `body is not JSON (${(error as Error).message})` };
  }
  // The shape first (zod), then the rules of `send` for every value.
  const shaped = ENVELOPE_SHAPE.safeParse(parsed);
  if (!shaped.success) {
    const issue = shaped.error.issues[0]!;
    const field = issue.path[0];
    return {
      ok: false,
      reason: field === undefined ? 'body is not a JSON object' : field === 'v' ? issue.message : `field '${String(field)}' ${issue.message}`,
    };
  }
  // The values as parsed, not zod's copies: a copy would silently drop a `__proto__` key that the
  // rules below must see (and refuse).
  const m = parsed as Record<string, unknown>;
  // A message not made by `send` (another producer, a hand-made envelope) meets the same rules as a
  // send, so whatever the worker records can be listed, found by id and acted on by an operator.
  try {
    const envelope: Envelope = {
      v: 1,
      domain: validateDomain(m.domain),
      commandType: validateName('commandType', m.commandType),
      commandId: validateUuid('commandId', m.commandId),
      data: m.data as JsonObject,
      maxAttempts: validateMaxAttempts(m.maxAttempts),
      correlationId: validateName('correlationId', m.correlationId),
      token: validateName('token', m.token),
      sentAt: validateTimestamp('sentAt', m.sentAt),
    };
    assertJson('data', envelope.data);
    if (m.replyTo !== undefined) envelope.replyTo = validateQueueName('replyTo', m.replyTo);
    return { ok: true, envelope };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, reason: `field '${error.field}': ${error.message.slice(error.field.length + 2)}` };
    throw error;
  }
}

function validateTimestamp(field: string, value: unknown): string {
  if (typeof value !== 'string' || !ISO_TIMESTAMP.test(value) || Number.isNaN(Date.parse(value))) {
    throw new ValidationError(field, `must be an ISO-8601 UTC timestamp (got ${JSON.stringify(value)})`);
  }
  return value;
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
