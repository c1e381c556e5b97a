import { ConditionalCheckFailedException, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { tsqGroupOf, UNKNOWN_ERROR_CODE, type CommandState, type NewCommandRecord, type Transition } from '../../domain/lifecycle.ts';
import { INDEXES } from '../../resources.ts';
import { ValidationError } from '../../errors.ts';
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
} from '../../types.ts';
import {
  changeShardCount,
  SHARD_CHANGE_DELAY_MS,
  SHARD_SETTINGS_TTL_MS,
  shardSettingsView,
  type ShardSettings,
  type StoredShardSettings,
} from '../../domain/shards.ts';
import { ItemTooLargeError, StoreUnavailableError, type ApplyResult, type CommandStore, type InsertResult } from '../../ports/CommandStore.ts';
import { fromStored, toState, toStored, type StoredEvent } from './commandItem.ts';
import { shardKey, shardOf, timeSortKey } from './keys.ts';
import { ShardedIndexReader } from './ShardedIndexReader.ts';
import { ShardSettingsCache } from './ShardSettingsCache.ts';

export interface DynamoCommandStoreOptions {
  /** How long a domain's shard settings are kept before being read again. Default 60 s. */
  shardSettingsTtlMs?: number;
  /**
   * How long after a shard count change writers switch to it. Default 120 s; it must exceed every
   * process's shardSettingsTtlMs (with room for clock skew): only tests with one process set it lower.
   */
  shardChangeDelayMs?: number;
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type TransactUpdate = NonNullable<TransactItem['Update']>;

const MAX_FILTER_ROUNDS = 10;
/** Tries of a transaction that conflicts with another one before the store counts as unavailable. */
const TRANSACTION_ATTEMPTS = 6;

/** A transaction cancelled (not applied) because another touched the same item: retried, then unavailable. */
class TransactionConflict extends StoreUnavailableError {}

/**
 * One item per command, keyed (pk = commandId, sk = domain), holding its state and its audit trail,
 * so every transition is a single conditional write. See docs/data-model.md for the costs.
 *
 * An operator's payload edit is an item of its own, (pk = `<commandId>#edit`, sk =
 * `<domain>#<editNumber, 6 digits>`), written in one TransactWriteItems with the transition that makes
 * the edit. Its partition key is never a command id, and it carries no index keys: no query of
 * commands, audit trails, listings or indexes ever reads it.
 *
 * Parked commands are counted per group (command type, error type, error code) in counter items,
 * (pk = `tsqgroup#<domain>#<shard>`, sk = `<commandType>#<errorType>#<errorCode>`, '%' and '#'
 * escaped), the shard being the command's index shard: a write that parks or unparks a command moves
 * its group's counter by ±1 in the same TransactWriteItems. The happy path never parks, so never
 * pays for it. Counter items carry no index keys and their pk is never a command id.
 */
export class DynamoCommandStore implements CommandStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly byTime: ShardedIndexReader;
  private readonly tsq: ShardedIndexReader;

  private readonly tableName: string;
  private readonly shards: ShardSettingsCache;
  private readonly shardChangeDelayMs: number;

  constructor(client: DynamoDBClient, tableName: string, options: DynamoCommandStoreOptions = {}) {
    this.tableName = tableName;
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.shards = new ShardSettingsCache((domain) => this.readShardSettings(domain), options.shardSettingsTtlMs ?? SHARD_SETTINGS_TTL_MS);
    this.shardChangeDelayMs = options.shardChangeDelayMs ?? SHARD_CHANGE_DELAY_MS;
    this.byTime = new ShardedIndexReader(this.doc, tableName, {
      indexName: INDEXES.byTime.name,
      partitionKey: INDEXES.byTime.partitionKey,
      sortKey: INDEXES.byTime.sortKey,
    });
    this.tsq = new ShardedIndexReader(this.doc, tableName, {
      indexName: INDEXES.tsq.name,
      partitionKey: INDEXES.tsq.partitionKey,
      sortKey: INDEXES.tsq.sortKey,
    });
  }

