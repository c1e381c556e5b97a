import { randomUUID } from 'node:crypto';
import { resolveAdapters, type CommandBusConfig } from './config.ts';
import type { CommandSchemaLookup } from './CommandSchemas.ts';
import { encodeEnvelope, type Envelope } from './domain/envelope.ts';
import { validatePayload } from './domain/payloadSchema.ts';
import { pendingRecord } from './domain/lifecycle.ts';
import { EARLIEST_TIME, validateQuery } from './domain/query.ts';
import { validateShardCount, type ShardSettings } from './domain/shards.ts';
import { toCommand } from './domain/views.ts';
import { DEFAULT_MAX_DATA_BYTES, validateDomain, validateName, validateSendRequest, validateUuid } from './domain/validation.ts';
import { DomainNotFoundError, DuplicateCommandError, SendFailedError, ValidationError } from './errors.ts';
import { readEnvironment } from './environment.ts';
import type { InsertResult } from './ports/CommandStore.ts';
import { MessageRefusedError, QueueNotFoundError } from './ports/CommandTransport.ts';
import { CommandStatus, type AuditEvent, type Command, type CommandQuery, type Page, type SendCommandRequest, type SendResult } from './types.ts';
import type { Adapters } from './config.ts';
import { readStats, validateStatsQuery, type StatsQuery, type StatsReport } from './application/statsAggregation.ts';
import { queryByStatus, type StatusPageQuery } from './application/statusPages.ts';

export interface CommandBusOptions extends CommandBusConfig {
  /** Largest accepted `data`, as JSON bytes. Default 128 KiB. */
  maxDataBytes?: number;
  /**
   * Typed commands: the schemas `send` checks `data` against, by (domain, commandType) — a
   * CommandSchemas, or the HandlerRegistry whose handlers were registered with schemas. A send whose
   * data does not match is refused (ValidationError on `data.<path>`) before anything is enqueued or
   * written; types without a schema are sent unchecked. The data is sent as given: the worker checks
   * it again and hands the handler the schema's output.
   */
  schemas?: CommandSchemaLookup;
  /**
   * The attempts a command gets when its send names none: one number for every domain, or per domain
   * (others get 3). Default: the per-domain `maxAttempts` of COMMANDBUS_RETRY_POLICIES (the CDK
   * construct's retryPolicy), else 3.
   */
  defaultMaxAttempts?: number | Readonly<Record<string, number>>;
}

/**
 * Sends commands and reads their state and audit trail.
 *
 * @example
 * const bus = new CommandBus();
 * await bus.send({ domain: 'payments', commandType: 'Charge', commandId: randomUUID(), data: { amount: 10 } });
 * const command = await bus.getCommand('payments', commandId);
 */
export class CommandBus {
  private readonly adapters: Adapters;
  private readonly maxDataBytes: number;
  private readonly schemas: CommandSchemaLookup | undefined;
  private readonly defaultMaxAttempts: (domain: unknown) => number | undefined;

  constructor(options: CommandBusOptions = {}) {
    this.adapters = resolveAdapters(options);
    this.maxDataBytes = options.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES;
    this.schemas = options.schemas;
    const defaults = options.defaultMaxAttempts ?? maxAttemptsFromEnvironment();
    this.defaultMaxAttempts = (domain) =>
      typeof defaults === 'number'
        ? defaults
        : typeof domain === 'string' && defaults !== undefined && Object.hasOwn(defaults, domain)
          ? defaults[domain]
          : undefined;
  }

