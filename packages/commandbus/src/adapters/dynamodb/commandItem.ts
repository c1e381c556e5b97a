/**
 * The command item's layout: how a command's state and audit events are written to and read from
 * its DynamoDB item. The in-memory twin stores the same layout, so both read back alike.
 */
import type { CommandState, NewEvent } from '../../domain/lifecycle.ts';
import type { AuditEvent } from '../../types.ts';

export type Item = Record<string, unknown>;

/** Audit events live inside the command item (short keys keep a happy-path item under 1 KB). */
export interface StoredEvent {
  e: string;
  t: string;
  a: number;
  d?: Item;
}

export function toStored(event: NewEvent): StoredEvent {
  const stored: StoredEvent = { e: event.eventType, t: event.timestamp, a: event.attempt };
  if (Object.keys(event.details).length > 0) stored.d = event.details;
  return stored;
}

export function fromStored(stored: StoredEvent, commandId: string, domain: string): AuditEvent {
  return {
    commandId,
    domain,
    eventType: stored.e as AuditEvent['eventType'],
    timestamp: stored.t,
    attempt: stored.a,
    details: (stored.d ?? {}) as AuditEvent['details'],
  };
}

export function toState(item: Item): CommandState {
  const state: CommandState = {
    domain: item.sk as string,
    commandId: item.pk as string,
    commandType: item.commandType as string,
    status: item.status as CommandState['status'],
    attempts: item.attempts as number,
    maxAttempts: item.maxAttempts as number,
    token: item.token as string,
    correlationId: item.correlationId as string,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
  };
  for (const optional of ['replyTo', 'lastError', 'result', 'data', 'movedToTsqAt', 'pendingRetry', 'lease', 'edits'] as const) {
    if (item[optional] !== undefined) (state as unknown as Item)[optional] = item[optional];
  }
  return state;
}
