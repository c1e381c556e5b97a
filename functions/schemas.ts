/**
 * The HTTP API's request and response shapes, written once: the OpenAPI document (openapi.ts) is
 * generated from them, the handlers read bodies with them (api.ts), and tests hold them to the
 * library's types (tests/schemas.test.ts) and the API's answers to them (e2e/api/fuzz.test.ts).
 *
 * The library stays the judge of what a request may hold: its ValidationErrors name the path that is
 * wrong (`data.items[2]: …`). The request schemas describe the same rules for the document's readers
 * and are not run over requests, so the API is neither stricter nor looser than `send`.
 */
import {
  AuditEventType,
  CommandStatus,
  DEFAULT_MAX_ATTEMPTS,
  INDEX_SHARDS,
  MAX_ALLOWED_ATTEMPTS,
  MAX_BULK_IDS,
  MAX_INDEX_SHARDS,
  MAX_JSON_DEPTH,
  MAX_RATE,
  MIN_RATE,
} from '@commandbus/core';
import { z } from 'zod';

/** An instant as the API writes it (toISOString). */
const timestamp = z.iso.datetime({ offset: true });
const name = (description?: string) =>
  z
    .string()
    .min(1)
    .max(128)
    .meta(description === undefined ? {} : { description });

export const DomainName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/)
  .meta({ description: 'Part of queue names: 1–40 letters, digits, `-` or `_`, starting with a letter or digit' });
/** Any 8-4-4-4-12 hex UUID, of any version or case (stored lower-case). */
export const CommandId = z.guid();
export const Status = z.enum(CommandStatus).meta({ id: 'Status' });

/** A JSON object, the shape of every request body. */
export const JsonObjectBody = z.looseObject({});

export const SendCommand = z
  .object({
    domain: DomainName,
    commandType: name(),
    commandId: CommandId.meta({ description: 'Chosen by the sender; (domain, commandId) is the idempotency key' }),
    data: z.looseObject({}).meta({
      description: `At most 128 KiB as JSON, nesting at most ${MAX_JSON_DEPTH} levels; numbers within ±(2^53 − 1) and not closer to 0 than 1e-130; no empty or \`__proto__\` keys`,
    }),
    maxAttempts: z.int().min(1).max(MAX_ALLOWED_ATTEMPTS).default(DEFAULT_MAX_ATTEMPTS).optional(),
    correlationId: name('Generated (a UUID) when absent'),
    replyTo: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,75}(\.fifo)?$/)
      .meta({ description: 'The name of a queue (same account) that gets one reply when the command is COMPLETED or CANCELLED' }),
  })
  .partial({ correlationId: true, replyTo: true })
  .meta({ id: 'SendCommand' });

export const SendResult = z.strictObject({ domain: z.string(), commandId: z.string(), correlationId: z.string(), status: Status }).meta({ id: 'SendResult' });

/** A TSQ listing filter: the type of the command's last error (CommandError.type). */
export const ErrorType = z.enum(['TRANSIENT', 'PERMANENT', 'TIMEOUT']).meta({ id: 'ErrorType' });

export const CommandError = z
  .object({
    type: z.enum(['TRANSIENT', 'PERMANENT', 'TIMEOUT']),
    code: z.string(),
    message: z.string(),
    details: z.looseObject({}).optional(),
  })
  .meta({ id: 'CommandError' });

const commandFields = {
  domain: z.string(),
  commandId: z.string(),
  commandType: z.string(),
  status: Status,
  attempts: z.int().min(0),
  maxAttempts: z.int().min(1),
  correlationId: z.string(),
  replyTo: z.string().optional(),
  createdAt: timestamp,
  updatedAt: timestamp,
  lastError: CommandError.optional(),
  result: z.unknown().optional().meta({ description: 'What the handler returned (any JSON)' }),
  data: z.looseObject({}).optional().meta({ description: 'The payload, stored once the command is parked in the TSQ' }),
  edits: z.int().min(1).optional().meta({ description: 'How many times an operator edited the payload; the edits are in GET …/history' }),
  dataOmitted: z.literal(true).optional().meta({ description: 'In a page that would pass 5 MB, payloads are left out and marked' }),
};

export const Command = z.strictObject({ ...commandFields, movedToTsqAt: timestamp.optional() }).meta({ id: 'Command' });
export const TsqEntry = z.strictObject({ ...commandFields, status: z.literal(CommandStatus.IN_TSQ), movedToTsqAt: timestamp }).meta({ id: 'TsqEntry' });

