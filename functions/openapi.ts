/**
 * The HTTP API's operations — route, operationId, parameters, body, answer and every refusal — and
 * the OpenAPI 3.1 document generated from them and the schemas of schemas.ts (served at
 * GET /openapi.json). The router (api.ts) is built from the same operations, so a route cannot be
 * served without being documented. The fuzz test (e2e/api/fuzz.test.ts) holds the API to the
 * document: each answer's status must be listed for its operation, and its body must match.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { ERROR_HTTP, type CommandSchema, type CommandSchemaLookup, type HttpErrorCode, type RegisteredSchema } from '@commandbus/core';
import { z } from 'zod';
import { EDGE_ERRORS, type EdgeErrorCode } from './http.ts';
import {
  AuditTrail,
  BulkActionName,
  BulkBody,
  BulkResult,
  CancelBody,
  Command,
  CommandId,
  CommandHistory,
  CommandPage,
  CompleteBody,
  DomainName,
  EditRetryBody,
  ErrorType,
  ErrorBody,
  GatewayError,
  JobBody,
  JobControlName,
  JobPage,
  OpenApiDocument,
  OperatorJob,
  RetryBody,
  SendCommand,
  SendResult,
  ShardCountBody,
  ShardSettings,
  Status,
  StatusCounts,
  DomainStats,
  TsqGroups,
  TsqPage,
} from './schemas.ts';

/**
 * Answers that neither the function nor the library chooses: the local runtime's (in the `Error`
 * shape) and API Gateway's (in its own, `GatewayError`), before the function runs.
 */
const PLATFORM_ANSWERS = {
  PAYLOAD_TOO_LARGE: { status: 413, type: 'PayloadTooLarge' },
  TOO_MANY_REQUESTS: { status: 429, type: 'TooManyRequests' },
  REQUEST_HEADER_FIELDS_TOO_LARGE: { status: 431, type: 'RequestHeaderFieldsTooLarge' },
} as const;

/** Every refusal an operation can document, by code. */
export type RefusalCode = HttpErrorCode | EdgeErrorCode | keyof typeof PLATFORM_ANSWERS;

/** What each refusal means, for the document's readers; status and type come from the tables. */
const REFUSALS: Record<RefusalCode, { status: number; type: string; when: string; gatewayOnly?: true }> = {
  VALIDATION_ERROR: { ...ERROR_HTTP.VALIDATION_ERROR, when: 'bad input; `field` names it' },
  COMMAND_NOT_FOUND: { ...ERROR_HTTP.COMMAND_NOT_FOUND, when: 'no such command' },
  DOMAIN_NOT_FOUND: { ...ERROR_HTTP.DOMAIN_NOT_FOUND, when: 'the domain is not provisioned here: nothing was sent, and sending again will not help' },
  JOB_NOT_FOUND: { ...ERROR_HTTP.JOB_NOT_FOUND, when: 'no such operator job in this domain' },
  DUPLICATE_COMMAND: { ...ERROR_HTTP.DUPLICATE_COMMAND, when: 'the command was sent before (`existingStatus`); nothing was sent again' },
  INVALID_OPERATION: { ...ERROR_HTTP.INVALID_OPERATION, when: 'not allowed in the status the command is in (`currentStatus`); nothing changed' },
  SEND_FAILED: { ...ERROR_HTTP.SEND_FAILED, when: 'the command could not be enqueued; nothing was recorded, so sending again is safe' },
  FORBIDDEN: { ...EDGE_ERRORS.FORBIDDEN, when: 'no caller identity (locally: a missing or wrong bearer token)' },
  ROUTE_NOT_FOUND: { ...EDGE_ERRORS.ROUTE_NOT_FOUND, when: 'no such route (a path parameter holding a `/` once decoded)' },
  UNSUPPORTED_MEDIA_TYPE: { ...EDGE_ERRORS.UNSUPPORTED_MEDIA_TYPE, when: 'a body must be sent as `application/json` (a charset may be given)' },
  INTERNAL_ERROR: { ...EDGE_ERRORS.INTERNAL_ERROR, when: 'a fault of the API, without details (logged with the request id)' },
  STORE_UNAVAILABLE: {
    ...EDGE_ERRORS.STORE_UNAVAILABLE,
    when: 'the command store did not answer in time (an outage): nothing is lost, the same request may be sent again (`Retry-After`)',
  },
  PAYLOAD_TOO_LARGE: {
    ...PLATFORM_ANSWERS.PAYLOAD_TOO_LARGE,
    when: 'the body is over the limit (1 MiB locally; on AWS, 10 MB, and 6 MB for a Lambda invocation)',
  },
  TOO_MANY_REQUESTS: { ...PLATFORM_ANSWERS.TOO_MANY_REQUESTS, when: 'throttled by API Gateway (AWS only)', gatewayOnly: true },
  REQUEST_HEADER_FIELDS_TOO_LARGE: { ...PLATFORM_ANSWERS.REQUEST_HEADER_FIELDS_TOO_LARGE, when: 'request headers over the limit (the local runtime: 16 KiB)' },
};

