import { randomUUID } from 'node:crypto';
import { applyWithRetry, keptChanging } from './application/applyWithRetry.ts';
import { runBulk, validateBulkIds } from './application/bulkActions.ts';
import { sendReplyOrLog } from './application/replies.ts';
import { editAndRetryCommand, retryCommand } from './application/retryProtocol.ts';
import { TsqSweeper, type SweepResult } from './application/TsqSweeper.ts';
import { controlOperatorJob, createJob, getOperatorJob, toOperatorJob } from './application/operatorJobs.ts';
import { runJob, type RunJobResult } from './application/jobRunner.ts';
import { validateRate, type Clock, type JobControl, type JobFilter, type OperatorJob } from './domain/jobs.ts';
import type { CommandSchemaLookup } from './CommandSchemas.ts';
import { resolveAdapters, type Adapters, type CommandBusConfig } from './config.ts';
import { validatePayload } from './domain/payloadSchema.ts';
import { operatorCancelTransition, operatorCompleteTransition, type CommandState, type Transition } from './domain/lifecycle.ts';
import { MAX_RESULT_BYTES } from './domain/outcome.ts';
import { validateQuery } from './domain/query.ts';
import { assertJson, DEFAULT_MAX_DATA_BYTES, validateDomain, validateJsonObject, validateName, validateUuid } from './domain/validation.ts';
import { toTsqEntry } from './domain/views.ts';
import { CommandNotFoundError, JobNotFoundError, ValidationError } from './errors.ts';
import type { BulkAction, BulkRequest, BulkResult, HistoryQuery, JsonObject, JsonValue, Page, PayloadEdit, TsqEntry, TsqGroup, TsqQuery } from './types.ts';

export interface OperatorAction {
  domain: string;
  commandId: string;
  /** Who acts; always recorded in the audit trail. */
  operator: string;
  /**
   * The session name of an assumed role, recorded as `operatorSession` beside the operator (then
   * the role): the caller chooses it, so it never stands in for the identity.
   */
  operatorSession?: string;
}

export interface TroubleshootingQueueOptions extends CommandBusConfig {
  /**
   * Typed commands: operatorEditAndRetry checks the corrected payload against the schema of the
   * command's type (a CommandSchemas, or the HandlerRegistry) and refuses a mismatch with a
   * ValidationError before anything is written.
   */
  schemas?: CommandSchemaLookup;
}

/**
 * The operator's view of failed commands: list them with their errors, then retry, cancel or complete.
 * Every action is allowed only from IN_TSQ and records the operator.
 *
 * @example
 * const tsq = new TroubleshootingQueue({ namespace: 'shop' });
 * const { items } = await tsq.list({ domain: 'payments' });
 * await tsq.operatorRetry({ domain: 'payments', commandId: items[0].commandId, operator: 'alice' });
 * // Or with a corrected payload; the payload before and after is kept in the command's history:
 * await tsq.operatorEditAndRetry({ domain: 'payments', commandId, operator: 'alice', data: { amount: 100 } });
 * const { items: edits } = await tsq.getCommandHistory({ domain: 'payments', commandId });
 */
export class TroubleshootingQueue {
  private readonly adapters: Adapters;
  private readonly schemas: CommandSchemaLookup | undefined;

  constructor(config: TroubleshootingQueueOptions = {}) {
    this.adapters = resolveAdapters(config);
    this.schemas = config.schemas;
  }

  async list(query: TsqQuery): Promise<Page<TsqEntry>> {
    const page = await this.adapters.store.listTsq(validateQuery(query));
    return { ...page, items: page.items.map(toTsqEntry) };
  }

  /**
   * The parked commands of a domain grouped by (command type, error type, error code): the first
   * screen an operator needs. Counts are exact and cost no scan (the store keeps them with the writes
   * that park and unpark: one small Query per index shard, 8 by default). The `detailed` (default 20, at most 50) largest groups
   * also get their newest parking time and a sample (their most recently parked command, one filtered
   * TSQ page each), and their oldest parking time when the group has at most 25 commands (the same
   * page reads them all; the listing reads newest first, so a larger group's oldest is left out).
   * Largest group first.
   */
  /**
   * The domain's longest-parked command and when it was parked (undefined when the TSQ is empty):
   * the age an on-call operator looks at first. One small read per index shard, whatever the depth.
   */
  async oldestParked(domain: string): Promise<{ commandId: string; movedToTsqAt: string } | undefined> {
    return this.adapters.store.oldestParked(validateDomain(domain));
  }

