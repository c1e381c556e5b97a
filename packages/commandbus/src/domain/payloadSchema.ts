/**
 * Typed commands: a payload checked against the schema registered for its (domain, commandType).
 * Any Standard Schema (https://standardschema.dev: zod, valibot, arktype, …) will do; its `validate`
 * may answer at once or with a promise. Pure: no I/O beyond what the schema itself does.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { PermanentCommandError, ValidationError } from '../errors.ts';

/** A schema for a command's `data`: a Standard Schema (v1) whose output is what the handler gets. */
export type CommandSchema<Output = unknown> = StandardSchemaV1<unknown, Output>;

/** The output type of a schema: what a handler registered with it receives as `command.data`. */
export type SchemaOutput<S extends StandardSchemaV1> = StandardSchemaV1.InferOutput<S>;

/** The error code of a command whose payload does not match its schema (parked at once, PERMANENT). */
export const INVALID_PAYLOAD = 'INVALID_PAYLOAD';

/** One problem the schema found, its path written from `data` (`data.items[0].sku`). */
export interface PayloadIssue {
  path: string;
  message: string;
}

/** Issues named in a message (and kept in an error's details) at most; the count says how many more. */
export const MAX_LISTED_ISSUES = 10;
const MAX_ISSUE_MESSAGE = 200;

export type PayloadCheck = { ok: true; value: unknown } | { ok: false; issues: PayloadIssue[] };

/** Refuses anything that is not a Standard Schema v1, naming `field`. */
export function assertCommandSchema(field: string, schema: unknown): asserts schema is CommandSchema {
  const props = (schema as { '~standard'?: { version?: unknown; validate?: unknown } } | null | undefined)?.['~standard'];
  if (typeof props !== 'object' || props === null || props.version !== 1 || typeof props.validate !== 'function') {
    throw new ValidationError(field, 'must be a Standard Schema v1 (an object with `~standard.validate`, as zod, valibot and arktype schemas have)');
  }
}

/** Runs the schema over `data`: its output, or its issues with their paths from `data`. */
export async function checkPayload(schema: CommandSchema, data: unknown): Promise<PayloadCheck> {
  const result = await schema['~standard'].validate(data);
  if (!result.issues) return { ok: true, value: result.value };
  const issues = result.issues.map((issue) => ({ path: issuePath(issue.path), message: clip(String(issue.message), MAX_ISSUE_MESSAGE) }));
  // A failure without issues still fails: it is named on `data` itself.
  return { ok: false, issues: issues.length > 0 ? issues : [{ path: 'data', message: 'does not match the schema' }] };
}

/** `send` and an operator's edit: the schema's output, or a ValidationError on the first issue's path naming every issue. */
export async function validatePayload(schema: CommandSchema, data: unknown): Promise<unknown> {
  const checked = await checkPayload(schema, data);
  if (checked.ok) return checked.value;
  const [first, ...rest] = checked.issues as [PayloadIssue, ...PayloadIssue[]];
  const more = rest.length === 0 ? '' : ` (and ${rest.length} more: ${describeIssues(rest)})`;
  throw new ValidationError(first.path, `${first.message}${more}`);
}

/**
 * The worker: the schema's output for the handler, or a PermanentCommandError INVALID_PAYLOAD whose
 * message names the issues (paths and messages, bounded) and whose details list them.
 */
export async function payloadForHandler(schema: CommandSchema, data: unknown, commandType: string): Promise<unknown> {
  const checked = await checkPayload(schema, data);
  if (checked.ok) return checked.value;
  const listed = checked.issues.slice(0, MAX_LISTED_ISSUES);
  throw new PermanentCommandError(INVALID_PAYLOAD, `data does not match the schema of ${commandType}: ${describeIssues(checked.issues)}`, {
    issues: listed.map((issue) => ({ path: issue.path, message: issue.message })),
    ...(checked.issues.length > listed.length ? { moreIssues: checked.issues.length - listed.length } : {}),
  });
}

/** `data.a: message; data.b[0]: message`, at most MAX_LISTED_ISSUES of them. */
export function describeIssues(issues: PayloadIssue[]): string {
  const listed = issues
    .slice(0, MAX_LISTED_ISSUES)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
  return issues.length > MAX_LISTED_ISSUES ? `${listed}; … ${issues.length - MAX_LISTED_ISSUES} more` : listed;
}

/** A Standard Schema issue path as written from `data`: `data`, `data.amount`, `data.items[0]`, `data["a b"]`. */
export function issuePath(path: StandardSchemaV1.Issue['path']): string {
  let written = 'data';
  for (const segment of path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    if (typeof key === 'number') written += `[${key}]`;
    else if (typeof key === 'symbol') written += `[${key.toString()}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) written += `.${key}`;
    else if (/^(0|[1-9]\d*)$/.test(key)) written += `[${key}]`;
    else written += `[${JSON.stringify(key)}]`;
  }
  return written;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