/** What API Gateway itself answers with a status, in its own `{"message": …}` (AWS only). */
const GATEWAY_ANSWERS: Record<string, string> = {
  400: 'a path whose %-encoding does not decode',
  403: 'no or a wrong signature',
  413: 'a body over 10 MB, or 6 MB for a Lambda invocation',
  429: '`{"message":"Too Many Requests"}`',
  '5XX': 'the function failed or timed out',
};

/** Refusals every operation can get. */
const ALWAYS: RefusalCode[] = ['VALIDATION_ERROR', 'FORBIDDEN', 'TOO_MANY_REQUESTS', 'REQUEST_HEADER_FIELDS_TOO_LARGE', 'INTERNAL_ERROR', 'STORE_UNAVAILABLE'];
/** Refusals of operations that take a body. */
const WITH_BODY: RefusalCode[] = ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];

export interface Operation {
  method: 'get' | 'post';
  /** The route, with `{name}` for a path parameter (as @middy/http-router and OpenAPI write it). */
  path: string;
  summary: string;
  description?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** A JSON body; `required`: a request without one is a 400. */
  body?: { schema: z.ZodType; required: boolean; description?: string };
  success: { status: 200 | 202; description: string; schema: z.ZodType };
  /** The refusals of this operation besides those of every operation (and of every body). */
  refusals: RefusalCode[];
}

const domainPath = DomainName.meta({
  description: 'Percent-encoded once; API Gateway decodes the path before routing, so `%2F` becomes a path separator',
});
const commandPath = z.object({ domain: domainPath, commandId: CommandId });
const timeBound = (bound: string) =>
  z
    .string()
    .optional()
    .meta({
      format: 'date-time',
      description: `${bound}. ISO-8601 as RFC 3339 has it (a date, or a date and time with Z or an offset), years 0000–9999`,
    });
const limit = z.int().min(1).max(100).default(25).optional();
const cursor = z.string().optional().meta({
  description:
    'The `nextCursor` of the previous page. It is only valid for the query it was issued for (same domain, filters and time range; the limit may change)',
});
const commandType = z.string().min(1).max(128).optional();

/** What the send bodies say about typed commands. */
const TYPED_DATA =
  'A command type registered with a schema (typed commands) must carry `data` that matches it, or the send is refused ' +
  '(`ValidationError`, `field` `data.<path>`); the document lists those types and the JSON Schema of their `data` under ' +
  '`x-commandbus-command-types` (`{ domain, commandType, vendor, dataSchema? }`) where the API was given the schemas.';