  async groups(query: { domain: string; detailed?: number }): Promise<TsqGroup[]> {
    validateDomain(query.domain);
    const detailed = query.detailed ?? DEFAULT_DETAILED_GROUPS;
    if (!Number.isInteger(detailed) || detailed < 0 || detailed > MAX_DETAILED_GROUPS) {
      throw new ValidationError('detailed', `must be an integer from 0 to ${MAX_DETAILED_GROUPS} (got ${detailed})`);
    }
    const counts = await this.adapters.store.tsqGroups(query.domain);
    return Promise.all(
      counts.map(async (group, rank): Promise<TsqGroup> => {
        if (rank >= detailed) return group;
        const { domain, commandType, errorType, errorCode, count } = group;
        const whole = count <= TSQ_GROUP_SCAN_LIMIT;
        const page = await this.adapters.store.listTsq({ domain, commandType, errorType, errorCode, limit: whole ? count : 1 });
        const [newest] = page.items;
        if (!newest) return group;
        const oldest = page.items[page.items.length - 1];
        const complete = whole && page.items.length === count && oldest?.movedToTsqAt !== undefined;
        return {
          ...group,
          ...(newest.movedToTsqAt === undefined ? {} : { newestMovedToTsqAt: newest.movedToTsqAt }),
          ...(complete ? { oldestMovedToTsqAt: oldest.movedToTsqAt } : {}),
          sample: toTsqEntry(newest),
        };
      }),
    );
  }

  /** Re-enqueues the stored payload with a fresh token: the command is PENDING again, attempts reset. */
  async operatorRetry(action: OperatorAction): Promise<void> {
    const { domain, commandId, operator, operatorSession } = validateAction(action);
    await retryCommand(this.adapters, { domain, commandId, operator, details: sessionDetails(operatorSession) });
  }

  /**
   * Re-enqueues a corrected payload: `data` (validated as `send` validates it, up to 128 KiB) replaces
   * the stored payload and the command is retried with it — the same protocol as operatorRetry, so a
   * crash at any step still runs the corrected payload. The payload before and after, the operator and
   * the time are kept in the command's history (getCommandHistory), one item per edit, so any number
   * of edits leaves the command's own item bounded; the OPERATOR_RETRY event records
   * `{ operator, edited: true, editNumber }`. Only from IN_TSQ. Given `schemas`, a payload that does
   * not match the schema of the command's type is refused (ValidationError on `data.<path>`). A command whose payload could not be
   * stored may be edited; a malformed message may not (it names no command type to run).
   */
  async operatorEditAndRetry(action: OperatorAction & { data: JsonObject }): Promise<void> {
    const { domain, commandId, operator, operatorSession } = validateAction(action);
    const data = validateJsonObject('data', action.data, DEFAULT_MAX_DATA_BYTES);
    await this.checkEdit(domain, commandId, data);
    await editAndRetryCommand(this.adapters, { domain, commandId, operator, data, details: sessionDetails(operatorSession) });
  }

  /** With schemas: the corrected payload must match the schema of the command's type (a type never changes, so one read decides). */
  private async checkEdit(domain: string, commandId: string, data: JsonObject): Promise<void> {
    if (!this.schemas) return;
    const current = await this.adapters.store.get(domain, commandId);
    const schema = current && this.schemas.schemaFor(domain, current.commandType);
    if (schema) await validatePayload(schema, data);
  }

