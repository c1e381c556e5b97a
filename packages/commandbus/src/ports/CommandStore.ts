import type { CommandState, NewCommandRecord, Transition } from '../domain/lifecycle.ts';
import type { ShardSettings } from '../domain/shards.ts';
import type { AuditEvent, CommandQuery, HistoryQuery, Page, PayloadEdit, TsqGroupCount, TsqQuery } from '../types.ts';

/**
 * The store did not answer in a way that says whether a write happened (a timeout, a dropped
 * connection, throttling, a server error). Retrying a conditional write is safe; its outcome must be
 * learned before anything is concluded from it.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** The write would make the command's item larger than the store allows (DynamoDB: 400 KB). */
export class ItemTooLargeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ItemTooLargeError';
  }
}

export type InsertResult = { created: true } | { created: false; existing: CommandState };

/** `current` is the command as it was when the write was refused (absent if it does not exist). */
export type ApplyResult = { applied: true } | { applied: false; current?: CommandState };

/** Where commands and their audit trails live. Every method is one request or a bounded few. */
export interface CommandStore {
  /**
   * Creates the command unless (domain, commandId) exists; then returns what exists. A record created
   * parked (IN_TSQ) is counted in its TSQ group in the same atomic write.
   */
  insert(record: NewCommandRecord): Promise<InsertResult>;
  /**
   * Applies a transition as one conditional write: state and its audit events together. A transition
   * with `history` (an operator's payload edit) also records that edit, in the same atomic write; it
   * is refused (applied: false) unless the command has exactly `expect.edits` edits recorded. A
   * transition that parks or unparks (`set.tsq`) moves its group's count (`set.tsqGroup`, required
   * with `tsq`) in the same atomic write; one that leaves is refused unless the command is still
   * counted in that group (its type and lastError's type and code).
   */
  apply(transition: Transition): Promise<ApplyResult>;
  get(domain: string, commandId: string): Promise<CommandState | undefined>;
  /** Oldest first. Without a domain: the events of every command with that id. */
  auditTrail(commandId: string, domain?: string): Promise<AuditEvent[]>;
  query(query: CommandQuery): Promise<Page<CommandState>>;
  listTsq(query: TsqQuery): Promise<Page<CommandState>>;
  /**
   * The exact number of parked commands of a domain per group (command type, error type, error code),
   * groups with none left out; largest first. Never a scan: the counts are kept by the writes that
   * park and unpark (see docs/data-model.md).
   */
  tsqGroups(domain: string): Promise<TsqGroupCount[]>;
  /** The domain's longest-parked command (by when it was parked), or undefined when none is parked. One small read per index shard. */
  oldestParked(domain: string): Promise<{ commandId: string; movedToTsqAt: string } | undefined>;
  /** The payload edits of a command, oldest first (editNumber 1, 2 …); empty when it has none or does not exist. */
  history(query: HistoryQuery): Promise<Page<PayloadEdit>>;
  /** The domain's index shard counts (the default, 8, for a domain never changed). */
  shardSettings(domain: string): Promise<ShardSettings>;
  /**
   * Sets the domain's shard count (validated by the caller: 1 … MAX_INDEX_SHARDS): readers query the
   * new count at once if it is higher (the read count never shrinks), writers switch to it after the
   * store's change delay. Nothing already written moves. Returns the settings as now written.
   */
  setShardCount(change: { domain: string; shards: number; operator: string }): Promise<ShardSettings>;
}
