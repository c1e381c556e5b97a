/**
 * An in-memory CommandStore that behaves like DynamoCommandStore against DynamoDB, held to it by the
 * contract suite in tests/contract (run against this twin and against DynamoDB Local).
 *
 * It keeps each command as DynamoCommandStore keeps its item — the same attributes, the same index
 * keys (byTime sorted by `<createdAt>#<commandId>`, tsq by `<movedToTsqAt>#<commandId>`) — and applies
 * a Transition with the same condition: the token, the status (one or a list), the attempts and the
 * lease when expected; `createIfMissing` as an upsert (identity fields and the first events only
 * where absent); `null` removes lastError, data and pendingRetry; `tsq: 'enter' | 'leave'` adds or
 * drops the command from the TSQ listing. A refused write returns the item as it was. Items over
 * DynamoDB's 400 KB (sized by DynamoDB's rules) are refused with ItemTooLargeError, nothing written.
 * Every value is copied in and out, as a round trip through DynamoDB would.
 *
 * Where it differs from DynamoDB (on purpose, or because nothing here needs more):
 * - Writes are atomic and instant: there is no partial failure and no throttling unless injected
 *   (failNext / landThenFail / beforeCall, see FaultInjector). Indexes are strongly consistent, as
 *   they are in DynamoDB Local; in DynamoDB a GSI lags the table by a moment.
 * - Pages are always full: a page holds `limit` items whenever that many match, and `nextCursor` is
 *   absent exactly when nothing is left. DynamoCommandStore may return fewer items with a cursor (its
 *   filtered reads stop after a bounded number of rounds) or a last cursor leading to an empty page.
 *   Cursors are opaque and refused (ValidationError) when garbled or issued for another query, as
 *   there, but their format differs.
 * - Item sizes follow DynamoDB's published rules (attribute names + UTF-8 strings + ~1 byte per two
 *   digits of a number + 3 bytes per list or map + 1 per element); DynamoDB's exact accounting may
 *   differ by a few bytes, which matters only for items within bytes of 400 KB.
 * - Payload edits (a transition's `history`) are kept beside the items, one per edit, as
 *   DynamoCommandStore keeps them in items of their own; the transition and its edit are written
 *   together or not at all (DynamoDB: one TransactWriteItems), each checked against 400 KB.
 * - TSQ group counts are kept per (domain, shard, group) as DynamoCommandStore keeps its counter
 *   items, moved in the same write as the park or unpark. The twin is stricter than DynamoDB on
 *   purpose: a transition with `tsq` but no `tsqGroup`, or whose group is not the command's (its type
 *   and the error it enters with), throws — a lifecycle bug would otherwise only skew counts.
 * - The table's stream is a listener (`onChange`), told of every write of a command item at once, in
 *   order, with its old and new image and a sequence number: what `inMemoryAdapters` feeds its
 *   stats twin from, so `bus.stats` answers without the lag of DynamoDB Streams.
 * - Shard settings are kept per domain as DynamoCommandStore's settings items, without its cache (a
 *   change is seen at once); writes switch after `shardChangeDelayMs` (default 120 s, as there). The
 *   index keys it writes follow the write count; its listings read no shards, so they are exact
 *   whatever the count.
 * - Key and value rules DynamoDB enforces (empty key strings, NaN, sets, binary) are not checked:
 *   the lifecycle never writes them.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { tsqGroupOf, UNKNOWN_ERROR_CODE, type CommandState, type NewCommandRecord, type NewEvent, type Transition } from '../domain/lifecycle.ts';
import { ItemTooLargeError, StoreUnavailableError, type ApplyResult, type CommandStore, type InsertResult } from '../ports/CommandStore.ts';
import { INDEXES } from '../resources.ts';
import {
  CommandStatus,
  type AuditEvent,
  type CommandQuery,
  type HistoryQuery,
  type Page,
  type PayloadEdit,
  type TsqGroupCount,
  type TsqGroupKey,
  type TsqQuery,
} from '../types.ts';
import { fromStored, toState, toStored as toStoredItem, type StoredEvent } from '../adapters/dynamodb/commandItem.ts';
import { shardKey, shardOf, timeSortKey } from '../adapters/dynamodb/keys.ts';
import { FaultInjector, type PortMethod } from './faults.ts';
import type { ChangeRecord } from '../domain/stats.ts';
import {
  changeShardCount,
  readShardsOf,
  SHARD_CHANGE_DELAY_MS,
  shardSettingsView,
  writeShardsAt,
  type ShardSettings,
  type StoredShardSettings,
} from '../domain/shards.ts';

export interface InMemoryCommandStoreOptions {
  /** How long after a shard count change writes switch to it (DynamoCommandStore: 120 s). Default 120 s. */
  shardChangeDelayMs?: number;
}