  async insert(record: NewCommandRecord): Promise<InsertResult> {
    const { events, domain, commandId, ...rest } = record;
    const parked = record.status === CommandStatus.IN_TSQ;
    const shard = shardOf(commandId, await translated(this.shards.writeShards(domain)));
    const put = {
      TableName: this.tableName,
      Item: {
        pk: commandId,
        sk: domain,
        ...rest,
        events: events.map(toStored),
        [INDEXES.byTime.partitionKey]: shardKey(domain, shard),
        [INDEXES.byTime.sortKey]: timeSortKey(record.createdAt, commandId),
        // A record created parked (a malformed or dead-lettered message) is listed in the TSQ at once.
        ...(parked
          ? {
              [INDEXES.tsq.partitionKey]: shardKey(domain, shard),
              [INDEXES.tsq.sortKey]: timeSortKey(record.updatedAt, commandId),
              movedToTsqAt: record.updatedAt,
            }
          : {}),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    if (parked) {
      // ...and counted in its group, in the same transaction.
      const counter = this.groupCounter(domain, shard, tsqGroupOf(record.commandType, record.lastError), 1);
      const result = await this.transact([{ Put: put }, { Update: counter }], domain, commandId);
      return result.applied ? { created: true } : { created: false, existing: result.current ?? (await this.get(domain, commandId))! };
    }
    try {
      await this.doc.send(new PutCommand(put));
      return { created: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return { created: false, existing: toState(unmarshall(error.Item)) };
      }
      throw translate(error);
    }
  }

  async apply(transition: Transition): Promise<ApplyResult> {
    const names: Record<string, string> = { '#status': 'status', '#token': 'token' };
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    const set = (attribute: string, value: unknown) => {
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = value;
      sets.push(`#${attribute} = :${attribute}`);
    };

    const { expect, set: changes } = transition;
    const conditions = ['#token = :expectToken'];
    values[':expectToken'] = expect.token;
    if (typeof expect.status === 'string') {
      conditions.push('#status = :expectStatus');
      values[':expectStatus'] = expect.status;
    } else {
      const placeholders = expect.status.map((status, i) => {
        values[`:expectStatus${i}`] = status;
        return `:expectStatus${i}`;
      });
      conditions.push(`#status IN (${placeholders.join(', ')})`);
    }
    if (expect.attempts !== undefined) {
      names['#attempts'] = 'attempts';
      values[':expectAttempts'] = expect.attempts;
      conditions.push('#attempts = :expectAttempts');
    }
    if (expect.lease !== undefined) {
      names['#lease'] = 'lease';
      values[':expectLease'] = expect.lease;
      conditions.push('#lease = :expectLease');
    }
    if (expect.edits !== undefined) {
      names['#edits'] = 'edits';
      values[':expectEdits'] = expect.edits;
      conditions.push(expect.edits === 0 ? '(attribute_not_exists(#edits) OR #edits = :expectEdits)' : '#edits = :expectEdits');
    }

    set('status', changes.status);
    set('updatedAt', changes.updatedAt);
    if (changes.attempts !== undefined) set('attempts', changes.attempts);
    if (changes.token !== undefined) set('token', changes.token);
    if (changes.lease !== undefined) set('lease', changes.lease);
    if (changes.edits !== undefined) set('edits', changes.edits);
    if (changes.result !== undefined) set('result', changes.result);
    for (const attribute of ['lastError', 'data', 'pendingRetry'] as const) {
      const value = changes[attribute];
      if (value === null) {
        names[`#${attribute}`] = attribute;
        removes.push(`#${attribute}`);
      } else if (value !== undefined) {
        set(attribute, value);
      }
    }
    const group = changes.tsq === undefined ? undefined : changes.tsqGroup;
    if (changes.tsq !== undefined && group === undefined)
      throw new Error(`a transition that moves ${transition.commandId} in or out of the TSQ must name its tsqGroup`);
    // Index keys and counters written now go to the shard of the count in effect now. A leave may
    // count down another shard than its park counted up: readers sum every shard, so totals stay exact.
    const shard =
      changes.tsq !== undefined || transition.createIfMissing ? shardOf(transition.commandId, await translated(this.shards.writeShards(transition.domain))) : 0;
    if (changes.tsq === 'leave' && group) {
      // The command leaves the group it is counted in: refused if it is no longer in that group.
      names['#commandType'] = 'commandType';
      names['#lastError'] = 'lastError';
      names['#errorType'] = 'type';
      names['#errorCode'] = 'code';
      values[':groupCommandType'] = group.commandType;
      const counted = '#commandType = :groupCommandType';
      if (group.errorCode === UNKNOWN_ERROR_CODE) {
        conditions.push(`${counted} AND attribute_not_exists(#lastError)`);
      } else {
        values[':groupErrorType'] = group.errorType;
        values[':groupErrorCode'] = group.errorCode;
        conditions.push(`${counted} AND #lastError.#errorType = :groupErrorType AND #lastError.#errorCode = :groupErrorCode`);
      }
    }
    if (changes.tsq === 'enter') {
      set(INDEXES.tsq.partitionKey, shardKey(transition.domain, shard));
      set(INDEXES.tsq.sortKey, timeSortKey(changes.updatedAt, transition.commandId));
      set('movedToTsqAt', changes.updatedAt);
    } else if (changes.tsq === 'leave') {
      for (const attribute of [INDEXES.tsq.partitionKey, INDEXES.tsq.sortKey, 'movedToTsqAt']) {
        names[`#${attribute}`] = attribute;
        removes.push(`#${attribute}`);
      }
    }
    names['#events'] = 'events';
    values[':events'] = transition.events.map(toStored);
    const create = transition.createIfMissing;
    if (create) {
      // Upsert: identity fields only where absent, first events before this transition's.
      const setIfAbsent = (attribute: string, value: unknown) => {
        names[`#${attribute}`] = attribute;
        values[`:${attribute}`] = value;
        sets.push(`#${attribute} = if_not_exists(#${attribute}, :${attribute})`);
      };
      for (const [attribute, value] of Object.entries(create.identity)) if (value !== undefined && attribute !== 'token') setIfAbsent(attribute, value);
      setIfAbsent(INDEXES.byTime.partitionKey, shardKey(transition.domain, shard));
      setIfAbsent(INDEXES.byTime.sortKey, timeSortKey(create.identity.createdAt, transition.commandId));
      if (changes.token === undefined) {
        values[':createToken'] = create.identity.token;
        sets.push('#token = if_not_exists(#token, :createToken)');
      }
      values[':firstEvents'] = create.events.map(toStored);
      sets.push('#events = list_append(if_not_exists(#events, :firstEvents), :events)');
      conditions.splice(0, conditions.length, `attribute_not_exists(pk) OR (${conditions.join(' AND ')})`);
    } else {
      sets.push('#events = list_append(#events, :events)');
    }

    const update = {
      TableName: this.tableName,
      Key: { pk: transition.commandId, sk: transition.domain },
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    } satisfies TransactUpdate;
    if (transition.history || group) {
      const items: TransactItem[] = [{ Update: update }];
      const { history } = transition;
      if (history) {
        const { domain, commandId, ...stored } = history;
        items.push({
          Put: {
            TableName: this.tableName,
            Item: { pk: historyKey(commandId), sk: editSortKey(domain, history.editNumber), ...stored },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        });
      }
      if (group) items.push({ Update: this.groupCounter(transition.domain, shard, group, changes.tsq === 'enter' ? 1 : -1) });
      return this.transact(items, transition.domain, transition.commandId);
    }
    try {
      await this.doc.send(new UpdateCommand(update));
      return { applied: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return error.Item ? { applied: false, current: toState(unmarshall(error.Item)) } : { applied: false };
      }
      throw translate(error);
    }
  }

  /** The counter of a TSQ group in the command's shard, moved by `delta` (its attributes name the group). */
  private groupCounter(domain: string, shard: number, group: TsqGroupKey, delta: 1 | -1): TransactUpdate {
    return {
      TableName: this.tableName,
      Key: { pk: groupPartitionKey(domain, shard), sk: groupSortKey(group) },
      UpdateExpression: 'ADD #count :delta SET #commandType = :commandType, #errorType = :errorType, #errorCode = :errorCode',
      ExpressionAttributeNames: { '#count': 'count', '#commandType': 'commandType', '#errorType': 'errorType', '#errorCode': 'errorCode' },
      ExpressionAttributeValues: { ':delta': delta, ':commandType': group.commandType, ':errorType': group.errorType, ':errorCode': group.errorCode },
    };
  }

  /**
   * A command's write with the items that go with it (its payload edit, its TSQ group's counter) in
   * one transaction: all land or none does. The command's write comes first; a refusal of it returns
   * the command as it was; a refusal of the edit's put means the edit count moved on meanwhile.
   */
  private async transact(items: TransactItem[], domain: string, commandId: string): Promise<ApplyResult> {
    // A transaction cancelled for a conflict (another transaction on the same counter item, e.g. a
    // bulk retry of one group) did not apply: trying it again is safe, and usually enough.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactOnce(items, domain, commandId);
      } catch (error) {
        if (!(error instanceof TransactionConflict) || attempt >= TRANSACTION_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * 2 ** attempt));
      }
    }
  }