/** The operations whose domain is in the query or the body, and the others. */
const unscopedOperations = {
  sendCommand: {
    method: 'post',
    path: '/commands',
    summary: 'Send a command (idempotent per domain and commandId)',
    body: { schema: SendCommand, required: true, description: TYPED_DATA },
    success: { status: 202, description: 'Accepted', schema: SendResult },
    refusals: ['DOMAIN_NOT_FOUND', 'DUPLICATE_COMMAND', 'SEND_FAILED'],
  },
  queryCommands: {
    method: 'get',
    path: '/commands',
    summary: 'Browse the commands of a domain, newest first',
    query: z.object({
      domain: DomainName,
      status: Status.optional(),
      commandType,
      correlationId: z.string().min(1).max(128).optional().meta({
        description:
          'Only the commands of this correlation (exact match). Filters the time index: one call reads at most 10 × limit entries (≈ 150 bytes each) and may return a short page with a `nextCursor`; narrow with from/to',
      }),
      from: timeBound('createdAt ≥ from (with status IN_TSQ: the time it was parked)'),
      to: timeBound('createdAt < to; not before from'),
      limit,
      cursor,
    }),
    success: { status: 200, description: 'A page', schema: CommandPage },
    refusals: [],
  },
  getCommand: {
    method: 'get',
    path: '/commands/{domain}/{commandId}',
    summary: 'One command',
    params: commandPath,
    success: { status: 200, description: 'The command', schema: Command },
    refusals: ['COMMAND_NOT_FOUND'],
  },
  getAuditTrail: {
    method: 'get',
    path: '/commands/{domain}/{commandId}/audit',
    summary: 'The audit trail of a command, oldest first',
    params: commandPath,
    success: { status: 200, description: 'Events', schema: AuditTrail },
    refusals: ['COMMAND_NOT_FOUND'],
  },
  countByStatus: {
    method: 'get',
    path: '/domains/{domain}/counts',
    summary: 'Commands per status among those created in [from, to) (default: the 24 hours before `to`, which defaults to now)',
    params: z.object({ domain: domainPath }),
    query: z.object({
      from: timeBound('createdAt ≥ from'),
      to: timeBound('createdAt < to; not before from'),
      maxItems: z.int().min(1).max(100_000).default(10_000).optional(),
    }),
    success: { status: 200, description: 'Counts', schema: StatusCounts },
    refusals: [],
  },
  domainStats: {
    method: 'get',
    path: '/domains/{domain}/stats',
    summary:
      'Exact counts per status of the commands created in [from, to), and what was sent, completed, failed, parked and cancelled in it, with completion latency p50/p99; optionally a series per minute, hour or day',
    description:
      'Read from aggregates kept from the table stream (a handful of Queries whatever the window; see docs/data-model.md, "Counts and rates"): eventually consistent, `asOf` says how far the aggregation has got. The window is widened to whole minutes. A series has at most 1,500 points.',
    params: z.object({ domain: domainPath }),
    query: z.object({
      from: timeBound('Start of the window (default: 24 hours before `to`)'),
      to: timeBound('End of the window, exclusive (default: now); not before from'),
      series: z.enum(['minute', 'hour', 'day']).optional().meta({ description: 'A series of points per minute, hour or day' }),
    }),
    success: { status: 200, description: 'Counts and rates', schema: DomainStats },
    refusals: [],
  },
  queryByStatus: {
    method: 'get',
    path: '/domains/{domain}/statuses/{status}/commands',
    summary: 'The commands of a domain in one status, newest first, reading only the minutes the stats say hold one',
    description:
      'A page of a rare status in bounded reads (where GET /domains/{domain}/commands?status= pages through every command of the window). As eventually consistent as the stats: a command that changed status in the last seconds may be missing until the aggregation catches up; minutes it has not reached are read in full. A page may be short while `nextCursor` is set.',
    params: z.object({ domain: domainPath, status: Status }),
    query: z.object({
      from: timeBound('createdAt ≥ from'),
      to: timeBound('createdAt < to (default now); not before from'),
      limit,
      cursor,
    }),
    success: { status: 200, description: 'A page', schema: CommandPage },
    refusals: [],
  },
  listTsq: {
    method: 'get',
    path: '/tsq',
    summary: 'Commands in the troubleshooting queue, with error details and payload',
    query: z.object({
      domain: DomainName,
      commandType,
      errorCode: z
        .string()
        .min(1)
        .max(128)
        .optional()
        .meta({ description: 'Only commands whose last error has this code (exact match, e.g. `DEAD_LETTERED`)' }),
      errorType: ErrorType.optional().meta({ description: 'Only commands whose last error is of this type' }),
      from: timeBound('parked (movedToTsqAt) ≥ from'),
      to: timeBound('parked (movedToTsqAt) < to; not before from'),
      limit,
      cursor,
    }),
    success: { status: 200, description: 'A page', schema: TsqPage },
    refusals: [],
  },
  // A prefix of its own (`/tsq-bulk`): no single-command route or IAM pattern can match it.
  operatorBulk: {
    method: 'post',
    path: '/tsq-bulk/{domain}/{action}',
    summary: 'Retry, cancel or complete up to 1,000 parked commands by id (each only from IN_TSQ)',
    description:
      'Each id through the single action (16 at a time); the answer says per id `done`, `skipped` (not IN_TSQ any more, or not found: nothing changed) or `failed` (e.g. the re-enqueue failed), with totals. ' +
      "The ids are validated first: a bad one is refused as `commandIds[i]` and nothing is acted on. A `bulkId`, generated per request, is recorded in every command's operator audit event with the caller identity.",
    params: z.object({ domain: domainPath, action: BulkActionName }),
    body: { schema: BulkBody, required: true },
    success: { status: 200, description: 'What became of each command', schema: BulkResult },
    refusals: [],
  },
  // Operator jobs: under a prefix of their own (`/tsq-jobs`), with the domain in the path, so IAM
  // can allow them per domain as the `bulk` action (see scopes.ts); reading them is read scope.
  createJob: {
    method: 'post',
    path: '/tsq-jobs/{domain}/{action}',
    summary: 'Create an operator job: retry, cancel or complete every parked command a filter matches, at a rate — a DRAFT with its dry run',
    description:
      'The answer holds the dry run: the exact count of what the job will touch (from the TSQ group counters when the filter has no time window, else by paging the listing) and a sample. ' +
      'The job acts only on commands parked no later than its creation. Start it with POST /tsq-jobs/{domain}/{jobId}/start. The caller identity is recorded on every command it acts on, with the jobId.',
    params: z.object({ domain: domainPath, action: BulkActionName }),
    body: { schema: JobBody, required: true },
    success: { status: 200, description: 'The job, DRAFT, with its dry run', schema: OperatorJob },
    refusals: [],
  },
  controlJob: {
    method: 'post',
    path: '/tsq-jobs/{domain}/{jobId}/{control}',
    summary: 'Start, pause, resume or cancel an operator job',
    description:
      'start: DRAFT → RUNNING; pause: RUNNING → PAUSED; resume: PAUSED → RUNNING; cancel: DRAFT, RUNNING or PAUSED → CANCELLED. The runner acts on a change at its next page (about two seconds of work); what it did stays done. Any other status is a 409 (`currentStatus`).',
    params: z.object({ domain: domainPath, jobId: CommandId, control: JobControlName }),
    body: { schema: RetryBody, required: false, description: 'Not read; if sent, it must be JSON' },
    success: { status: 200, description: 'The job after the change', schema: OperatorJob },
    refusals: ['JOB_NOT_FOUND', 'INVALID_OPERATION'],
  },
  listJobs: {
    method: 'get',
    path: '/domains/{domain}/jobs',
    summary: "A domain's operator jobs, newest first, with their progress",
    params: z.object({ domain: domainPath }),
    query: z.object({ limit: z.int().min(1).max(50).default(25).optional(), cursor }),
    success: { status: 200, description: 'A page of jobs', schema: JobPage },
    refusals: [],
  },
  getJob: {
    method: 'get',
    path: '/domains/{domain}/jobs/{jobId}',
    summary: 'One operator job: status, dry run, progress (matched, done, skipped, failed) and the reasons of recent problems',
    params: z.object({ domain: domainPath, jobId: CommandId }),
    success: { status: 200, description: 'The job', schema: OperatorJob },
    refusals: ['JOB_NOT_FOUND'],
  },
  tsqGroups: {
    method: 'get',
    path: '/domains/{domain}/tsq/groups',
    summary:
      'Parked commands grouped by (commandType, errorType, errorCode): exact counts, largest first, and for the 20 largest their newest (and, up to 25 commands, oldest) movedToTsqAt and a sample',
    description: 'The domain is in the path, so an IAM policy can allow it for some domains only (see README, "Who may do what").',
    params: z.object({ domain: domainPath }),
    success: { status: 200, description: 'Groups', schema: TsqGroups },
    refusals: [],
  },
  operatorRetry: {
    method: 'post',
    path: '/tsq/{domain}/{commandId}/retry',
    summary: 'Operator retry: re-enqueue the stored payload (only from IN_TSQ)',
    params: commandPath,
    body: { schema: RetryBody, required: false, description: 'Not read; if sent, it must be JSON' },
    success: { status: 200, description: 'The command after the action', schema: Command },
    refusals: ['COMMAND_NOT_FOUND', 'INVALID_OPERATION', 'SEND_FAILED'],
  },
  operatorEditAndRetry: {
    method: 'post',
    path: '/tsq/{domain}/{commandId}/edit-and-retry',
    summary: 'Operator edit-and-retry: re-enqueue a corrected payload (only from IN_TSQ)',
    description:
      'The payload is validated as a send validates it and replaces the stored one; the payload before and after and the caller identity are kept in the history (GET /commands/{domain}/{commandId}/history). ' +
      'A message that is not a command (commandType `(malformed)`) cannot be edited and retried: send a new command, then cancel or complete it.',
    params: commandPath,
    body: { schema: EditRetryBody, required: true },
    success: { status: 200, description: 'The command after the action', schema: Command },
    refusals: ['COMMAND_NOT_FOUND', 'INVALID_OPERATION', 'SEND_FAILED'],
  },
  getCommandHistory: {
    method: 'get',
    path: '/commands/{domain}/{commandId}/history',
    summary: 'The payload edits of a command, oldest first, with the payload before and after each (empty when never edited)',
    params: commandPath,
    query: z.object({ limit: z.int().min(1).max(10).default(10).optional(), cursor }),
    success: { status: 200, description: 'A page of edits', schema: CommandHistory },
    refusals: [],
  },
  operatorCancel: {
    method: 'post',
    path: '/tsq/{domain}/{commandId}/cancel',
    summary: 'Operator cancel with a reason (only from IN_TSQ)',
    params: commandPath,
    body: { schema: CancelBody, required: true },
    success: { status: 200, description: 'The command after the action', schema: Command },
    refusals: ['COMMAND_NOT_FOUND', 'INVALID_OPERATION'],
  },
  operatorComplete: {
    method: 'post',
    path: '/tsq/{domain}/{commandId}/complete',
    summary: 'Operator complete with result data (only from IN_TSQ)',
    params: commandPath,
    body: { schema: CompleteBody, required: false },
    success: { status: 200, description: 'The command after the action', schema: Command },
    refusals: ['COMMAND_NOT_FOUND', 'INVALID_OPERATION'],
  },
  getShardSettings: {
    method: 'get',
    path: '/domains/{domain}/shards',
    summary: "The domain's index shard counts: what writers use now, what readers query, and a change not in effect yet",
    params: z.object({ domain: domainPath }),
    success: { status: 200, description: 'The settings (8 and 8 for a domain never changed)', schema: ShardSettings },
    refusals: [],
  },
  setShardCount: {
    method: 'post',
    path: '/domains/{domain}/shards',
    summary: "Set the domain's index shard count (1–256), without downtime: readers query a higher count at once, writers switch 2 minutes later",
    description:
      'The ceiling of a domain on AWS is ≈ 1,000 sends/s and ≈ 1,000 parks/s per shard (default 8). Lowering lowers the write count only: readers keep every shard ever written to. ' +
      "Nothing already written moves. The caller identity is recorded as `updatedBy`. An administrator's right of its own (scope `admin`).",
    params: z.object({ domain: domainPath }),
    body: { schema: ShardCountBody, required: true },
    success: { status: 200, description: 'The settings as now written', schema: ShardSettings },
    refusals: [],
  },
  getOpenApiDocument: {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    success: { status: 200, description: 'OpenAPI 3.1', schema: OpenApiDocument },
    refusals: [],
  },
} as const satisfies Record<string, Operation>;