type Item = Record<string, unknown>;

/** DynamoDB's item size limit. */
export const MAX_ITEM_BYTES = 400 * 1024;
const DEFAULT_LIMIT = 25;
const DEFAULT_HISTORY_LIMIT = 10;

/**
 * @example
 * const store = new InMemoryCommandStore();
 * const bus = new CommandBus({ store, transport: new InMemoryTransport({ domains: ['payments'] }) });
 * store.failNext('apply', new StoreUnavailableError('timed out'));   // the next write does not reach the store
 * store.landThenFail('apply');                                      // the next write lands, then times out
 */
export class InMemoryCommandStore extends FaultInjector<CommandStore> implements CommandStore {
  /** Items by `<commandId>\u0000<domain>` (DynamoDB's pk, sk). */
  private readonly items = new Map<string, Item>();
  /** Payload edits by the same key, in editNumber order. */
  private readonly edits = new Map<string, Item[]>();
  /** TSQ group counters by `<domain>\u0000<shard>\u0000<group as JSON>`, as DynamoCommandStore's counter items. */
  private readonly groupCounters = new Map<string, TsqGroupCount>();
  /** Shard settings by domain, as DynamoCommandStore's settings items (no cache: a process of its own). */
  private readonly shardSettingsByDomain = new Map<string, StoredShardSettings>();
  private readonly shardChangeDelayMs: number;

  constructor(options: InMemoryCommandStoreOptions = {}) {
    super();
    this.shardChangeDelayMs = options.shardChangeDelayMs ?? SHARD_CHANGE_DELAY_MS;
  }

  /** Told of every write of a command item, as the table's stream would carry it (see the header). */
  onChange: ((record: ChangeRecord) => void) | undefined;
  private sequence = 0;

  private changed(oldImage: Item | undefined, newImage: Item): void {
    if (!this.onChange) return;
    this.sequence++;
    this.onChange({
      sequenceNumber: String(this.sequence),
      eventName: oldImage ? 'MODIFY' : 'INSERT',
      ...(oldImage ? { oldImage: copy(oldImage) } : {}),
      newImage: copy(newImage),
    });
  }

  protected defaultError(method: PortMethod<CommandStore>): unknown {
    return new StoreUnavailableError(`injected fault: the store did not answer ${method}`);
  }

  insert(record: NewCommandRecord): Promise<InsertResult> {
    return this.faulted('insert', [record], () => this.insertNow(record));
  }

  apply(transition: Transition): Promise<ApplyResult> {
    return this.faulted('apply', [transition], () => this.applyNow(transition));
  }

  get(domain: string, commandId: string): Promise<CommandState | undefined> {
    return this.faulted('get', [domain, commandId], () => {
      const item = this.items.get(keyOf(commandId, domain));
      return item ? toState(copy(item)) : undefined;
    });
  }

  auditTrail(commandId: string, domain?: string): Promise<AuditEvent[]> {
    return this.faulted('auditTrail', [commandId, domain], () => {
      // A Query on pk returns the items by sort key (the domain); each trail is in write order; trails
      // of different domains are ordered by their first event (stable, as Array.sort is).
      const trails = [...this.items.values()]
        .filter((item) => item.pk === commandId && (domain === undefined || item.sk === domain))
        .sort((a, b) => compare(a.sk as string, b.sk as string))
        .map((item) => ((item.events as StoredEvent[] | undefined) ?? []).map((stored) => fromStored(copy(stored), item.pk as string, item.sk as string)));
      const firstAt = (trail: AuditEvent[]) => trail[0]?.timestamp ?? '';
      return trails.sort((a, b) => compare(firstAt(a), firstAt(b))).flat();
    });
  }

