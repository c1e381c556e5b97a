import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import {
  CommandBusError,
  CommandNotFoundError,
  DomainNotFoundError,
  JobNotFoundError,
  DuplicateCommandError,
  ERROR_HTTP,
  InvalidOperationError,
  isHttpErrorCode,
  SendFailedError,
  ValidationError,
  type AuditEvent,
  type BulkAction,
  type BulkResult,
  type Command,
  type CommandStatus,
  type CommandQuery,
  type JobFilter,
  type JsonObject,
  type JsonValue,
  type OperatorJob,
  type Page,
  type PayloadEdit,
  type TsqGroup,
  type SendCommandRequest,
  type SendResult,
  type ShardSettings,
  type StatusCounts,
  type StatsQuery,
  type StatsReport,
  type TsqEntry,
  type HttpErrorCode,
  type TsqQuery,
} from '@commandbus/core';

export type ClientAuth =
  /** The local runtime: the token it printed at start-up. */
  | { type: 'bearer'; token: string }
  /** AWS: SigV4 with the default credential chain (or the credentials given). */
  | { type: 'sigv4'; region: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } };

export interface CommandBusClientOptions {
  /** The API's base URL (stack output ApiUrl, or the local runtime's URL). */
  baseUrl: string;
  auth: ClientAuth;
}

/**
 * The HTTP API answered with an error the library has no class for: a refusal of API Gateway itself
 * (403 Forbidden, 413, 429 Too Many Requests, 504…, whose body is `{"message": …}`), one of the local
 * runtime's (403, 413, 431), 415, an unknown route, or a 500. `code` is the API's when it gave one
 * (`ROUTE_NOT_FOUND`, `UNSUPPORTED_MEDIA_TYPE`, …), else the type's (`TOO_MANY_REQUESTS`).
 */
export class ApiError extends CommandBusError {
  declare readonly code: string;
  readonly statusCode: number;
  readonly type: string;
  constructor(statusCode: number, type: string, message: string, code?: string) {
    super(`${statusCode} ${type}: ${message}`);
    this.code = code ?? type.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
    this.statusCode = statusCode;
    this.type = type;
  }
}

/** An error answer: the API's `{ error: { type, code, message, … } }`, or API Gateway's `{ message }`. */
interface ErrorBody {
  error?: WireError;
  message?: string;
}
interface WireError {
  type?: string;
  code?: string;
  message?: string;
  field?: string;
  domain?: string;
  commandId?: string;
  existingStatus?: string;
  currentStatus?: string;
  jobId?: string;
}

/**
 * The commandbus HTTP API with the library's calls and errors: send, getCommand, getAuditTrail, getCommandHistory,
 * queryCommands (also by correlationId), countByStatus, getShardSettings, setShardCount, and the TSQ's list and operator actions (the operator is the
 * authenticated caller).
 */
export class CommandBusClient {
  private readonly signer: SignatureV4 | undefined;
  private readonly baseUrl: URL;

  private readonly options: CommandBusClientOptions;
  constructor(options: CommandBusClientOptions) {
    this.options = options;
    this.baseUrl = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    if (options.auth.type === 'sigv4') {
      this.signer = new SignatureV4({
        service: 'execute-api',
        region: options.auth.region,
        credentials: options.auth.credentials ?? defaultProvider(),
        sha256: Hash.bind(null, 'sha256'),
      });
    }
  }

  send(request: SendCommandRequest): Promise<SendResult> {
    return this.request('POST', 'commands', undefined, request);
  }

  async getCommand(domain: string, commandId: string): Promise<Command | undefined> {
    try {
      return await this.request<Command>('GET', `commands/${enc(domain)}/${enc(commandId)}`);
    } catch (error) {
      if (error instanceof CommandNotFoundError) return undefined;
      throw error;
    }
  }

  async getAuditTrail(commandId: string, domain: string): Promise<AuditEvent[]> {
    try {
      return (await this.request<{ items: AuditEvent[] }>('GET', `commands/${enc(domain)}/${enc(commandId)}/audit`)).items;
    } catch (error) {
      if (error instanceof CommandNotFoundError) return [];
      throw error;
    }
  }