const SCOPED = 'The domain is in the path, so an IAM policy can allow it for some domains only (see README, "Who may do what").';

/**
 * Every operation of the API, by operationId (named as the library's calls are). The path-scoped
 * twins of the operations that take the domain elsewhere (query, body) serve the same answers, with
 * the same parameters but the domain.
 */
export const operations = {
  ...unscopedOperations,
  sendDomainCommand: {
    ...unscopedOperations.sendCommand,
    path: '/domains/{domain}/commands',
    summary: 'Send a command to this domain (idempotent per domain and commandId)',
    description: `${SCOPED} The body's \`domain\` may be left out; if sent, it must be the path's.`,
    params: z.object({ domain: domainPath }),
    body: { schema: SendCommand.partial({ domain: true }), required: true, description: TYPED_DATA },
    refusals: [...unscopedOperations.sendCommand.refusals],
  },
  queryDomainCommands: {
    ...unscopedOperations.queryCommands,
    path: '/domains/{domain}/commands',
    description: SCOPED,
    params: z.object({ domain: domainPath }),
    query: unscopedOperations.queryCommands.query.omit({ domain: true }),
  },
  listDomainTsq: {
    ...unscopedOperations.listTsq,
    path: '/domains/{domain}/tsq',
    description: SCOPED,
    params: z.object({ domain: domainPath }),
    query: unscopedOperations.listTsq.query.omit({ domain: true }),
  },
} as const satisfies Record<string, Operation>;

