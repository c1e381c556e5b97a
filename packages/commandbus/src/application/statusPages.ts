/**
 * A page of commands in one status, newest first, guided by the stats: the per-creation-minute status
 * counts say which minutes hold a command in that status, so only those minutes are read from the
 * store — a rare status fills a page in bounded reads instead of paging through empty ones.
 *
 * Eventually consistent, as the stats are: a command whose status changed after the aggregation last
 * saw its creation minute is found once the aggregator has caught up (the batching window). The
 * minutes after the aggregation's latest change (`asOf`, less a minute) are always read unguided, so
 * new commands are never missed; where nothing is aggregated at all, everything is read unguided.
 */
import { createHash } from 'node:crypto';
import { EARLIEST_TIME, validateQuery } from '../domain/query.ts';
import { rangesOf, statusCountsOf, type StatsItem } from '../domain/stats.ts';
import type { CommandState } from '../domain/lifecycle.ts';
import { ValidationError } from '../errors.ts';
import type { CommandStore } from '../ports/CommandStore.ts';
import type { StatsStore } from '../ports/StatsStore.ts';
import { CommandStatus, type Page } from '../types.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Store calls per page at most; a page may come back short with a cursor (as filtered pages do). */
export const MAX_STORE_CALLS = 10;
/** Stats Queries per page at most (hours and minutes of the days descended into). */
export const MAX_STATS_QUERIES = 24;

export interface StatusPageQuery {
  domain: string;
  status: CommandStatus;
  /** ISO-8601, inclusive: createdAt >= from. */
  from?: string;
  /** ISO-8601, exclusive: createdAt < to (default now). */
  to?: string;
  /** 1–100, default 25. */
  limit?: number;
  cursor?: string;
}

/** Where a page stopped: everything created at or after `before` was handed out, and within [from, to) the store's cursor. */
interface Position {
  q: string;
  before: number;
  inner?: { from: number; to: number; cursor: string };
}

export interface StatusPage extends Page<CommandState> {
  /** Reads made: Queries of stats items and calls of the store. */
  reads: { stats: number; store: number };
}