  queryCommands(query: CommandQuery): Promise<Page<Command>> {
    return this.request('GET', 'commands', query as unknown as Record<string, unknown>);
  }

  countByStatus(query: { domain: string; from?: string; to?: string; maxItems?: number }): Promise<StatusCounts> {
    const { domain, ...rest } = query;
    return this.request('GET', `domains/${enc(domain)}/counts`, rest);
  }

  /**
   * Exact counts per status of a domain's commands created in [from, to), what was sent, completed,
   * failed, parked and cancelled in it (with completion latency p50/p99), and optionally a series per
   * minute, hour or day. Read from the stream aggregates: `asOf` says how far they have got.
   */
  stats(query: StatsQuery): Promise<StatsReport> {
    const { domain, ...rest } = query;
    return this.request('GET', `domains/${enc(domain)}/stats`, rest as Record<string, unknown>);
  }

  /**
   * The parked commands of a domain, the most recently parked first, filtered by command type, error
   * code and type (of lastError) and the time they were parked (from inclusive, to exclusive). A
   * filtered page may hold fewer than `limit` while `nextCursor` is set; the cursor is only valid with
   * the same filters.
   */
  listTsq(query: TsqQuery): Promise<Page<TsqEntry>> {
    return this.request('GET', 'tsq', query as unknown as Record<string, unknown>);
  }

  /**
   * The parked commands of a domain grouped by (commandType, errorType, errorCode), largest first,
   * with exact counts; the 20 largest with their newest (and, up to 25 commands, oldest) movedToTsqAt
   * and a sample command.
   */
  async tsqGroups(domain: string): Promise<TsqGroup[]> {
    return (await this.request<{ items: TsqGroup[] }>('GET', `domains/${enc(domain)}/tsq/groups`)).items;
  }

  /**
   * The commands of a domain in one status, newest first, reading only the minutes the stats say hold
   * one: a page of a rare status in bounded reads; as eventually consistent as the stats.
   */
  queryByStatus(query: { domain: string; status: CommandStatus; from?: string; to?: string; limit?: number; cursor?: string }): Promise<Page<Command>> {
    const { domain, status, ...rest } = query;
    return this.request('GET', `domains/${enc(domain)}/statuses/${enc(status)}/commands`, rest);
  }

  /** The groups, and the domain's longest-parked command (absent when nothing is parked). */
  tsqOverview(domain: string): Promise<{ items: TsqGroup[]; oldest?: { commandId: string; movedToTsqAt: string } }> {
    return this.request('GET', `domains/${enc(domain)}/tsq/groups`);
  }

  operatorRetry(action: { domain: string; commandId: string }): Promise<Command> {
    return this.request('POST', `tsq/${enc(action.domain)}/${enc(action.commandId)}/retry`, undefined, {});
  }

  /** Re-enqueues a corrected payload (validated as send validates it); the edit is kept in the command's history. */
  operatorEditAndRetry(action: { domain: string; commandId: string; data: JsonObject }): Promise<Command> {
    return this.request('POST', `tsq/${enc(action.domain)}/${enc(action.commandId)}/edit-and-retry`, undefined, { data: action.data });
  }

  /** The payload edits of a command, oldest first, with the payload before and after each. */
  getCommandHistory(query: { domain: string; commandId: string; limit?: number; cursor?: string }): Promise<Page<PayloadEdit>> {
    const { domain, commandId, ...rest } = query;
    return this.request('GET', `commands/${enc(domain)}/${enc(commandId)}/history`, rest);
  }

  operatorCancel(action: { domain: string; commandId: string; reason: string }): Promise<Command> {
    return this.request('POST', `tsq/${enc(action.domain)}/${enc(action.commandId)}/cancel`, undefined, { reason: action.reason });
  }

  operatorComplete(action: { domain: string; commandId: string; resultData?: JsonValue }): Promise<Command> {
    const body = action.resultData === undefined ? {} : { resultData: action.resultData };
    return this.request('POST', `tsq/${enc(action.domain)}/${enc(action.commandId)}/complete`, undefined, body);
  }