export const TsqGroup = z
  .strictObject({
    domain: z.string(),
    commandType: z.string(),
    errorType: z.enum(['TRANSIENT', 'PERMANENT', 'TIMEOUT']),
    errorCode: z.string(),
    count: z.int().min(1).meta({ description: 'Exact: the commands of this group parked now' }),
    newestMovedToTsqAt: timestamp.optional().meta({ description: 'When its most recently parked command was parked (the 20 largest groups)' }),
    oldestMovedToTsqAt: timestamp
      .optional()
      .meta({ description: 'When its longest-parked command was parked: for a group of at most 25 among the 20 largest' }),
    sample: TsqEntry.optional().meta({ description: 'Its most recently parked command (the 20 largest groups)' }),
  })
  .meta({ id: 'TsqGroup' });
export const TsqGroups = z
  .strictObject({
    items: z.array(TsqGroup).meta({ description: 'Largest group first' }),
    oldest: z.optional(
      z
        .strictObject({ commandId: z.string(), movedToTsqAt: z.string() })
        .meta({ description: "The domain's longest-parked command, across every group (absent: nothing is parked)" }),
    ),
  })
  .meta({ id: 'TsqGroups' });

export const AuditEvent = z
  .strictObject({
    commandId: z.string(),
    domain: z.string(),
    eventType: z.enum(AuditEventType),
    timestamp,
    attempt: z.int().min(0).meta({ description: 'The attempt the event belongs to (0 before the first receive)' }),
    details: z.looseObject({}),
  })
  .meta({ id: 'AuditEvent' });

const page = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    items: z.array(item),
    nextCursor: z.string().min(1).optional().meta({ description: 'Pass back as `cursor` for the next page; absent on the last page' }),
  });
export const CommandPage = page(Command).meta({ id: 'CommandPage' });
export const TsqPage = page(TsqEntry).meta({ id: 'TsqPage' });
export const PayloadEdit = z
  .strictObject({
    domain: z.string(),
    commandId: z.string(),
    editNumber: z.int().min(1),
    editedAt: timestamp,
    operator: z.string().meta({ description: 'Who edited (over the API: the caller identity)' }),
    before: z.looseObject({}).optional().meta({ description: 'The payload the edit replaced; absent when none was stored' }),
    after: z.looseObject({}),
  })
  .meta({ id: 'PayloadEdit' });
export const CommandHistory = page(PayloadEdit).meta({ id: 'CommandHistory' });
export const AuditTrail = z.strictObject({ items: z.array(AuditEvent) }).meta({ id: 'AuditTrail' });

export const StatusCounts = z
  .strictObject({
    domain: z.string(),
    from: timestamp,
    to: timestamp,
    counts: z.strictObject(Object.fromEntries(Object.values(CommandStatus).map((status) => [status, z.int().min(0)])) as Record<CommandStatus, z.ZodInt>),
    counted: z.int().min(0),
    truncated: z.boolean().meta({ description: 'Counting stopped at maxItems with commands left in the window: the counts are partial' }),
  })
  .meta({ id: 'StatusCounts' });

const statusCounts = () =>
  z.strictObject(Object.fromEntries(Object.values(CommandStatus).map((status) => [status, z.int().min(0)])) as Record<CommandStatus, z.ZodInt>);
const rates = {
  sent: z.int().min(0).meta({ description: 'Commands sent (SENT events)' }),
  completed: z.int().min(0).meta({ description: 'Commands completed, by a handler or an operator' }),
  failed: z.int().min(0).meta({ description: 'Attempts that failed (FAILED events, and permanent failures that parked)' }),
  parked: z.int().min(0).meta({ description: 'Commands moved to the TSQ' }),
  cancelled: z.int().min(0).meta({ description: 'Commands cancelled by an operator' }),
  latencyP50Ms: z
    .number()
    .optional()
    .meta({ description: 'Median time from createdAt to a handler completing, ms (within 4.5%); absent when nothing completed' }),
  latencyP99Ms: z.number().optional().meta({ description: '99th percentile of the same' }),
};
export const StatsPoint = z.strictObject({ bucket: timestamp.meta({ description: 'Start of the minute, hour or day' }), ...rates }).meta({ id: 'StatsPoint' });
export const DomainStats = z
  .strictObject({
    domain: z.string(),
    from: timestamp.meta({ description: 'The window read, widened down to a whole minute' }),
    to: timestamp.meta({ description: 'Exclusive, widened up to a whole minute' }),
    counts: statusCounts().meta({ description: 'Commands created in [from, to), by the status they are in now (exact)' }),
    total: z.int().min(0),
    totals: z.strictObject(rates).meta({ description: 'What happened in [from, to), each event in the minute it happened' }),
    series: z.strictObject({ granularity: z.enum(['minute', 'hour', 'day']), points: z.array(StatsPoint) }).optional(),
    asOf: timestamp.optional().meta({ description: 'Time of the latest change aggregated into what was read; the aggregation lags the table by seconds' }),
    queries: z.int().min(0).meta({ description: 'DynamoDB Queries made to answer' }),
  })
  .meta({ id: 'DomainStats' });