  query(query: CommandQuery): Promise<Page<CommandState>> {
    return this.faulted('query', [query], () => {
      if (query.status === CommandStatus.IN_TSQ) {
        const { status: _status, ...tsqQuery } = query;
        return this.page('tsq', tsqQuery, undefined);
      }
      return this.page('byTime', query, query.status);
    });
  }

  listTsq(query: TsqQuery): Promise<Page<CommandState>> {
    return this.faulted('listTsq', [query], () => this.page('tsq', query, undefined));
  }

  history(query: HistoryQuery): Promise<Page<PayloadEdit>> {
    return this.faulted('history', [query], () => {
      const binding = `${query.domain}/${query.commandId}`;
      const after = query.cursor === undefined ? 0 : decodeHistoryCursor(query.cursor, binding);
      const limit = query.limit ?? DEFAULT_HISTORY_LIMIT;
      const matches = (this.edits.get(keyOf(query.commandId, query.domain)) ?? []).filter((edit) => (edit.editNumber as number) > after);
      const items = matches.slice(0, limit).map((edit) => copy(edit) as unknown as PayloadEdit);
      const last = items[items.length - 1];
      return matches.length > limit && last ? { items, nextCursor: encodeHistoryCursor(binding, last.editNumber) } : { items };
    });
  }

  tsqGroups(domain: string): Promise<TsqGroupCount[]> {
    return this.faulted('tsqGroups', [domain], () => {
      const totals = new Map<string, TsqGroupCount>();
      for (const counter of this.groupCounters.values()) {
        if (counter.domain !== domain) continue;
        const key = groupId(counter);
        const total = totals.get(key);
        if (total) total.count += counter.count;
        else totals.set(key, { ...counter });
      }
      const groups = [...totals.values()].filter((group) => group.count > 0);
      return groups.sort((a, b) => b.count - a.count || compare(groupId(a), groupId(b)));
    });
  }

  oldestParked(domain: string): Promise<{ commandId: string; movedToTsqAt: string } | undefined> {
    return this.faulted('oldestParked', [domain], () => {
      let oldest: { commandId: string; movedToTsqAt: string } | undefined;
      for (const item of this.items.values()) {
        const at = item.movedToTsqAt as string | undefined;
        if (item.sk !== domain || at === undefined) continue;
        const candidate = { commandId: item.pk as string, movedToTsqAt: at };
        if (!oldest || `${at}#${candidate.commandId}` < `${oldest.movedToTsqAt}#${oldest.commandId}`) oldest = candidate;
      }
      return oldest;
    });
  }

  shardSettings(domain: string): Promise<ShardSettings> {
    return this.faulted('shardSettings', [domain], () => shardSettingsView(domain, this.shardSettingsByDomain.get(domain), Date.now()));
  }

  setShardCount(change: { domain: string; shards: number; operator: string }): Promise<ShardSettings> {
    return this.faulted('setShardCount', [change], () => {
      const now = Date.now();
      const next = changeShardCount(this.shardSettingsByDomain.get(change.domain), { ...change, now, delayMs: this.shardChangeDelayMs });
      this.shardSettingsByDomain.set(change.domain, next);
      return shardSettingsView(change.domain, next, now);
    });
  }

  /** The shard a write of this command uses now (the twin reads no index by shard, but keeps the keys DynamoDB would). */
  private writeShard(domain: string, commandId: string): number {
    return shardOf(commandId, writeShardsAt(this.shardSettingsByDomain.get(domain), Date.now()));
  }

  /** How many shards readers of the domain query (for assertions on the keys). */
  readShards(domain: string): number {
    return readShardsOf(this.shardSettingsByDomain.get(domain));
  }

  /** Every stored command (copies), for assertions. */
  all(): CommandState[] {
    return [...this.items.values()].map((item) => toState(copy(item)));
  }

  /** The size DynamoDB would count for a command's item, in bytes (undefined if there is none). */
  itemSize(domain: string, commandId: string): number | undefined {
    const item = this.items.get(keyOf(commandId, domain));
    return item && itemSize(item);
  }