  /**
   * Retries, cancels (`reason` required) or completes (`resultData`) up to 1,000 parked commands by
   * id; the caller is the operator. Per id `done`, `skipped` or `failed`, with totals and the
   * request's `bulkId` (recorded on every command's audit event). A bad id is refused before
   * anything is acted on (ValidationError naming `commandIds[i]`).
   */
  bulk(request: { domain: string; action: BulkAction; commandIds: string[]; reason?: string; resultData?: JsonValue }): Promise<BulkResult> {
    const body = {
      commandIds: request.commandIds,
      ...(request.reason === undefined ? {} : { reason: request.reason }),
      ...(request.resultData === undefined ? {} : { resultData: request.resultData }),
    };
    return this.request('POST', `tsq-bulk/${enc(request.domain)}/${enc(request.action)}`, undefined, body);
  }

  /** The domain's index shard counts: what writers use now, what readers query, and a change not in effect yet. */
  getShardSettings(domain: string): Promise<ShardSettings> {
    return this.request('GET', `domains/${enc(domain)}/shards`);
  }

  /**
   * Sets the domain's index shard count (1–256; scope `admin`): readers query a higher count at once,
   * writers switch 2 minutes later; the caller is recorded as `updatedBy`. See docs/data-model.md.
   */
  setShardCount(request: { domain: string; shards: number }): Promise<ShardSettings> {
    return this.request('POST', `domains/${enc(request.domain)}/shards`, undefined, { shards: request.shards });
  }

  /**
   * Creates an operator job: retry, cancel (`reason` required) or complete (`resultData`) every parked
   * command the filter matches (parked no later than now), at `rate` commands per second; the caller
   * is the operator. The job comes back as a DRAFT with its dry run (exact count and a sample);
   * start it with startJob.
   */
  createJob(request: { domain: string; action: BulkAction; filter: JobFilter; rate: number; reason?: string; resultData?: JsonValue }): Promise<OperatorJob> {
    const body = {
      filter: request.filter,
      rate: request.rate,
      ...(request.reason === undefined ? {} : { reason: request.reason }),
      ...(request.resultData === undefined ? {} : { resultData: request.resultData }),
    };
    return this.request('POST', `tsq-jobs/${enc(request.domain)}/${enc(request.action)}`, undefined, body);
  }

  /** DRAFT → RUNNING: the job runner starts on it. */
  startJob(ref: { domain: string; jobId: string }): Promise<OperatorJob> {
    return this.controlJob(ref, 'start');
  }

  /** RUNNING → PAUSED (at the runner's next page). */
  pauseJob(ref: { domain: string; jobId: string }): Promise<OperatorJob> {
    return this.controlJob(ref, 'pause');
  }

  /** PAUSED → RUNNING, from where it stopped. */
  resumeJob(ref: { domain: string; jobId: string }): Promise<OperatorJob> {
    return this.controlJob(ref, 'resume');
  }

  /** DRAFT, RUNNING or PAUSED → CANCELLED; what was done stays done. */
  cancelJob(ref: { domain: string; jobId: string }): Promise<OperatorJob> {
    return this.controlJob(ref, 'cancel');
  }

  /** One job with its dry run and progress. */
  getJob(ref: { domain: string; jobId: string }): Promise<OperatorJob> {
    return this.request('GET', `domains/${enc(ref.domain)}/jobs/${enc(ref.jobId)}`);
  }

  /** A domain's jobs, newest first (1–50 per page). */
  listJobs(query: { domain: string; limit?: number; cursor?: string }): Promise<Page<OperatorJob>> {
    const { domain, ...rest } = query;
    return this.request('GET', `domains/${enc(domain)}/jobs`, rest);
  }

  private controlJob(ref: { domain: string; jobId: string }, control: 'start' | 'pause' | 'resume' | 'cancel'): Promise<OperatorJob> {
    return this.request('POST', `tsq-jobs/${enc(ref.domain)}/${enc(ref.jobId)}/${control}`, undefined, {});
  }