export type OperationId = keyof typeof operations;

/** The refusals of an operation, in the order of their status. */
export function refusalsOf(operation: Operation): RefusalCode[] {
  const codes = new Set<RefusalCode>([
    ...ALWAYS,
    ...(operation.body ? WITH_BODY : []),
    ...(operation.params ? (['ROUTE_NOT_FOUND'] as const) : []),
    ...operation.refusals,
  ]);
  return [...codes].sort((a, b) => REFUSALS[a].status - REFUSALS[b].status);
}

const eitherError = z.union([ErrorBody, GatewayError]);

/**
 * The error answers of an operation, one per status (a 5xx under `5XX`, with API Gateway's): which
 * refusals share it, and its body — the `Error` shape, API Gateway's, or either.
 */
function errorResponses(operation: Operation): RouteConfig['responses'] {
  const byKey = new Map<string, RefusalCode[]>();
  for (const code of refusalsOf(operation)) {
    const { status } = REFUSALS[code];
    const key = status >= 500 && code !== 'SEND_FAILED' ? '5XX' : String(status);
    byKey.set(key, [...(byKey.get(key) ?? []), code]);
  }
  const responses: RouteConfig['responses'] = {};
  for (const [key, codes] of byKey) {
    const ours = codes.filter((code) => !REFUSALS[code].gatewayOnly);
    const gateway = GATEWAY_ANSWERS[key];
    const lines = ours.map((code) => `\`${REFUSALS[code].type}\` (\`${code}\`): ${REFUSALS[code].when}`);
    if (gateway) lines.push(`From API Gateway (AWS only, \`GatewayError\`): ${gateway}`);
    const schema = ours.length === 0 ? GatewayError : gateway ? eitherError : ErrorBody;
    responses[key] = { description: lines.join('. '), content: { 'application/json': { schema } } };
  }
  return responses;
}