  private async transactOnce(items: TransactItem[], domain: string, commandId: string): Promise<ApplyResult> {
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return { applied: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw translate(error);
      const cancellations = error.CancellationReasons ?? [];
      const [command] = cancellations;
      if (command?.Code === 'ConditionalCheckFailed') {
        return command.Item ? { applied: false, current: toState(unmarshall(command.Item)) } : { applied: false };
      }
      // The edit's item exists already: the command's edit count moved on meanwhile.
      if (cancellations.slice(1).some((reason) => reason.Code === 'ConditionalCheckFailed'))
        return { applied: false, current: await this.get(domain, commandId) };
      const reasons = cancellations.map((reason) => `${reason.Code ?? 'None'}: ${reason.Message ?? ''}`).join('; ');
      if (cancellations.some((reason) => reason.Code === 'ValidationError' && /size/i.test(reason.Message ?? ''))) {
        return Promise.reject(new ItemTooLargeError(`the write would exceed the item size limit (${reasons})`, { cause: error }));
      }
      if (cancellations.some((reason) => reason.Code === 'TransactionConflict' || reason.Code === 'ThrottlingError')) {
        throw new TransactionConflict(`DynamoDB did not apply the transaction (${reasons})`, { cause: error });
      }
      throw translate(error);
    }
  }