export const RetryBody = z.looseObject({}).meta({ description: 'Not read; if sent, it must be JSON' });
const payload = (description: string) =>
  z.looseObject({}).meta({
    description: `${description}. At most 128 KiB as JSON, nesting at most ${MAX_JSON_DEPTH} levels; numbers within ±(2^53 − 1) and not closer to 0 than 1e-130; no empty or \`__proto__\` keys`,
  });
export const EditRetryBody = z.object({ data: payload('The corrected payload, validated like a send') }).meta({ id: 'EditRetryBody' });
export const CancelBody = z.object({ reason: name('Why, recorded in the audit trail and the reply') }).meta({ id: 'CancelBody' });
export const CompleteBody = z
  .object({ resultData: z.unknown().optional().meta({ description: 'Any JSON up to 64 KiB; numbers within ±(2^53 − 1)' }) })
  .meta({ id: 'CompleteBody' });

export const BulkActionName = z.enum(['retry', 'cancel', 'complete']).meta({ id: 'BulkAction' });
export const BulkBody = z
  .object({
    commandIds: z
      .array(CommandId)
      .min(1)
      .max(MAX_BULK_IDS)
      .meta({ description: `1–${MAX_BULK_IDS} command ids; duplicates are acted on once. A bad one is refused as \`commandIds[i]\` and nothing is acted on` }),
    reason: name('cancel (required): why, recorded on every command and in its reply'),
    resultData: z.unknown().meta({ description: 'complete: the result every command completes with; any JSON up to 64 KiB' }),
  })
  .partial({ reason: true, resultData: true })
  .meta({ id: 'BulkBody' });
export const BulkItemResult = z
  .strictObject({
    commandId: z.string(),
    outcome: z.enum(['done', 'skipped', 'failed']),
    reason: z.string().optional().meta({ description: 'Why it was skipped (not IN_TSQ any more, not found) or failed' }),
    code: z.string().optional().meta({ description: 'The error code when not done: `INVALID_OPERATION`, `COMMAND_NOT_FOUND`, `SEND_FAILED`, …' }),
  })
  .meta({ id: 'BulkItemResult' });
export const BulkResult = z
  .strictObject({
    bulkId: CommandId.meta({ description: "Generated per request; recorded as `bulkId` in every command's operator audit event" }),
    domain: z.string(),
    action: BulkActionName,
    results: z.array(BulkItemResult).meta({ description: 'One per distinct id, in the order first given' }),
    totals: z.strictObject({ requested: z.int().min(0), done: z.int().min(0), skipped: z.int().min(0), failed: z.int().min(0) }),
  })
  .meta({ id: 'BulkResult' });

export const JobFilter = z
  .strictObject({
    commandType: z.string().min(1).max(128).optional(),
    errorCode: z.string().min(1).max(128).optional(),
    errorType: ErrorType.optional(),
    from: timestamp.optional().meta({ description: 'Parked at or after (inclusive)' }),
    to: timestamp.optional().meta({ description: 'Parked before (exclusive); the job also stops at its creation' }),
  })
  .meta({ id: 'JobFilter', description: "The TSQ listing's filter; `{}` matches every parked command of the domain" });
export const JobBody = z
  .object({
    filter: JobFilter,
    rate: z
      .number()
      .min(MIN_RATE)
      .max(MAX_RATE)
      .meta({ description: `Commands per second, ${MIN_RATE}–${MAX_RATE}` }),
    reason: name('cancel (required): why, recorded on every command and in its reply'),
    resultData: z.unknown().meta({ description: 'complete: the result every command completes with; any JSON up to 64 KiB' }),
  })
  .partial({ reason: true, resultData: true })
  .meta({ id: 'JobBody' });