  private insertNow(record: NewCommandRecord): InsertResult {
    const key = keyOf(record.commandId, record.domain);
    const existing = this.items.get(key);
    if (existing) return { created: false, existing: toState(copy(existing)) };
    const { events, domain, commandId, ...rest } = record;
    const shard = this.writeShard(domain, commandId);
    const item: Item = copy({
      pk: commandId,
      sk: domain,
      ...rest,
      events: events.map(toStored),
      [BY_TIME.partitionKey]: shardKey(domain, shard),
      [BY_TIME.sortKey]: timeSortKey(record.createdAt, commandId),
      // A record created parked (a malformed or dead-lettered message) is listed in the TSQ at once.
      ...(record.status === CommandStatus.IN_TSQ
        ? { [TSQ.partitionKey]: shardKey(domain, shard), [TSQ.sortKey]: timeSortKey(record.updatedAt, commandId), movedToTsqAt: record.updatedAt }
        : {}),
    });
    assertFits(item, 'Item size has exceeded the maximum allowed size');
    this.items.set(key, item);
    this.changed(undefined, item);
    if (record.status === CommandStatus.IN_TSQ) this.count(domain, shard, tsqGroupOf(record.commandType, record.lastError), 1);
    return { created: true };
  }

  private applyNow(transition: Transition): ApplyResult {
    const key = keyOf(transition.commandId, transition.domain);
    const existing = this.items.get(key);
    const { expect, set: changes } = transition;
    const create = transition.createIfMissing;
    const holds = (item: Item) =>
      item.token === expect.token &&
      (typeof expect.status === 'string' ? item.status === expect.status : expect.status.includes(item.status as CommandStatus)) &&
      (expect.attempts === undefined || item.attempts === expect.attempts) &&
      (expect.lease === undefined || item.lease === expect.lease) &&
      (expect.edits === undefined || ((item.edits as number | undefined) ?? 0) === expect.edits);
    const group = changes.tsq === undefined ? undefined : changes.tsqGroup;
    if (changes.tsq !== undefined && group === undefined)
      throw new Error(`a transition that moves ${transition.commandId} in or out of the TSQ must name its tsqGroup`);
    // Leaving the TSQ: refused unless the command is still counted in the group it leaves (as DynamoDB's condition).
    const inGroup = (item: Item) => {
      if (changes.tsq !== 'leave' || !group) return true;
      const lastError = item.lastError as { type?: string; code?: string } | undefined;
      const errorMatches =
        group.errorCode === UNKNOWN_ERROR_CODE ? lastError === undefined : lastError?.type === group.errorType && lastError?.code === group.errorCode;
      return item.commandType === group.commandType && errorMatches;
    };
    if (existing ? !holds(existing) || !inGroup(existing) : !create) {
      return existing ? { applied: false, current: toState(copy(existing)) } : { applied: false };
    }

    const next: Item = existing ? copy(existing) : { pk: transition.commandId, sk: transition.domain };
    next.status = changes.status;
    next.updatedAt = changes.updatedAt;
    if (changes.attempts !== undefined) next.attempts = changes.attempts;
    if (changes.token !== undefined) next.token = changes.token;
    if (changes.lease !== undefined) next.lease = changes.lease;
    if (changes.edits !== undefined) next.edits = changes.edits;
    if (changes.result !== undefined) next.result = copy(changes.result);
    for (const attribute of ['lastError', 'data', 'pendingRetry'] as const) {
      const value = changes[attribute];
      if (value === null) delete next[attribute];
      else if (value !== undefined) next[attribute] = copy(value);
    }
    if (changes.tsq === 'enter') {
      next[TSQ.partitionKey] = shardKey(transition.domain, this.writeShard(transition.domain, transition.commandId));
      next[TSQ.sortKey] = timeSortKey(changes.updatedAt, transition.commandId);
      next.movedToTsqAt = changes.updatedAt;
    } else if (changes.tsq === 'leave') {
      delete next[TSQ.partitionKey];
      delete next[TSQ.sortKey];
      delete next.movedToTsqAt;
    }
    const events = transition.events.map(toStored);
    if (create) {
      // Upsert: identity fields only where absent, first events before this transition's.
      const setIfAbsent = (attribute: string, value: unknown) => {
        if (next[attribute] === undefined) next[attribute] = copy(value);
      };
      for (const [attribute, value] of Object.entries(create.identity)) if (value !== undefined && attribute !== 'token') setIfAbsent(attribute, value);
      setIfAbsent(BY_TIME.partitionKey, shardKey(transition.domain, this.writeShard(transition.domain, transition.commandId)));
      setIfAbsent(BY_TIME.sortKey, timeSortKey(create.identity.createdAt, transition.commandId));
      if (changes.token === undefined) setIfAbsent('token', create.identity.token);
      next.events = [...((next.events as StoredEvent[] | undefined) ?? create.events.map(toStored)), ...events];
    } else {
      next.events = [...(next.events as StoredEvent[]), ...events];
    }
    assertFits(next, 'Item size to update has exceeded the maximum allowed size');
    const history = transition.history;
    if (history) {
      const recorded = this.edits.get(key) ?? [];
      // The edit's own item is written only where none exists (a second edit n is refused).
      if (recorded.some((edit) => edit.editNumber === history.editNumber)) return { applied: false, current: toState(copy(existing ?? next)) };
      const edit = copy(history) as unknown as Item;
      assertFits({ pk: `${history.commandId}#edit`, sk: `${history.domain}#000000`, ...edit }, 'Item size has exceeded the maximum allowed size');
      this.edits.set(key, [...recorded, edit]);
    }
    if (changes.tsq === 'enter' && group) {
      // Stricter than DynamoDB: the group entered must be the command's.
      const expected = tsqGroupOf(next.commandType as string, next.lastError as TsqGroupKey & { type: TsqGroupKey['errorType']; code: string });
      if (groupId(expected) !== groupId(group)) {
        throw new Error(`tsqGroup ${JSON.stringify(group)} is not the group of ${transition.commandId} as it enters the TSQ (${JSON.stringify(expected)})`);
      }
    }
    this.items.set(key, copy(next));
    this.changed(existing, next);
    if (group) this.count(transition.domain, this.writeShard(transition.domain, transition.commandId), group, changes.tsq === 'enter' ? 1 : -1);
    return { applied: true };
  }