  /** A raw, authenticated request to the API (for routes or answers this client does not model). */
  async fetch(method: 'GET' | 'POST', path: string, body?: string, extraHeaders: Record<string, string> = {}): Promise<Response> {
    const url = new URL(path.replace(/^\//, ''), this.baseUrl);
    return fetch(url, { method, headers: await this.headers(method, url, body, extraHeaders), ...(body === undefined ? {} : { body }) });
  }

  private async headers(method: string, url: URL, payload: string | undefined, extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const headers: Record<string, string> = { host: url.host, accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    for (const [name, value] of Object.entries(extra)) headers[name.toLowerCase()] = value;
    if (this.options.auth.type === 'bearer') {
      headers.authorization = `Bearer ${this.options.auth.token}`;
      return headers;
    }
    const signed = await this.signer!.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
    return { ...headers, ...signed.headers };
  }

  private async request<T>(method: 'GET' | 'POST', path: string, query?: Record<string, unknown>, body?: unknown): Promise<T> {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const response = await fetch(url, { method, headers: await this.headers(method, url, payload), ...(payload === undefined ? {} : { body: payload }) });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiError(
        response.status,
        response.ok ? 'InvalidResponse' : gatewayType(response.status),
        `the API answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      );
    }
    if (response.ok) return parsed as T;
    throw toError(response.status, (typeof parsed === 'object' && parsed !== null ? parsed : {}) as ErrorBody);
  }
}

/** What an answer of API Gateway itself (`{"message": …}`, no type) means, by its status. */
function gatewayType(status: number): string {
  const types: Record<number, string> = {
    400: 'BadRequest',
    403: 'Forbidden',
    404: 'NotFound',
    413: 'PayloadTooLarge',
    415: 'UnsupportedMediaType',
    429: 'TooManyRequests',
    431: 'RequestHeaderFieldsTooLarge',
    500: 'InternalError',
    502: 'BadGateway',
    503: 'ServiceUnavailable',
    504: 'GatewayTimeout',
  };
  return types[status] ?? 'HttpError';
}

/** Each library error, rebuilt from its wire form (the details the API sends with it, see ERROR_HTTP). */
const REBUILD: { [Code in HttpErrorCode]: (wire: WireError, message: string) => CommandBusError } = {
  VALIDATION_ERROR: (wire, message) => {
    const field = wire.field ?? message.split(':')[0] ?? 'request';
    return new ValidationError(field, message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message);
  },
  COMMAND_NOT_FOUND: (wire, message) => Object.assign(new CommandNotFoundError(wire.domain ?? '', wire.commandId ?? ''), { message }),
  DOMAIN_NOT_FOUND: (wire, message) => Object.assign(new DomainNotFoundError(wire.domain ?? '', ''), { message }),
  JOB_NOT_FOUND: (wire, message) => Object.assign(new JobNotFoundError(wire.domain ?? '', wire.jobId ?? ''), { message }),
  DUPLICATE_COMMAND: (wire, message) =>
    Object.assign(new DuplicateCommandError(wire.domain ?? '', wire.commandId ?? '', wire.existingStatus ?? 'UNKNOWN'), { message }),
  INVALID_OPERATION: (wire, message) => new InvalidOperationError(message, wire.currentStatus ?? 'UNKNOWN'),
  SEND_FAILED: (_, message) => new SendFailedError(message),
};

/** The library code of a wire error: its `code`, or (from an API older than codes) the one of its `type`. */
function libraryCode(wire: WireError): HttpErrorCode | undefined {
  if (isHttpErrorCode(wire.code)) return wire.code;
  return (Object.keys(ERROR_HTTP) as HttpErrorCode[]).find((code) => ERROR_HTTP[code].type === wire.type);
}

/**
 * The library's error classes, rebuilt from the API's error answers by ERROR_HTTP — the table the
 * API maps them with (functions/http.ts `errorResponse`). Other answers of the API, and API
 * Gateway's own (`{"message": …}`), become an ApiError.
 */
function toError(status: number, body: ErrorBody): Error {
  const wire = typeof body.error === 'object' && body.error !== null ? body.error : {};
  const message = wire.message ?? body.message ?? `HTTP ${status}`;
  const code = libraryCode(wire);
  if (code) return REBUILD[code](wire, message);
  return new ApiError(status, wire.type ?? gatewayType(status), message, wire.code);
}

const enc = (segment: string) => encodeURIComponent(segment);