export const JobControlName = z.enum(['start', 'pause', 'resume', 'cancel']).meta({ id: 'JobControl' });
const count = z.int().min(0);
export const OperatorJob = z
  .strictObject({
    domain: z.string(),
    jobId: CommandId.meta({ description: "A UUID v7 (time-ordered); recorded as `jobId` in every command's operator audit event" }),
    action: BulkActionName,
    filter: JobFilter,
    window: z.strictObject({ from: timestamp.optional(), to: timestamp }).meta({ description: 'What the job acts on: the filter, closed at the creation' }),
    rate: z.number(),
    operator: z.string(),
    operatorSession: z.string().optional(),
    reason: z.string().optional(),
    resultData: z.unknown().optional(),
    status: z.enum(['DRAFT', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED']),
    createdAt: timestamp,
    updatedAt: timestamp,
    startedAt: timestamp.optional(),
    finishedAt: timestamp.optional(),
    dryRun: z.strictObject({
      count: count.meta({ description: 'Parked commands the job matched at creation' }),
      exact: z.boolean().meta({ description: 'false: counting by listing stopped at its budget, `count` is a lower bound' }),
      countedBy: z.enum(['groups', 'listing']),
      sample: z.array(
        z.strictObject({
          commandId: z.string(),
          commandType: z.string(),
          errorType: z.string().optional(),
          errorCode: z.string().optional(),
          movedToTsqAt: timestamp,
        }),
      ),
    }),
    progress: z
      .strictObject({ matched: count, done: count, skipped: count, failed: count })
      .meta({ description: 'matched = done + skipped (its state changed since: not IN_TSQ, gone) + failed' }),
    problemCodes: z.record(z.string(), count).meta({ description: 'Skipped and failed commands by error code' }),
    recentProblems: z.array(z.strictObject({ commandId: z.string(), outcome: z.enum(['skipped', 'failed']), code: z.string(), reason: z.string() })),
  })
  .meta({ id: 'OperatorJob' });
export const JobPage = page(OperatorJob).meta({ id: 'JobPage' });

/** A refusal of the API (and of the local runtime, which answers some requests itself). */
export const ErrorBody = z
  .strictObject({
    error: z.strictObject({
      type: z.string().min(1).meta({ description: 'What kind of refusal: `ValidationError`, `CommandNotFound`, `DuplicateCommand`, …' }),
      code: z
        .string()
        .regex(/^[A-Z][A-Z0-9_]*$/)
        .optional()
        .meta({
          description:
            'The same, as the stable code of the library error (`VALIDATION_ERROR`, `DUPLICATE_COMMAND`, …); absent from refusals of the local runtime itself',
        }),
      message: z.string().min(1),
      field: z
        .string()
        .min(1)
        .optional()
        .meta({ description: 'ValidationError: what was wrong — a field, a path into data such as `data.items[2]`, `body`, `path`, `content-type`' }),
      domain: z.string().optional().meta({ description: 'CommandNotFound, DomainNotFound, DuplicateCommand, JobNotFound: the domain' }),
      commandId: z.string().optional().meta({ description: 'CommandNotFound, DuplicateCommand: the command' }),
      currentStatus: z.string().optional().meta({ description: 'InvalidOperation: the status the command is in' }),
      existingStatus: z.string().optional().meta({ description: 'DuplicateCommand: the status of the command that exists' }),
      jobId: z.string().optional().meta({ description: 'JobNotFound: the operator job' }),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;
/** The details an error may carry on the wire, besides type, code and message. */
export const ERROR_DETAILS = [
  'field',
  'domain',
  'commandId',
  'currentStatus',
  'existingStatus',
  'jobId',
] as const satisfies readonly (keyof ErrorBody['error'])[];

/** An answer of API Gateway itself (AWS only), which an HTTP API cannot shape. */
export const GatewayError = z.object({ message: z.string() }).meta({ id: 'GatewayError', description: 'An answer of API Gateway itself (AWS only)' });

export const OpenApiDocument = z.object({ openapi: z.string(), paths: z.looseObject({}) }).meta({ description: 'OpenAPI 3.1' });

export const ShardCountBody = z
  .object({
    shards: z
      .int()
      .min(1)
      .max(MAX_INDEX_SHARDS)
      .meta({
        description: `How many partitions the domain's index entries and TSQ counters are spread over (default ${INDEX_SHARDS}); ≈ 1,000 sends/s and parks/s each on AWS`,
      }),
  })
  .meta({ id: 'ShardCountBody' });

export const ShardSettings = z
  .strictObject({
    domain: z.string(),
    writeShards: z.int().min(1).meta({ description: 'The count writers use now' }),
    readShards: z.int().min(1).meta({ description: 'The count readers query: the most ever used (never shrinks)' }),
    pending: z
      .strictObject({ writeShards: z.int().min(1), from: timestamp })
      .optional()
      .meta({ description: 'A change writers switch to at `from` (2 minutes after it was made)' }),
    updatedAt: timestamp.optional().meta({ description: 'Absent for a domain never changed' }),
    updatedBy: z.string().optional().meta({ description: 'Who made the last change (over the API: the caller identity)' }),
  })
  .meta({ id: 'ShardSettings' });