  private count(domain: string, shard: number, group: TsqGroupKey, delta: 1 | -1): void {
    const key = `${domain}\u0000${shard}\u0000${groupId(group)}`;
    const counter = this.groupCounters.get(key) ?? { domain, commandType: group.commandType, errorType: group.errorType, errorCode: group.errorCode, count: 0 };
    this.groupCounters.set(key, { ...counter, count: counter.count + delta });
  }

  /** One page of an index, newest first, as ShardedIndexReader merges its shards. */
  private page(index: 'byTime' | 'tsq', query: TsqQuery & { correlationId?: string }, status: string | undefined): Page<CommandState> {
    const { partitionKey, sortKey } = index === 'byTime' ? BY_TIME : TSQ;
    const range = { from: query.from ?? '0', to: query.to ?? '~' };
    const binding = bindingOf(index, query, status);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, binding, range);
    const matches = [...this.items.values()]
      .filter((item) => item.sk === query.domain && item[partitionKey] !== undefined)
      .filter((item) => {
        const position = item[sortKey] as string;
        // BETWEEN :from AND :to on `<timestamp>#<commandId>`: from inclusive, to exclusive in effect.
        return position >= range.from && position <= range.to && (after === undefined || position < after);
      })
      .filter((item) => (query.commandType === undefined || item.commandType === query.commandType) && (status === undefined || item.status === status))
      .filter((item) => query.correlationId === undefined || item.correlationId === query.correlationId)
      .filter((item) => {
        const lastError = item.lastError as { code?: string; type?: string } | undefined;
        return (query.errorCode === undefined || lastError?.code === query.errorCode) && (query.errorType === undefined || lastError?.type === query.errorType);
      })
      .sort((a, b) => compare(b[sortKey] as string, a[sortKey] as string));
    const limit = query.limit ?? DEFAULT_LIMIT;
    const items = matches.slice(0, limit);
    const last = items[items.length - 1];
    const page: Page<CommandState> = { items: items.map((item) => toState(copy(item))) };
    if (matches.length > limit && last) page.nextCursor = encodeCursor(binding, last[sortKey] as string);
    return page;
  }
}