  /**
   * Sends a command. Idempotent per (domain, commandId): if that command exists already, throws
   * DuplicateCommandError and nothing is processed twice.
   *
   * The message is enqueued first and the command recorded second, so a crash in between loses
   * nothing: the worker records a command it has no record of when the message arrives.
   */
  async send(request: SendCommandRequest): Promise<SendResult> {
    const command = validateSendRequest(
      request.maxAttempts === undefined ? { ...request, maxAttempts: this.defaultMaxAttempts(request.domain) } : request,
      this.maxDataBytes,
    );
    const schema = this.schemas?.schemaFor(command.domain, command.commandType);
    if (schema) await validatePayload(schema, command.data);
    if (command.replyTo !== undefined && this.adapters.names.isBusQueue(command.replyTo)) {
      // A reply there would be consumed as a command and parked as malformed.
      throw new ValidationError('replyTo', `must not name one of the bus's own commands or TSQ queues (got ${JSON.stringify(command.replyTo)})`);
    }
    const envelope: Envelope = { v: 1, ...command, token: randomUUID(), sentAt: new Date().toISOString() };
    try {
      await this.adapters.transport.sendCommand(command.domain, encodeEnvelope(envelope));
    } catch (error) {
      // What sending again cannot fix is the caller's to know as such, not a "try again".
      if (error instanceof QueueNotFoundError) throw new DomainNotFoundError(command.domain, error.queueName);
      if (error instanceof MessageRefusedError) throw new ValidationError('data', `was refused by SQS: ${error.message}`);
      throw new SendFailedError(
        `command ${command.domain}/${command.commandId} was not sent (enqueue failed); nothing was recorded, so sending again is safe`,
        { cause: error },
      );
    }
    let inserted: InsertResult;
    try {
      inserted = await this.adapters.store.insert(pendingRecord(envelope));
    } catch (error) {
      throw new SendFailedError(
        `command ${command.domain}/${command.commandId} was enqueued but recording it failed; the worker records it on receipt — check getCommand before sending again`,
        { cause: error },
      );
    }
    const result = { domain: command.domain, commandId: command.commandId, correlationId: command.correlationId };
    if (inserted.created) return { ...result, status: CommandStatus.PENDING };
    // The worker may have recorded our own message first: same token, same send.
    if (inserted.existing.token === envelope.token) return { ...result, status: inserted.existing.status };
    // Another send owns this id; our message carries a stale token and the worker drops it.
    throw new DuplicateCommandError(command.domain, command.commandId, inserted.existing.status);
  }

  /** The command, or undefined if there is none. */
  async getCommand(domain: string, commandId: string): Promise<Command | undefined> {
    const state = await this.adapters.store.get(validateDomain(domain), validateUuid('commandId', commandId));
    return state && toCommand(state);
  }

  /** Every audit event of the command, oldest first (of every domain using that id, if none given). */
  async getAuditTrail(commandId: string, domain?: string): Promise<AuditEvent[]> {
    return this.adapters.store.auditTrail(validateUuid('commandId', commandId), domain === undefined ? undefined : validateDomain(domain));
  }

  /** Commands of a domain, newest first, optionally by status, type and creation time. */
  async queryCommands(query: CommandQuery): Promise<Page<Command>> {
    const page = await this.adapters.store.query(validateQuery(query));
    return { ...page, items: page.items.map(toCommand) };
  }

  /**
   * Exact counts and per-minute/hour/day rates of a domain, for any window, from the aggregated
   * stats items (a handful of Queries; see docs/data-model.md, "Counts and rates"): how many commands
   * created in [from, to) are in each status now, what was sent, completed, failed, parked and
   * cancelled in it, and completion latency p50/p99. Eventually consistent: `asOf` says how far the
   * aggregation has got (seconds behind the table while it runs).
   */
  async stats(query: StatsQuery): Promise<StatsReport> {
    validateStatsQuery(query);
    if (!this.adapters.stats) throw new Error('no stats store configured (give `stats` with a custom `store`)');
    return readStats(this.adapters.stats, query);
  }

  /**
   * Commands of a domain in one status, newest first, reading only the minutes the stats say hold
   * such a command: a page of a rare status in bounded reads, where `queryCommands` pages through
   * every command of the window. As eventually consistent as the stats (a command that changed
   * status in the last seconds may be missing until the aggregation catches up); minutes the
   * aggregation has not reached yet are read in full. A page may be short while `nextCursor` is set.
   */
  async queryByStatus(query: StatusPageQuery): Promise<Page<Command>> {
    if (!this.adapters.stats) throw new Error('no stats store configured (give `stats` with a custom `store`)');
    const { items, nextCursor } = await queryByStatus(this.adapters.store, this.adapters.stats, query);
    return { items: items.map(toCommand), ...(nextCursor === undefined ? {} : { nextCursor }) };
  }