const DESCRIPTION = [
  'Send commands, read their state and audit trail, browse them, and act on the troubleshooting queue (TSQ).',
  'Every route requires AWS IAM (SigV4) authorisation; operator actions record the caller identity.',
  'Locally, the runtime accepts `Authorization: Bearer <token>` printed at start-up.',
  '',
  'Every refusal of the API is `{ "error": { "type", "code", "message", "field"?, … } }` (schema `Error`): `type` and `code`',
  'name the library error (`ValidationError` / `VALIDATION_ERROR`, `DuplicateCommand` / `DUPLICATE_COMMAND`, …), and each',
  'operation lists the refusals it can get. Bad input never gets a 5xx.',
  '',
  'On AWS, API Gateway answers some requests itself, before the function runs, and an HTTP API cannot change those',
  'answers: 403 for a missing or wrong signature, 413 for a body over the size limits, 429 when throttled, a refusal of',
  'a path whose %-encoding does not decode, a 5xx when the function fails or times out. Their body is',
  '`{ "message": "…" }` (schema `GatewayError`), with no `error` object. The local runtime answers its own 403, 413 and',
  '431 in the `Error` shape.',
].join('\n');

/** The OpenAPI 3.1 document of the API, generated from {@link operations}. */
export function generateOpenApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'sigv4', { type: 'apiKey', name: 'Authorization', in: 'header', description: 'AWS Signature Version 4 (IAM)' });
  registry.registerComponent('securitySchemes', 'localToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'The local runtime: the token it prints at start-up',
  });
  for (const [operationId, operation] of Object.entries(operations) as [OperationId, Operation][]) {
    registry.registerPath({
      operationId,
      method: operation.method,
      path: operation.path,
      summary: operation.summary,
      request: {
        ...(operation.params ? { params: operation.params } : {}),
        ...(operation.query ? { query: operation.query } : {}),
        ...(operation.body
          ? {
              body: {
                required: operation.body.required,
                ...(operation.body.description ? { description: operation.body.description } : {}),
                content: { 'application/json': { schema: operation.body.schema } },
              },
            }
          : {}),
      },
      responses: {
        [operation.success.status]: { description: operation.success.description, content: { 'application/json': { schema: operation.success.schema } } },
        ...errorResponses(operation),
      },
    });
  }
  const generated = new OpenApiGeneratorV31(registry.definitions, { unionPreferredType: 'oneOf' }).generateDocument({
    openapi: '3.1.0',
    info: { title: 'commandbus API', version: '0.1.0', description: DESCRIPTION },
    servers: [
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: 'The deployed HTTP API (stack output ApiUrl)',
        variables: { apiId: { default: 'abcdef1234', description: 'The HTTP API id' }, region: { default: 'eu-west-1' } },
      },
      { url: 'http://127.0.0.1:{port}', description: 'The local runtime (npm run serve)', variables: { port: { default: '3000' } } },
    ],
    security: [{ sigv4: [] }, { localToken: [] }],
  });
  // The generator writes sections we have nothing for (webhooks, parameters) as empty objects.
  const { webhooks: _webhooks, components, ...rest } = generated;
  const { parameters: _parameters, ...usedComponents } = components ?? {};
  return { ...rest, components: usedComponents };
}