const BY_TIME = INDEXES.byTime;
const TSQ = INDEXES.tsq;
const keyOf = (commandId: string, domain: string) => `${commandId}\u0000${domain}`;
const groupId = (group: TsqGroupKey) => JSON.stringify([group.commandType, group.errorType, group.errorCode]);
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The twin keeps its own copies of event details, so a caller's later changes cannot reach them. */
function toStored(event: NewEvent): StoredEvent {
  return toStoredItem({ ...event, details: copy(event.details) });
}

/** A deep copy as a DynamoDB round trip makes it: undefined values (in maps and lists) dropped. */
function copy<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((element) => element !== undefined).map(copy) as T;
  if (typeof value === 'object' && value !== null) {
    const result: Item = {};
    for (const [key, element] of Object.entries(value)) if (element !== undefined) result[key] = copy(element);
    return result as T;
  }
  return value;
}

/** The size DynamoDB counts for an item: attribute names and values, by its published rules. */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) if (value !== undefined) size += Buffer.byteLength(name, 'utf8') + valueSize(value);
  return size;
}

function valueSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') {
    const digits = String(Math.abs(value)).replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').length;
    return Math.ceil(Math.max(1, digits) / 2) + 1;
  }
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, element) => sum + 1 + valueSize(element), 0);
  if (typeof value === 'object') {
    return (
      3 +
      Object.entries(value as Item).reduce(
        (sum, [key, element]) => (element === undefined ? sum : sum + 1 + Buffer.byteLength(key, 'utf8') + valueSize(element)),
        0,
      )
    );
  }
  return 0;
}

function assertFits(item: Item, message: string): void {
  const size = itemSize(item);
  if (size > MAX_ITEM_BYTES) throw new ItemTooLargeError(`${message} (${size} bytes; the limit is ${MAX_ITEM_BYTES})`);
}

/** A short hash of what a cursor's position means: the index, the domain, the range, the filters. */
function bindingOf(index: string, query: TsqQuery & { correlationId?: string }, status: string | undefined): string {
  const key = JSON.stringify([
    index,
    query.domain,
    query.from ?? null,
    query.to ?? null,
    query.commandType ?? null,
    status ?? null,
    query.errorCode ?? null,
    query.errorType ?? null,
    query.correlationId ?? null,
  ]);
  return createHash('sha256').update(key).digest('base64url').slice(0, 16);
}

function encodeCursor(binding: string, after: string): string {
  return Buffer.from(JSON.stringify({ twin: 1, q: binding, after })).toString('base64url');
}

function decodeCursor(cursor: string, binding: string, range: { from: string; to: string }): string {
  const invalid = (why: string) => new ValidationError('cursor', `is not a cursor returned by this API (${why}); start again without one`);
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid('not base64url text');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  const { twin, q, after } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { twin?: unknown; q?: unknown; after?: unknown };
  if (twin !== 1 || typeof q !== 'string' || typeof after !== 'string') throw invalid('unknown version or shape');
  if (q !== binding) {
    throw new ValidationError(
      'cursor',
      'was issued for another query (another domain, status, command type, correlation id, error code, error type or time range); start again without one',
    );
  }
  if (after < range.from || after > range.to) throw invalid("its position is outside the query's time range");
  return after;
}

function encodeHistoryCursor(binding: string, after: number): string {
  return Buffer.from(JSON.stringify({ twin: 1, h: binding, after })).toString('base64url');
}

function decodeHistoryCursor(cursor: string, binding: string): number {
  const invalid = (why: string) => new ValidationError('cursor', `is not a cursor returned by this API (${why}); start again without one`);
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    throw invalid('not JSON');
  }
  const { twin, h, after } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { twin?: unknown; h?: unknown; after?: unknown };
  if (twin !== 1 || typeof h !== 'string' || typeof after !== 'number' || !Number.isInteger(after)) throw invalid('unknown version or shape');
  if (h !== binding) throw new ValidationError('cursor', 'was issued for the history of another command; start again without one');
  return after;
}