  /**
   * The payload edits of a command (operatorEditAndRetry), oldest first, with the payload before and
   * after each. Pages of up to 10 edits (each holds two payloads of up to 128 KiB); a command without
   * edits, or none at all, has an empty history (`Command.edits` says whether there are any).
   */
  async getCommandHistory(query: HistoryQuery): Promise<Page<PayloadEdit>> {
    validateDomain(query.domain);
    validateUuid('commandId', query.commandId);
    if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_HISTORY_PAGE)) {
      throw new ValidationError('limit', `must be an integer from 1 to ${MAX_HISTORY_PAGE} (got ${query.limit})`);
    }
    if (query.cursor !== undefined && (typeof query.cursor !== 'string' || query.cursor.length === 0)) {
      throw new ValidationError('cursor', 'must be a non-empty string returned as nextCursor');
    }
    return this.adapters.store.history({ ...query, commandId: query.commandId.toLowerCase() });
  }

  async operatorCancel(action: OperatorAction & { reason: string }): Promise<void> {
    const { domain, commandId, operator, operatorSession } = validateAction(action);
    const reason = validateName('reason', action.reason);
    await this.cancel(domain, commandId, operator, reason, sessionDetails(operatorSession));
  }

  async operatorComplete(action: OperatorAction & { resultData?: JsonValue }): Promise<void> {
    const { domain, commandId, operator, operatorSession } = validateAction(action);
    const resultData = validateResultData(action.resultData);
    await this.complete(domain, commandId, operator, resultData, sessionDetails(operatorSession));
  }

  /**
   * Retries, cancels or completes up to 1,000 parked commands by id, each through the path of the
   * single action (operatorRetry, operatorCancel, operatorComplete), 16 at a time. The input is
   * validated first (a bad id is refused as `commandIds[i]` and nothing is acted on; duplicates are
   * acted on once). Each command's result is `done`, `skipped` (not IN_TSQ any more, or not found:
   * nothing changed) or `failed` (anything else, e.g. SendFailedError), and one command's failure
   * never stops the others. A `bulkId`, generated per request and returned, is recorded in the
   * details of every command's operator event beside the operator.
   *
   * @example
   * const { bulkId, totals } = await tsq.bulk({ domain: 'payments', action: 'retry', commandIds, operator: 'alice' });
   */
  async bulk(request: BulkRequest): Promise<BulkResult> {
    const { domain, action, operator, operatorSession, reason, resultData } = validateManyAction(request);
    const commandIds = validateBulkIds(request.commandIds);

    const bulkId = randomUUID();
    const details: JsonObject = { ...sessionDetails(operatorSession), bulkId };
    const act = (commandId: string): Promise<void> => {
      if (action === 'retry') return retryCommand(this.adapters, { domain, commandId, operator, details });
      if (action === 'cancel') return this.cancel(domain, commandId, operator, reason!, details);
      return this.complete(domain, commandId, operator, resultData ?? null, details);
    };
    const { results, totals } = await runBulk(commandIds, act);
    this.adapters.logger.info('bulk operator action', { bulkId, domain, action, operator, ...totals });
    return { bulkId, domain, action, results, totals };
  }

  /**
   * Creates an operator job: retry, cancel or complete every parked command the filter (the TSQ
   * listing's: commandType, errorCode, errorType, from/to) matches, parked no later than now, at
   * `rate` commands per second. It is created as a DRAFT with its dry run (the exact count and a
   * sample of what it will touch); startJob runs it in the background (see runJob).
   *
   * @example
   * const job = await tsq.createJob({ domain: 'payments', action: 'retry', filter: { errorCode: 'GATEWAY_DOWN' }, rate: 50, operator: 'alice' });
   * console.log(job.dryRun.count, job.dryRun.sample);
   * await tsq.startJob({ domain: 'payments', jobId: job.jobId });
   */
  async createJob(request: JobRequest): Promise<OperatorJob> {
    const { domain, action, operator, operatorSession, reason, resultData } = validateManyAction(request);
    const rate = validateRate(request.rate);
    const filter = validateJobFilter(domain, request.filter);
    return createJob(this.adapters, {
      domain,
      action,
      filter,
      rate,
      operator,
      ...(operatorSession === undefined ? {} : { operatorSession }),
      ...(reason === undefined ? {} : { reason }),
      ...(action === 'complete' ? { resultData: resultData ?? null } : {}),
    });
  }

  /** DRAFT → RUNNING; wakes a runner through the jobs queue (when there is one). */
  startJob(ref: JobRef): Promise<OperatorJob> {
    return this.controlJob(ref, 'start');
  }

  /** RUNNING → PAUSED: the runner stops after its current page (progress kept). */
  pauseJob(ref: JobRef): Promise<OperatorJob> {
    return this.controlJob(ref, 'pause');
  }

  /** PAUSED → RUNNING, from where it stopped. */
  resumeJob(ref: JobRef): Promise<OperatorJob> {
    return this.controlJob(ref, 'resume');
  }

  /** DRAFT, RUNNING or PAUSED → CANCELLED: the runner stops after its current page; what was done stays done. */
  cancelJob(ref: JobRef): Promise<OperatorJob> {
    return this.controlJob(ref, 'cancel');
  }

  async getJob(ref: JobRef): Promise<OperatorJob> {
    const { domain, jobId } = validateJobRef(ref);
    return getOperatorJob(this.adapters, domain, jobId);
  }

  /** A domain's jobs, newest first (1–50 per page, default 25: a job may hold a 64 KiB resultData, and a page must stay under Lambda's 6 MB answer). */
  async listJobs(query: { domain: string; limit?: number; cursor?: string }): Promise<Page<OperatorJob>> {
    const domain = validateDomain(query.domain);
    const limit = query.limit ?? 25;
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) throw new ValidationError('limit', `must be an integer from 1 to 50 (got ${limit})`);
    if (query.cursor !== undefined && (typeof query.cursor !== 'string' || query.cursor.length === 0)) {
      throw new ValidationError('cursor', 'must be a non-empty string returned as nextCursor');
    }
    const page = await this.adapters.jobs.list(domain, { limit, ...(query.cursor === undefined ? {} : { cursor: query.cursor }) });
    return { ...page, items: page.items.map(toOperatorJob) };
  }

  /**
   * Works on a RUNNING job in this process until it finishes, is paused or cancelled, `budgetMs`
   * passes (default 60 s) or `signal` aborts (each at a page boundary, progress kept): pages the
   * filtered listing from the job's checkpoint and acts on every command as the job's operator, at
   * the job's rate, recording `{ operator…, jobId }` on each command's event. One runner at a time
   * holds a job (a lease); a runner that dies is resumed by the next from its last checkpoint, the
   * page it was on replayed without acting twice. The job-runner Lambda calls this for each message
   * of the jobs queue; library users may call it in a loop (`stopped: 'budget'` means: call again).
   * With `requeue`, a run that stops for its budget first puts a continuation on the jobs queue.
   */
  async runJob(
    options: JobRef & { budgetMs?: number; leaseMs?: number; signal?: AbortSignal; concurrency?: number; clock?: Clock; requeue?: boolean },
  ): Promise<RunJobResult> {
    const { domain, jobId } = validateJobRef(options);
    const job = await this.adapters.jobs.get(domain, jobId);
    if (!job) throw new JobNotFoundError(domain, jobId);
    const details: JsonObject = { ...sessionDetails(job.operatorSession), jobId };
    const { operator } = job;
    const act = (commandId: string): Promise<void> => {
      if (job.action === 'retry') return retryCommand(this.adapters, { domain, commandId, operator, details });
      if (job.action === 'cancel') return this.cancel(domain, commandId, operator, job.reason ?? 'operator job', details);
      return this.complete(domain, commandId, operator, job.resultData ?? null, details);
    };
    const result = await runJob(this.adapters, {
      domain,
      jobId,
      act,
      ...(options.budgetMs === undefined ? {} : { budgetMs: options.budgetMs }),
      ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    if (options.requeue && (result.stopped === 'budget' || result.stopped === 'aborted') && this.adapters.jobQueue) {
      await this.adapters.jobQueue.enqueue({ domain, jobId });
    }
    return result.job ? { ...result, job: toOperatorJob(result.job) as RunJobResult['job'] } : result;
  }

  private async controlJob(ref: JobRef, control: JobControl): Promise<OperatorJob> {
    const { domain, jobId } = validateJobRef(ref);
    return controlOperatorJob(this.adapters, domain, jobId, control);
  }

  private async cancel(domain: string, commandId: string, operator: string, reason: string, details: JsonObject): Promise<void> {
    const state = await this.act(domain, commandId, (current) => operatorCancelTransition(current, operator, reason, now(), details));
    // The reply says why it was cancelled and what went wrong before.
    await sendReplyOrLog(this.adapters.transport, this.adapters.logger, state, 'CANCELLED', { reason, ...(state.lastError ? { error: state.lastError } : {}) });
  }

  private async complete(domain: string, commandId: string, operator: string, resultData: JsonValue, details: JsonObject): Promise<void> {
    const state = await this.act(domain, commandId, (current) => operatorCompleteTransition(current, operator, resultData, now(), details));
    await sendReplyOrLog(this.adapters.transport, this.adapters.logger, state, 'SUCCESS', { result: resultData });
  }

  /**
   * Keeps the TSQ queue truthful (see TsqSweeper): deletes stale and duplicate parked copies, and
   * records messages SQS dead-lettered itself as IN_TSQ (DEAD_LETTERED) so an operator can act on
   * them. Run it on a schedule (the stack does, every 5 minutes; so does the Worker).
   */
  async sweep(domain: string, options: { maxMessages?: number } = {}): Promise<SweepResult> {
    validateDomain(domain);
    return new TsqSweeper(this.adapters).sweep(domain, options);
  }

  /** Reads, checks IN_TSQ (the lifecycle does), writes conditionally; returns the state acted on. */
  private act(domain: string, commandId: string, transition: (current: CommandState) => Transition): Promise<CommandState> {
    return applyWithRetry(
      this.adapters.store,
      { domain, commandId },
      (current) => {
        if (!current) throw new CommandNotFoundError(domain, commandId);
        return { write: transition(current), after: () => current };
      },
      { contention: keptChanging(domain, commandId) },
    );
  }
}

function validateAction<T extends OperatorAction>(action: T): T {
  validateDomain(action.domain);
  validateUuid('commandId', action.commandId);
  validateName('operator', action.operator);
  if (action.operatorSession !== undefined) validateName('operatorSession', action.operatorSession);
  return { ...action, commandId: action.commandId.toLowerCase() };
}

export interface JobRef {
  domain: string;
  jobId: string;
}

export interface JobRequest {
  domain: string;
  action: BulkAction;
  /** The TSQ listing's filter; `{}` is every parked command of the domain. */
  filter: JobFilter;
  /** Commands per second, 0.1–1,000. */
  rate: number;
  /** Who acts; recorded on every command's audit event with the job's id. */
  operator: string;
  operatorSession?: string;
  /** cancel: why (required). */
  reason?: string;
  /** complete: the result every command completes with (default null). */
  resultData?: JsonValue;
}

const FILTER_FIELDS = new Set(['commandType', 'errorCode', 'errorType', 'from', 'to']);

function validateJobFilter(domain: string, filter: unknown): JobFilter {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw new ValidationError('filter', 'must be an object (the TSQ listing filter)');
  for (const field of Object.keys(filter)) {
    if (!FILTER_FIELDS.has(field)) throw new ValidationError(`filter.${field}`, `is not a filter (use ${[...FILTER_FIELDS].join(', ')})`);
  }
  const { domain: _domain, ...checked } = validateQuery({ domain, ...(filter as JobFilter) });
  return Object.fromEntries(Object.entries(checked).filter(([, value]) => value !== undefined)) as JobFilter;
}

function validateJobRef(ref: JobRef): JobRef {
  validateDomain(ref.domain);
  validateUuid('jobId', ref.jobId);
  return { domain: ref.domain, jobId: ref.jobId.toLowerCase() };
}

function validateResultData(value: JsonValue | undefined): JsonValue {
  const resultData = value ?? null;
  assertJson('resultData', resultData);
  const bytes = Buffer.byteLength(JSON.stringify(resultData), 'utf8');
  if (bytes > MAX_RESULT_BYTES) {
    throw new ValidationError('resultData', `is ${bytes} bytes as JSON; the limit is ${MAX_RESULT_BYTES} bytes (results share the command's 400 KB item)`);
  }
  return resultData;
}
const DEFAULT_DETAILED_GROUPS = 20;
const MAX_DETAILED_GROUPS = 50;
/** A group of at most this many commands is read whole (one TSQ page), which gives its oldest parking time. */
export const TSQ_GROUP_SCAN_LIMIT = 25;

/** Two payloads of up to 128 KiB per edit: ten keep a page under 3 MB, within Lambda's 6 MB answer. */
const MAX_HISTORY_PAGE = 10;

const sessionDetails = (operatorSession: string | undefined): JsonObject => (operatorSession === undefined ? {} : { operatorSession });

const now = () => new Date().toISOString();

/**
 * What a bulk action and an operator job both take: the domain, the action, who acts, and the
 * reason (cancel only, required) or the result (complete only), each checked.
 */
function validateManyAction(request: {
  domain: string;
  action: BulkAction;
  operator: string;
  operatorSession?: string;
  reason?: string;
  resultData?: JsonValue;
}) {
  const domain = validateDomain(request.domain);
  const { action, operator, operatorSession } = request;
  if (action !== 'retry' && action !== 'cancel' && action !== 'complete') {
    throw new ValidationError('action', `must be retry, cancel or complete (got ${JSON.stringify(action)})`);
  }
  validateName('operator', operator);
  if (operatorSession !== undefined) validateName('operatorSession', operatorSession);
  const reason = action === 'cancel' ? validateName('reason', request.reason) : undefined;
  if (action !== 'cancel' && request.reason !== undefined) throw new ValidationError('reason', 'is for cancel only');
  const resultData = action === 'complete' ? validateResultData(request.resultData) : undefined;
  if (action !== 'complete' && request.resultData !== undefined) throw new ValidationError('resultData', 'is for complete only');
  return { domain, action, operator, operatorSession, reason, resultData };
}