  tsqGroups(domain: string): Promise<TsqGroupCount[]> {
    return translated(this.readTsqGroups(domain));
  }

  oldestParked(domain: string): Promise<{ commandId: string; movedToTsqAt: string } | undefined> {
    return translated(this.readOldestParked(domain));
  }

  /** Each shard's first `tsq` entry, oldest first (one entry per shard, ≥ 0.5 RCU each): the least of them. */
  private async readOldestParked(domain: string): Promise<{ commandId: string; movedToTsqAt: string } | undefined> {
    const firsts = await Promise.all(
      Array.from({ length: await this.shards.readShards(domain) }, async (_, shard) => {
        const response = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEXES.tsq.name,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': INDEXES.tsq.partitionKey, '#sk': INDEXES.tsq.sortKey },
            ExpressionAttributeValues: { ':pk': shardKey(domain, shard) },
            ProjectionExpression: '#sk',
            ScanIndexForward: true,
            Limit: 1,
          }),
        );
        return response.Items?.[0]?.[INDEXES.tsq.sortKey] as string | undefined;
      }),
    );
    const oldest = firsts.filter((key): key is string => key !== undefined).sort()[0];
    if (oldest === undefined) return undefined;
    const split = oldest.lastIndexOf('#');
    return { movedToTsqAt: oldest.slice(0, split), commandId: oldest.slice(split + 1) };
  }

  /** One Query per shard (a domain's groups in that shard, a few hundred bytes each), summed per group. */
  private async readTsqGroups(domain: string): Promise<TsqGroupCount[]> {
    const totals = new Map<string, TsqGroupCount>();
    await Promise.all(
      Array.from({ length: await this.shards.readShards(domain) }, async (_, shard) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          const response = await this.doc.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': groupPartitionKey(domain, shard) },
              ConsistentRead: true,
              ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            }),
          );
          for (const item of response.Items ?? []) {
            const key = item.sk as string;
            const total = totals.get(key);
            if (total) total.count += item.count as number;
            else
              totals.set(key, {
                domain,
                commandType: item.commandType as string,
                errorType: item.errorType as TsqGroupCount['errorType'],
                errorCode: item.errorCode as string,
                count: item.count as number,
              });
          }
          startKey = response.LastEvaluatedKey;
        } while (startKey);
      }),
    );
    return byCount([...totals.values()].filter((group) => group.count > 0));
  }

  history(query: HistoryQuery): Promise<Page<PayloadEdit>> {
    return translated(this.readHistory(query));
  }

  private async readHistory(query: HistoryQuery): Promise<Page<PayloadEdit>> {
    const { domain, commandId } = query;
    const limit = query.limit ?? 10;
    const after = query.cursor === undefined ? 0 : decodeHistoryCursor(query.cursor, domain, commandId);
    const items: PayloadEdit[] = [];
    let startKey: Record<string, unknown> | undefined;
    // A page of DynamoDB stops at 1 MB (about three edits of 128 KiB payloads): read on until `limit`.
    do {
      const response = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': historyKey(commandId), ':from': editSortKey(domain, after + 1), ':to': editSortKey(domain, MAX_EDIT_NUMBER) },
          ConsistentRead: true,
          Limit: limit + 1 - items.length,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of response.Items ?? []) {
        const { pk: _pk, sk: _sk, ...edit } = item;
        items.push({ domain, commandId, ...edit } as PayloadEdit);
      }
      startKey = response.LastEvaluatedKey;
    } while (startKey && items.length <= limit);
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return items.length > limit && last ? { items: page, nextCursor: encodeHistoryCursor(domain, commandId, last.editNumber) } : { items: page };
  }

  async shardSettings(domain: string): Promise<ShardSettings> {
    return shardSettingsView(domain, await translated(this.shards.fresh(domain)), Date.now());
  }

  /**
   * Writes a change of the shard count over the settings it was computed from (a concurrent change
   * makes it read and compute again), strongly consistent, then keeps it as this process's copy.
   */
  async setShardCount(change: { domain: string; shards: number; operator: string }): Promise<ShardSettings> {
    for (let attempt = 1; ; attempt++) {
      const current = await translated(this.readShardSettings(change.domain));
      const now = Date.now();
      const next = changeShardCount(current, { shards: change.shards, operator: change.operator, now, delayMs: this.shardChangeDelayMs });
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: settingsPartitionKey(change.domain), sk: SETTINGS_SORT_KEY, ...next },
            ConditionExpression: current ? 'version = :version' : 'attribute_not_exists(pk)',
            ...(current ? { ExpressionAttributeValues: { ':version': current.version } } : {}),
          }),
        );
        this.shards.remember(change.domain, next);
        return shardSettingsView(change.domain, next, now);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) || attempt >= TRANSACTION_ATTEMPTS) throw translate(error);
      }
    }
  }

  /** The domain's settings item (strongly consistent, ≈ 200 bytes: 1 read unit), absent for a domain never changed. */
  private async readShardSettings(domain: string): Promise<StoredShardSettings | undefined> {
    const response = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: settingsPartitionKey(domain), sk: SETTINGS_SORT_KEY }, ConsistentRead: true }),
    );
    if (!response.Item) return undefined;
    const { pk: _pk, sk: _sk, ...stored } = response.Item;
    return stored as StoredShardSettings;
  }

  async get(domain: string, commandId: string): Promise<CommandState | undefined> {
    const response = await this.doc
      .send(new GetCommand({ TableName: this.tableName, Key: { pk: commandId, sk: domain }, ConsistentRead: true }))
      .catch((error: unknown) => {
        throw translate(error);
      });
    return response.Item ? toState(response.Item) : undefined;
  }

  auditTrail(commandId: string, domain?: string): Promise<AuditEvent[]> {
    return translated(this.readAuditTrail(commandId, domain));
  }

  query(query: CommandQuery): Promise<Page<CommandState>> {
    return translated(this.readQuery(query));
  }

  listTsq(query: TsqQuery): Promise<Page<CommandState>> {
    return translated(this.readTsq(query));
  }

  private async readAuditTrail(commandId: string, domain?: string): Promise<AuditEvent[]> {
    const response = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: domain === undefined ? 'pk = :pk' : 'pk = :pk AND sk = :sk',
        ExpressionAttributeValues: domain === undefined ? { ':pk': commandId } : { ':pk': commandId, ':sk': domain },
        ProjectionExpression: 'pk, sk, events',
        ConsistentRead: true,
      }),
    );
    // The order within an item is the order of the writes (clocks of different hosts may disagree);
    // only commands of different domains sharing the id are ordered by their first event.
    const trails = (response.Items ?? []).map((item) =>
      ((item.events as StoredEvent[] | undefined) ?? []).map((stored) => fromStored(stored, item.pk as string, item.sk as string)),
    );
    const firstAt = (trail: AuditEvent[]) => trail[0]?.timestamp ?? '';
    return trails.sort((a, b) => (firstAt(a) < firstAt(b) ? -1 : firstAt(a) > firstAt(b) ? 1 : 0)).flat();
  }

  private async readQuery(query: CommandQuery): Promise<Page<CommandState>> {
    if (query.status === CommandStatus.IN_TSQ) {
      const { status: _status, ...tsqQuery } = query;
      return this.readTsq(tsqQuery);
    }
    const limit = query.limit ?? 25;
    const matches: CommandState[] = [];
    let cursor = query.cursor;
    const shards = await this.shards.readShards(query.domain);
    // The time index holds keys, type and correlation id only (it is written once per command);
    // status is read from the items. Rounds are bounded so a rare status cannot turn one call into a table scan.
    for (let round = 0; round < MAX_FILTER_ROUNDS && matches.length < limit; round++) {
      const scope = { ...range(query), filters: { commandType: query.commandType, status: query.status, correlationId: query.correlationId } };
      const page = await this.byTime.page(query.domain, scope, limit - matches.length, cursor, shards);
      // Type and correlation id are projected: only the entries that match cost an item read.
      const candidates = page.items.filter(
        (entry) =>
          (query.commandType === undefined || entry.commandType === query.commandType) &&
          (query.correlationId === undefined || entry.correlationId === query.correlationId),
      );
      const states = await this.batchGet(candidates.map((entry) => ({ pk: entry.pk as string, sk: entry.sk as string })));
      matches.push(...states.filter((state) => query.status === undefined || state.status === query.status));
      cursor = page.cursor;
      if (cursor === undefined) break;
    }
    return cursor === undefined ? { items: matches } : { items: matches, nextCursor: cursor };
  }

  /**
   * The tsq index projects every attribute, so the filters (command type, error code and type) are
   * applied to the entries themselves, no item read. The time window is the key condition. A rare
   * match costs rounds: at most MAX_FILTER_ROUNDS per call, after which the page may hold fewer than
   * `limit` with a cursor to go on. The cursor is bound to every filter.
   */
  private async readTsq(query: TsqQuery & { correlationId?: string }): Promise<Page<CommandState>> {
    const limit = query.limit ?? 25;
    const matches: CommandState[] = [];
    let cursor = query.cursor;
    const filters = { commandType: query.commandType, errorCode: query.errorCode, errorType: query.errorType, correlationId: query.correlationId };
    const shards = await this.shards.readShards(query.domain);
    for (let round = 0; round < MAX_FILTER_ROUNDS && matches.length < limit; round++) {
      const page = await this.tsq.page(query.domain, { ...range(query), filters }, limit - matches.length, cursor, shards);
      matches.push(...page.items.map(toState).filter((state) => matchesTsqFilters(state, query)));
      cursor = page.cursor;
      if (cursor === undefined) break;
    }
    return cursor === undefined ? { items: matches } : { items: matches, nextCursor: cursor };
  }

  private async batchGet(keys: { pk: string; sk: string }[]): Promise<CommandState[]> {
    const found = new Map<string, CommandState>();
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
      for (let tries = 0; pending && pending.length > 0; tries++) {
        if (tries === 6) {
          // Never hand out a page with holes: the cursor would move past the missing commands.
          throw new Error(`BatchGetItem left ${pending.length} keys unprocessed after ${tries} tries (throttled); try the page again`);
        }
        if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** tries));
        const response: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of response.Responses?.[this.tableName] ?? []) found.set(`${item.pk}|${item.sk}`, toState(item));
        pending = response.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    // Keep the index order (newest first).
    return keys.map((key) => found.get(`${key.pk}|${key.sk}`)).filter((state): state is CommandState => state !== undefined);
  }
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);
const UNAVAILABLE_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
]);