  /**
   * The domain's index shard counts: what writers use now, what readers query (the most ever used),
   * and a change writers have not switched to yet. A domain never changed has 8 and 8.
   */
  async getShardSettings(domain: string): Promise<ShardSettings> {
    return this.adapters.store.shardSettings(validateDomain(domain));
  }

  /**
   * Sets how many partitions a domain's index entries and TSQ counters are spread over — the ceiling
   * of a domain is ≈ 1,000 sends/s and ≈ 1,000 parks/s per shard on AWS (see docs/data-model.md,
   * "Shards"). Without downtime and without moving anything: readers query the higher count at once,
   * writers switch to the new count 2 minutes later (longer than any process caches the settings).
   * Lowering lowers the write count only; readers keep reading every shard ever written to.
   */
  async setShardCount(request: SetShardCountRequest): Promise<ShardSettings> {
    const domain = validateDomain(request.domain);
    const shards = validateShardCount(request.shards);
    const operator = validateName('operator', request.operator);
    return this.adapters.store.setShardCount({ domain, shards, operator });
  }

  /**
   * How many commands of a domain are in each status, among those created in [from, to) (default:
   * the last 24 hours). There is deliberately no status index (see docs/data-model.md), so this reads
   * the time index and the items, up to `maxItems` (default 10,000); `truncated` says if it stopped.
   */
  async countByStatus(query: { domain: string; from?: string; to?: string; maxItems?: number }): Promise<StatusCounts> {
    const maxItems = query.maxItems ?? 10_000;
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 100_000) {
      throw new ValidationError('maxItems', `must be an integer from 1 to 100000 (got ${maxItems})`);
    }
    // Validated before anything is computed from them; the defaults are filled in after.
    const given = validateQuery({
      domain: query.domain,
      ...(query.from === undefined ? {} : { from: query.from }),
      ...(query.to === undefined ? {} : { to: query.to }),
    });
    const to = given.to ?? new Date().toISOString();
    const from = given.from ?? new Date(Math.max(EARLIEST_TIME, Date.parse(to) - 24 * 3600 * 1000)).toISOString();
    if (from > to) throw new ValidationError('from', `must not be later than to (${to}${given.to === undefined ? ', now' : ''})`);
    const counts = Object.fromEntries(Object.values(CommandStatus).map((status) => [status, 0])) as Record<CommandStatus, number>;
    let counted = 0;
    let cursor: string | undefined;
    do {
      const page = await this.adapters.store.query({ domain: given.domain, from, to, limit: 100, ...(cursor ? { cursor } : {}) });
      for (const state of page.items) counts[state.status]++;
      counted += page.items.length;
      cursor = page.nextCursor;
    } while (cursor && counted < maxItems);
    return { domain: given.domain, from, to, counts, counted, truncated: cursor !== undefined };
  }
}

export interface SetShardCountRequest {
  domain: string;
  /** 1 … MAX_INDEX_SHARDS (256). */
  shards: number;
  /** Who asks; recorded on the settings as `updatedBy`. */
  operator: string;
}

export interface StatusCounts {
  domain: string;
  from: string;
  to: string;
  counts: Record<CommandStatus, number>;
  counted: number;
  truncated: boolean;
}

/** The per-domain maxAttempts of COMMANDBUS_RETRY_POLICIES, if any. */
function maxAttemptsFromEnvironment(): Record<string, number> | undefined {
  const policies = readEnvironment(process.env, ['retryPolicies']).retryPolicies;
  if (!policies) return undefined;
  const entries = Object.entries(policies).flatMap(([domain, settings]) =>
    settings.maxAttempts === undefined ? [] : [[domain, settings.maxAttempts] as const],
  );
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}
