/** Lifecycle statuses, spelled as in the seed story. */
export const CommandStatus = {
  PENDING: 'PENDING',
  IN_PROGRESS: 'IN_PROGRESS',
  COMPLETED: 'COMPLETED',
  CANCELLED: 'CANCELLED',
  IN_TSQ: 'IN_TSQ',
} as const;
export type CommandStatus = (typeof CommandStatus)[keyof typeof CommandStatus];

export const AuditEventType = {
  SENT: 'SENT',
  RECEIVED: 'RECEIVED',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  RETRY_EXHAUSTED: 'RETRY_EXHAUSTED',
  MOVED_TO_TSQ: 'MOVED_TO_TSQ',
  OPERATOR_RETRY: 'OPERATOR_RETRY',
  OPERATOR_CANCEL: 'OPERATOR_CANCEL',
  OPERATOR_COMPLETE: 'OPERATOR_COMPLETE',
} as const;
export type AuditEventType = (typeof AuditEventType)[keyof typeof AuditEventType];

/** A JSON value: what command data, results and details may hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type ErrorKind = 'TRANSIENT' | 'PERMANENT' | 'TIMEOUT';

export interface CommandError {
  /** TRANSIENT, PERMANENT or TIMEOUT (a transient failure caused by the handler's time limit). */
  type: ErrorKind;
  code: string;
  message: string;
  details?: JsonObject;
}

export interface AuditEvent {
  commandId: string;
  domain: string;
  eventType: AuditEventType;
  /** ISO-8601 timestamp. */
  timestamp: string;
  /** The attempt the event belongs to (0 before the first receive). */
  attempt: number;
  details: JsonObject;
}

export interface Command {
  domain: string;
  commandId: string;
  commandType: string;
  status: CommandStatus;
  attempts: number;
  maxAttempts: number;
  correlationId: string;
  replyTo?: string;
  createdAt: string;
  updatedAt: string;
  lastError?: CommandError;
  result?: JsonValue;
  /**
   * The payload. Stored only while the command needs it at rest (in the TSQ, or re-enqueued by an
   * operator); on the happy path it travels in the SQS message alone (see docs/data-model.md).
   */
  data?: JsonObject;
  /**
   * How many times an operator edited the payload (operatorEditAndRetry); absent when never. The
   * payloads before and after each edit are in the command's history (getCommandHistory).
   */
  edits?: number;
}

/** One operator edit of a command's payload, as its history keeps it. */
export interface PayloadEdit {
  domain: string;
  commandId: string;
  /** 1 for the first edit of the command, then 2, 3 … */
  editNumber: number;
  /** ISO-8601. */
  editedAt: string;
  operator: string;
  /** The payload the edit replaced; absent when the command had none stored (too large to keep on its item). */
  before?: JsonObject;
  after: JsonObject;
}

export interface HistoryQuery {
  domain: string;
  commandId: string;
  /** 1–10, default 10 (each edit holds two payloads of up to 128 KiB). */
  limit?: number;
  cursor?: string;
}

export interface SendCommandRequest {
  domain: string;
  commandType: string;
  /** Client-chosen UUID; (domain, commandId) is the idempotency key. */
  commandId: string;
  data: JsonObject;
  /** Default 3. */
  maxAttempts?: number;
  /** Generated (a UUID) when absent. */
  correlationId?: string;
  /** The name of a queue that gets one reply when the command is COMPLETED or CANCELLED. */
  replyTo?: string;
}

export interface SendResult {
  domain: string;
  commandId: string;
  correlationId: string;
  status: CommandStatus;
}

export interface Reply {
  domain: string;
  commandId: string;
  commandType: string;
  correlationId: string;
  outcome: 'SUCCESS' | 'CANCELLED';
  result?: JsonValue;
  reason?: string;
  error?: CommandError;
}

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; absent on the last page. */
  nextCursor?: string;
}

export interface CommandQuery {
  domain: string;
  /** With IN_TSQ, the TSQ index is read and from/to apply to the time the command was parked. */
  status?: CommandStatus;
  commandType?: string;
  /**
   * Only the commands of this correlation (exact match). Filters the time index's entries, so it
   * reads every entry in [from, to) until the page is full: narrow with from/to (docs/data-model.md).
   */
  correlationId?: string;
  /** ISO-8601, inclusive: createdAt >= from. */
  from?: string;
  /** ISO-8601, exclusive: createdAt < to. */
  to?: string;
  /** 1–100, default 25. */
  limit?: number;
  cursor?: string;
}

export interface TsqQuery {
  domain: string;
  commandType?: string;
  /** Only commands whose lastError has this code (exact match, e.g. `DEAD_LETTERED`). */
  errorCode?: string;
  /** Only commands whose lastError is of this type. */
  errorType?: ErrorKind;
  /** ISO-8601, inclusive: parked at or after. */
  from?: string;
  /** ISO-8601, exclusive: parked before. */
  to?: string;
  limit?: number;
  cursor?: string;
}

/** What parked commands are grouped by: the command type and the type and code of the error that parked them. */
export interface TsqGroupKey {
  commandType: string;
  errorType: ErrorKind;
  errorCode: string;
}

/** How many commands of a domain are parked in one group: an exact count, kept with the writes that park and unpark. */
export interface TsqGroupCount extends TsqGroupKey {
  domain: string;
  count: number;
}

/** A group of parked commands, as an operator sees it first (TroubleshootingQueue.groups). */
export interface TsqGroup extends TsqGroupCount {
  /** When its most recently parked command was parked (absent when the listing did not reach one). */
  newestMovedToTsqAt?: string;
  /**
   * When its longest-parked command was parked: given when the group has at most
   * TSQ_GROUP_SCAN_LIMIT (25) commands, read from one listing page; absent for larger groups (the
   * listing reads newest first — list the group with `to` to page back).
   */
  oldestMovedToTsqAt?: string;
  /** Its most recently parked command. */
  sample?: TsqEntry;
}

/** A command parked in the troubleshooting queue, as an operator sees it. */
export interface TsqEntry extends Command {
  movedToTsqAt: string;
}

export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

/** An operator action over a list of commands (TroubleshootingQueue.bulk). */
export type BulkAction = 'retry' | 'cancel' | 'complete';

export interface BulkRequest {
  domain: string;
  action: BulkAction;
  /** 1–1,000 UUIDs; duplicates are acted on once. */
  commandIds: string[];
  /** Who acts; recorded on every command's audit event. */
  operator: string;
  /** The session name of an assumed role, recorded as `operatorSession` (see OperatorAction). */
  operatorSession?: string;
  /** cancel: why (required), recorded on every command and in its reply. */
  reason?: string;
  /** complete: the result every command completes with (default null). */
  resultData?: JsonValue;
}

/**
 * What became of one command of a bulk action: `done`; `skipped` when it was not IN_TSQ any more or
 * not found (nothing changed; `reason` says which); `failed` for anything else (`reason`, `code`).
 */
export interface BulkItemResult {
  commandId: string;
  outcome: 'done' | 'skipped' | 'failed';
  reason?: string;
  /** The error's code (INVALID_OPERATION, COMMAND_NOT_FOUND, SEND_FAILED, …) when not done. */
  code?: string;
}

export interface BulkResult {
  /** Generated per request; recorded as `bulkId` in the details of every command's operator event. */
  bulkId: string;
  domain: string;
  action: BulkAction;
  /** One per distinct id, in the order first given. */
  results: BulkItemResult[];
  totals: { requested: number; done: number; skipped: number; failed: number };
}