/** Reads answer in the port's language too. */
async function translated<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    throw translate(error);
  }
}

/** DynamoDB's answers in the port's language: "unavailable" (outcome unknown, safe to retry) or "item too large". */
function translate(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const sdk = error as Error & { $fault?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  if (sdk.name === 'ValidationException' && /item size|exceeded the maximum allowed size/i.test(sdk.message)) {
    return new ItemTooLargeError(sdk.message, { cause: error });
  }
  const unavailable =
    UNAVAILABLE_NAMES.has(sdk.name) ||
    sdk.$fault === 'server' ||
    (sdk.$metadata?.httpStatusCode ?? 0) >= 500 ||
    (sdk.code !== undefined && NETWORK_CODES.has(sdk.code));
  return unavailable ? new StoreUnavailableError(`DynamoDB did not answer: ${sdk.name}: ${sdk.message}`, { cause: error }) : error;
}

/** Whether a parked command passes a TSQ query's filters (command type, error code, error type, correlation id). */
function matchesTsqFilters(state: CommandState, query: TsqQuery & { correlationId?: string }): boolean {
  return (
    (query.commandType === undefined || state.commandType === query.commandType) &&
    (query.correlationId === undefined || state.correlationId === query.correlationId) &&
    (query.errorCode === undefined || state.lastError?.code === query.errorCode) &&
    (query.errorType === undefined || state.lastError?.type === query.errorType)
  );
}

/** createdAt-based bounds, expressed on `<timestamp>#<commandId>` sort keys. */
function range(query: { from?: string; to?: string }): { from?: string; to?: string } {
  return { ...(query.from ? { from: query.from } : {}), ...(query.to ? { to: query.to } : {}) };
}

/** Largest group first; ties by command type, error type, error code. */
export function byCount(groups: TsqGroupCount[]): TsqGroupCount[] {
  const key = (group: TsqGroupCount) => `${group.commandType}\u0000${group.errorType}\u0000${group.errorCode}`;
  return groups.sort((a, b) => b.count - a.count || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** A domain's shard settings: never a command id (those are UUIDs), no index keys, no status. */
const settingsPartitionKey = (domain: string) => `settings#${domain}`;
const SETTINGS_SORT_KEY = 'indexShards';

/** TSQ group counters: one partition per domain and shard, never a command id (those are UUIDs). */
const groupPartitionKey = (domain: string, shard: number) => `tsqgroup#${domain}#${shard}`;
const escapeKeyPart = (part: string) => part.replaceAll('%', '%25').replaceAll('#', '%23');
const groupSortKey = (group: TsqGroupKey) => [group.commandType, group.errorType, group.errorCode].map(escapeKeyPart).join('#');

/** Payload edits live under their own partition key, never a command id (those are UUIDs). */
const historyKey = (commandId: string) => `${commandId}#edit`;
const MAX_EDIT_NUMBER = 999_999;
/** Zero-padded so the sort key orders edits by number. */
const editSortKey = (domain: string, editNumber: number) => `${domain}#${String(editNumber).padStart(6, '0')}`;

function encodeHistoryCursor(domain: string, commandId: string, after: number): string {
  return Buffer.from(JSON.stringify({ h: `${domain}/${commandId}`, after })).toString('base64url');
}

function decodeHistoryCursor(cursor: string, domain: string, commandId: string): number {
  const invalid = (why: string) => new ValidationError('cursor', `is not a cursor returned by this API (${why}); start again without one`);
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    throw invalid('not JSON');
  }
  const { h, after } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { h?: unknown; after?: unknown };
  if (typeof h !== 'string' || typeof after !== 'number' || !Number.isInteger(after) || after < 0 || after > MAX_EDIT_NUMBER) {
    throw invalid('unknown version or shape');
  }
  if (h !== `${domain}/${commandId}`) throw new ValidationError('cursor', 'was issued for the history of another command; start again without one');
  return after;
}