/** The extension that lists the command types with a registered schema (typed commands). */
export const COMMAND_TYPES_EXTENSION = 'x-commandbus-command-types';

/**
 * One typed command type as the document shows it: `dataSchema` is the JSON Schema (2020-12) of the
 * `data` a send must carry — from zod (z.toJSONSchema of its input) or any library implementing
 * Standard JSON Schema; a schema that cannot be written as JSON Schema is listed by vendor only.
 */
export interface DocumentedCommandType {
  domain: string;
  commandType: string;
  vendor: string;
  dataSchema?: Record<string, unknown>;
}

export type OpenApiDocumentWithTypes = ReturnType<typeof generateOpenApiDocument> & { [COMMAND_TYPES_EXTENSION]?: DocumentedCommandType[] };

/** The command types with a schema, for the document's extension. */
export function documentCommandTypes(entries: RegisteredSchema[]): DocumentedCommandType[] {
  return entries.map(({ domain, commandType, schema }) => {
    const dataSchema = jsonSchemaOf(schema);
    return { domain, commandType, vendor: schema['~standard'].vendor, ...(dataSchema ? { dataSchema } : {}) };
  });
}

/** The JSON Schema of what a send carries (the schema's input), where the library can write one. */
function jsonSchemaOf(schema: CommandSchema): Record<string, unknown> | undefined {
  const written = (write: () => Record<string, unknown>) => {
    try {
      const { $schema: _dialect, ...rest } = write();
      return rest;
    } catch {
      return undefined;
    }
  };
  const standard = schema['~standard'] as CommandSchema['~standard'] & {
    jsonSchema?: { input?: (options: { target: string }) => Record<string, unknown> };
  };
  // zod (classic or mini): its own converter, which writes what JSON cannot hold (a Date) as {}.
  if (standard.vendor === 'zod') {
    const fromZod = written(() => z.toJSONSchema(schema as never, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>);
    if (fromZod) return fromZod;
  }
  const input = standard.jsonSchema?.input;
  return typeof input === 'function' ? written(() => input({ target: 'draft-2020-12' })) : undefined;
}

let document: ReturnType<typeof generateOpenApiDocument> | undefined;
const typedDocuments = new WeakMap<CommandSchemaLookup, { count: number; document: OpenApiDocumentWithTypes }>();

/**
 * The document, generated on first use. Given the API's schemas (typed commands), it also lists
 * every command type that has one under `x-commandbus-command-types`, with the JSON Schema of its
 * `data` where known.
 */
export function openApiDocument(schemas?: CommandSchemaLookup): OpenApiDocumentWithTypes {
  document ??= generateOpenApiDocument();
  if (!schemas) return document;
  const entries = schemas.entries();
  if (entries.length === 0) return document;
  const cached = typedDocuments.get(schemas);
  if (cached?.count === entries.length) return cached.document;
  const typed = { ...document, [COMMAND_TYPES_EXTENSION]: documentCommandTypes(entries) };
  typedDocuments.set(schemas, { count: entries.length, document: typed });
  return typed;
}