export async function queryByStatus(store: CommandStore, stats: StatsStore, query: StatusPageQuery, now = Date.now()): Promise<StatusPage> {
  const valid = validateQuery({ ...query, status: query.status });
  if (!Object.values(CommandStatus).includes(valid.status)) throw new ValidationError('status', 'is required');
  const limit = valid.limit ?? 25;
  const from = valid.from === undefined ? EARLIEST_TIME : Date.parse(valid.from);
  const to = valid.to === undefined ? now : Date.parse(valid.to);
  // Bound to the window as asked (an open `to` is "now" at every page: the cursor's position carries on).
  const binding = bindingOf(valid.domain, valid.status, from, valid.to ?? null);
  const position: Position = valid.cursor === undefined ? { q: binding, before: to } : decode(valid.cursor, binding);
  const reads = { stats: 0, store: 0 };
  const items: CommandState[] = [];

  // The store, over [a, b) of creation time, until the page is full or the range exhausted.
  const readRange = async (a: number, b: number, cursor?: string): Promise<Position | undefined> => {
    let next = cursor;
    while (reads.store < MAX_STORE_CALLS) {
      reads.store++;
      const page = await store.query({
        domain: valid.domain,
        status: valid.status,
        from: iso(a),
        to: iso(b),
        limit: limit - items.length,
        ...(next ? { cursor: next } : {}),
      });
      items.push(...page.items);
      next = page.nextCursor;
      if (!next) {
        if (items.length >= limit) return { q: binding, before: a };
        return undefined;
      }
      if (items.length >= limit) return { q: binding, before: b, inner: { from: a, to: b, cursor: next } };
    }
    return next ? { q: binding, before: b, inner: { from: a, to: b, cursor: next } } : { q: binding, before: a };
  };

  const done = (at: Position | undefined): StatusPage => ({
    items,
    ...(at && at.before > from ? { nextCursor: encode(at) } : {}),
    reads,
  });

  // A range the last page stopped inside goes on with its own cursor.
  let before = position.before;
  if (position.inner) {
    const stopped = await readRange(position.inner.from, position.inner.to, position.inner.cursor);
    if (stopped) return done(stopped);
    before = position.inner.from;
  }

  // IN_TSQ is listed from the sparse TSQ index already: nothing to skip.
  if (valid.status === CommandStatus.IN_TSQ) return done(before > from ? await readRange(from, before) : undefined);

  // Days of the window, with the aggregation's progress.
  reads.stats++;
  const days = await stats.read(rangesOf(valid.domain, 'day', Math.floor(from / DAY) * DAY, before));
  const asOf = days.reduce((latest, day) => Math.max(latest, day.lastEventAt ? Date.parse(day.lastEventAt) : 0), 0);
  // What the aggregation may not have seen yet is read unguided.
  const freshFrom = Math.max(from, Math.min(before, Math.floor(asOf / MINUTE) * MINUTE - MINUTE));
  if (before > freshFrom) {
    const stopped = await readRange(freshFrom, before);
    if (stopped || items.length >= limit) return done(stopped ?? { q: binding, before: freshFrom });
    before = freshFrom;
  }

  const has = (item: StatsItem) => (statusCountsOf(item.counters)[valid.status] ?? 0) > 0;
  const byStart = (items: StatsItem[]) => items.filter(has).sort((a, b) => Date.parse(b.start) - Date.parse(a.start));
  for (const day of byStart(days)) {
    const dayStart = Date.parse(day.start);
    if (dayStart >= before) continue;
    if (reads.stats >= MAX_STATS_QUERIES) return done({ q: binding, before });
    reads.stats++;
    const hours = byStart(
      await stats.read(rangesOf(valid.domain, 'hour', Math.max(dayStart, Math.floor(from / HOUR) * HOUR), Math.min(dayStart + DAY, before))),
    );
    for (const hour of hours) {
      const hourStart = Date.parse(hour.start);
      if (reads.stats >= MAX_STATS_QUERIES) return done({ q: binding, before });
      reads.stats++;
      const minutes = byStart(
        await stats.read(rangesOf(valid.domain, 'minute', Math.max(hourStart, Math.floor(from / MINUTE) * MINUTE), Math.min(hourStart + HOUR, before))),
      );
      // Adjacent minutes are one range (newest first).
      const ranges: [number, number][] = [];
      for (const minute of minutes) {
        const start = Date.parse(minute.start);
        const last = ranges.at(-1);
        if (last && last[0] === start + MINUTE) last[0] = start;
        else ranges.push([start, start + MINUTE]);
      }
      for (const [a, b] of ranges) {
        const lower = Math.max(a, from);
        const upper = Math.min(b, before);
        if (upper <= lower) continue;
        const stopped = await readRange(lower, upper);
        if (stopped) return done(stopped);
        before = lower;
        if (reads.store >= MAX_STORE_CALLS) return done({ q: binding, before });
      }
      before = Math.min(before, Math.max(hourStart, from));
    }
    before = Math.min(before, Math.max(dayStart, from));
  }
  return done(undefined);
}

const iso = (ms: number) => new Date(ms).toISOString();

function bindingOf(domain: string, status: string, from: number, to: string | null): string {
  return createHash('sha256')
    .update(JSON.stringify([domain, status, from, to]))
    .digest('base64url')
    .slice(0, 16);
}

function encode(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decode(cursor: string, binding: string): Position {
  let position: Position;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
  } catch {
    throw new ValidationError('cursor', 'is not a cursor this query returned');
  }
  const inner = position?.inner;
  const valid =
    typeof position === 'object' &&
    position !== null &&
    position.q === binding &&
    Number.isFinite(position.before) &&
    (inner === undefined || (Number.isFinite(inner.from) && Number.isFinite(inner.to) && typeof inner.cursor === 'string'));
  if (!valid) throw new ValidationError('cursor', 'is not a cursor this query returned (for this domain, status and window)');
  return position;
}
