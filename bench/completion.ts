/**
 * When each command reached COMPLETED, without asking DynamoDB:
 * - the bus: its CommandStore port, wrapped, reports every applied transition to COMPLETED the
 *   moment the store confirms it (no knowledge of the adapter's expressions needed);
 * - the floor: a middleware on its DynamoDB client timestamps every successful UpdateItem that sets
 *   `:status` = COMPLETED — placeholders the floor's own code writes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CommandStatus, type CommandStore } from '@commandbus/core';

/** The store, reporting each command whose transition to COMPLETED it applied. */
export function observeCompletions(store: CommandStore, onCompleted: (commandId: string) => void): CommandStore {
  return {
    insert: (record) => store.insert(record),
    get: (domain, commandId) => store.get(domain, commandId),
    auditTrail: (commandId, domain) => store.auditTrail(commandId, domain),
    query: (query) => store.query(query),
    listTsq: (query) => store.listTsq(query),
    history: (query) => store.history(query),
    tsqGroups: (domain) => store.tsqGroups(domain),
    oldestParked: (domain) => store.oldestParked(domain),
    shardSettings: (domain) => store.shardSettings(domain),
    setShardCount: (change) => store.setShardCount(change),
    apply: async (transition) => {
      const result = await store.apply(transition);
      if (result.applied && transition.set.status === CommandStatus.COMPLETED) onCompleted(transition.commandId);
      return result;
    },
  };
}

const COMPLETED = 'COMPLETED';

/** A plain string, or the string inside an `{ S: ... }` AttributeValue. */
function stringValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { S?: unknown }).S === 'string') return (value as { S: string }).S;
  return undefined;
}

export function attachCompletionProbe(client: DynamoDBClient, onCompleted: (commandId: string) => void): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: Record<string, unknown>; ExpressionAttributeValues?: Record<string, unknown> };
      const completes = context.commandName === 'UpdateItemCommand' && stringValue(input.ExpressionAttributeValues?.[':status']) === COMPLETED;
      const commandId = completes ? stringValue(input.Key?.pk) : undefined;
      const result = await next(args);
      if (commandId !== undefined) onCompleted(commandId);
      return result;
    },
    { step: 'initialize', name: 'benchCompletionProbe', priority: 'low' },
  );
}

/** Send and COMPLETED times per command (performance.now() ms), and waiting for a set to finish. */
export class CompletionTracker {
  private readonly sent = new Map<string, number>();
  private readonly completed = new Map<string, number>();
  private waiter: { pending: Set<string>; resolve: () => void; lastProgress: number } | undefined;
  /** COMPLETED writes for a command that had one already (should stay 0). */
  duplicateCompletions = 0;

  markSent(commandId: string): void {
    this.sent.set(commandId, performance.now());
  }

  markCompleted(commandId: string): void {
    if (this.completed.has(commandId)) {
      this.duplicateCompletions++;
      return;
    }
    this.completed.set(commandId, performance.now());
    const waiter = this.waiter;
    if (waiter?.pending.delete(commandId)) {
      waiter.lastProgress = performance.now();
      if (waiter.pending.size === 0) waiter.resolve();
    }
  }

  sentAt(commandId: string): number | undefined {
    return this.sent.get(commandId);
  }

  completedAt(commandId: string): number | undefined {
    return this.completed.get(commandId);
  }

  /**
   * Resolves with the ids that never completed: none once all have, or those still missing after
   * `stallMs` without any progress.
   */
  async waitForAll(commandIds: readonly string[], stallMs: number): Promise<string[]> {
    const pending = new Set(commandIds.filter((id) => !this.completed.has(id)));
    if (pending.size === 0) return [];
    const waiter = { pending, resolve: () => {}, lastProgress: performance.now() };
    const done = new Promise<void>((resolve) => (waiter.resolve = resolve));
    this.waiter = waiter;
    // A watchdog on local state only (no requests): gives up after stallMs without progress.
    const watchdog = setInterval(() => {
      if (performance.now() - waiter.lastProgress > stallMs) waiter.resolve();
    }, 250);
    try {
      await done;
    } finally {
      clearInterval(watchdog);
      this.waiter = undefined;
    }
    return [...pending];
  }
}
