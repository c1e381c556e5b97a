/**
 * Counts and rates from the table's change stream, as data (no I/O): what each change of a command
 * item adds to the stats items, where those items live, and how a time window is read back.
 *
 * A change record (the old and new image of one command item) becomes deltas on stats items:
 * - per **event minute** (UTC minute of the audit event): `sent`, `completed`, `failed`, `parked`,
 *   `cancelled`, and a completion-latency histogram (`l<index>`, see `latencyBucket`);
 * - per **creation minute** (the minute of the command's `createdAt`): the count in each status
 *   (`s<STATUS>`: −1 for the old status, +1 for the new), so summing the minutes of [from, to)
 *   gives exactly how many commands created then are in each status now.
 * Every delta goes to the minute item and to the hour and day rollups containing it, so a window is
 * a handful of Queries: whole days in the middle, whole hours beside them, minutes at the edges.
 * The deltas are sums, so the order records are applied in does not matter; only that each record
 * is applied once per stats item (the adapter's per-shard watermarks see to that).
 */
import { AuditEventType, CommandStatus } from '../types.ts';

export type Granularity = 'minute' | 'hour' | 'day';

/** The counters a stats item holds (top-level numeric attributes, added to with DynamoDB `ADD`). */
export type StatsDelta = Record<string, number>;

/** One stats item: its key, and its period's start. */
export interface StatsKey {
  pk: string;
  sk: string;
  granularity: Granularity;
  /** ISO start of the period (minute, hour or day), UTC. */
  start: string;
}

/** A change of one table item, as the stream reports it (images already unmarshalled). */
export interface ChangeRecord {
  /** The record's sequence number in its stream shard (decimal digits). */
  sequenceNumber: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  oldImage?: Record<string, unknown>;
  newImage?: Record<string, unknown>;
}

/** The deltas of a batch for one stats item, each with the sequence number of the record it came from. */
export interface StatsItemUpdate {
  key: StatsKey;
  /** In sequence order. */
  parts: { sequenceNumber: string; delta: StatsDelta; eventTime: string }[];
}

export const EVENT_COUNTERS = ['sent', 'completed', 'failed', 'parked', 'cancelled'] as const;
export type EventCounter = (typeof EVENT_COUNTERS)[number];

/** Latency buckets per doubling of milliseconds: relative error of a reported percentile ≤ 2^(1/16) − 1 ≈ 4.4%. */
export const LATENCY_BUCKETS_PER_DOUBLING = 8;
/** Prefixes of the counter attributes. */
export const STATUS_PREFIX = 's';
export const LATENCY_PREFIX = 'l';

const STATUSES = Object.values(CommandStatus);

/** Whether an item (an image) is a command: commands carry `status`; counters, edits and stats items do not. */
export function isCommandImage(image: Record<string, unknown> | undefined): boolean {
  return image !== undefined && typeof image.status === 'string' && typeof image.sk === 'string' && typeof image.createdAt === 'string';
}

/** The bucket index of a latency: 0 for ≤ 1 ms, then 8 per doubling (bucket i > 0: (2^((i−1)/8), 2^(i/8)] ms). */
export function latencyBucket(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.ceil(Math.log2(ms) * LATENCY_BUCKETS_PER_DOUBLING);
}

/** The value reported for a bucket: its geometric middle (bucket 0: 1 ms). */
export function latencyOfBucket(index: number): number {
  if (index <= 0) return 1;
  return 2 ** ((index - 0.5) / LATENCY_BUCKETS_PER_DOUBLING);
}

/** The p-quantile (0 < p ≤ 1) of a histogram `{ index: count }`, in ms rounded to 0.1, or undefined when empty. */
export function percentile(histogram: Record<number, number>, p: number): number | undefined {
  const entries = Object.entries(histogram)
    .map(([index, count]) => [Number(index), count] as const)
    .filter(([, count]) => count > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [index, count] of entries) {
    seen += count;
    if (seen >= rank) return Math.round(latencyOfBucket(index) * 10) / 10;
  }
  return undefined;
}

/** The keys of the minute item holding `minute` (an ISO time; seconds ignored) and of its hour and day rollups. */
export function statsKeys(domain: string, time: string): StatsKey[] {
  const day = time.slice(0, 10);
  const hour = time.slice(11, 13);
  const minute = time.slice(14, 16);
  return [
    { pk: `stats#${domain}#${day}`, sk: `m#${hour}:${minute}`, granularity: 'minute', start: `${day}T${hour}:${minute}:00.000Z` },
    { pk: `stats#${domain}#${day.slice(0, 7)}`, sk: `h#${day.slice(8, 10)}:${hour}`, granularity: 'hour', start: `${day}T${hour}:00:00.000Z` },
    { pk: `stats#${domain}`, sk: `d#${day}`, granularity: 'day', start: `${day}T00:00:00.000Z` },
  ];
}

/** The key of the stats item with period `start` at `granularity`. */
export function statsKeyAt(domain: string, granularity: Granularity, start: string): StatsKey {
  const index = granularity === 'minute' ? 0 : granularity === 'hour' ? 1 : 2;
  return statsKeys(domain, start)[index] as StatsKey;
}

/** The period start of a stats item's sort key under its partition key (the inverse of statsKeys). */
export function startOf(pk: string, sk: string): { granularity: Granularity; start: string } {
  if (sk.startsWith('m#')) return { granularity: 'minute', start: `${pk.slice(-10)}T${sk.slice(2)}:00.000Z` };
  if (sk.startsWith('h#')) return { granularity: 'hour', start: `${pk.slice(-7)}-${sk.slice(2, 4)}T${sk.slice(5, 7)}:00:00.000Z` };
  return { granularity: 'day', start: `${sk.slice(2)}T00:00:00.000Z` };
}

interface StoredEvent {
  e: string;
  t: string;
  d?: Record<string, unknown>;
}

/** The deltas one change record makes, by the time whose minute they belong to. Empty for anything but a command. */
export function deltasOf(record: ChangeRecord): { time: string; delta: StatsDelta }[] {
  const before = isCommandImage(record.oldImage) ? record.oldImage : undefined;
  const after = isCommandImage(record.newImage) ? record.newImage : undefined;
  if (!before && !after) return [];
  const domain = ((after ?? before) as Record<string, unknown>).sk as string;
  if (before && after && before.sk !== domain) return [];
  const out: { time: string; delta: StatsDelta }[] = [];
  const add = (time: string, counter: string, n: number) => out.push({ time, delta: { [counter]: n } });
  // Status by creation minute.
  if (before?.status !== after?.status) {
    if (before) add(before.createdAt as string, `${STATUS_PREFIX}${before.status as string}`, -1);
    if (after) add(after.createdAt as string, `${STATUS_PREFIX}${after.status as string}`, 1);
  }
  // Events by event minute: those this write appended (events are only ever appended).
  const oldEvents = (before?.events as StoredEvent[] | undefined) ?? [];
  const newEvents = (after?.events as StoredEvent[] | undefined) ?? [];
  const appended = newEvents.slice(oldEvents.length);
  const exhausted = appended.some((e) => e.e === AuditEventType.RETRY_EXHAUSTED);
  for (const event of appended) {
    switch (event.e) {
      case AuditEventType.SENT:
        add(event.t, 'sent', 1);
        break;
      case AuditEventType.FAILED:
        add(event.t, 'failed', 1);
        break;
      case AuditEventType.MOVED_TO_TSQ:
        add(event.t, 'parked', 1);
        // A permanent failure (or a malformed or dead-lettered message) parks without a FAILED event.
        if (!exhausted) add(event.t, 'failed', 1);
        break;
      case AuditEventType.OPERATOR_CANCEL:
        add(event.t, 'cancelled', 1);
        break;
      case AuditEventType.OPERATOR_COMPLETE:
        add(event.t, 'completed', 1);
        break;
      case AuditEventType.COMPLETED: {
        add(event.t, 'completed', 1);
        const created = Date.parse((after ?? before)?.createdAt as string);
        const ms = Date.parse(event.t) - created;
        if (Number.isFinite(ms)) add(event.t, `${LATENCY_PREFIX}${latencyBucket(Math.max(0, ms))}`, 1);
        break;
      }
      default:
        break;
    }
  }
  return out;
}

export function domainOf(record: ChangeRecord): string | undefined {
  const image = isCommandImage(record.newImage) ? record.newImage : isCommandImage(record.oldImage) ? record.oldImage : undefined;
  return image?.sk as string | undefined;
}

/**
 * A batch of one shard's records (in sequence order) as updates per stats item: each item gets the
 * summed delta of every record touching it, kept per record so that a record the item has seen
 * already (at or below its watermark for the shard) can be left out.
 */
export function planBatch(records: readonly ChangeRecord[]): StatsItemUpdate[] {
  const updates = new Map<string, StatsItemUpdate>();
  for (const record of records) {
    const domain = domainOf(record);
    if (domain === undefined) continue;
    const deltas = deltasOf(record);
    // When the change happened: its latest event (a status count is filed under the creation minute,
    // but the item learns of the change at this time: its lastEventAt).
    const changedAt =
      deltas
        .map(({ time }) => time)
        .sort()
        .at(-1) ?? '';
    for (const { time, delta } of deltas) {
      for (const key of statsKeys(domain, time)) {
        const id = `${key.pk}\u0000${key.sk}`;
        let update = updates.get(id);
        if (!update) {
          update = { key, parts: [] };
          updates.set(id, update);
        }
        const last = update.parts.at(-1);
        if (last && last.sequenceNumber === record.sequenceNumber) {
          mergeInto(last.delta, delta);
        } else {
          update.parts.push({ sequenceNumber: record.sequenceNumber, delta: { ...delta }, eventTime: changedAt });
        }
      }
    }
  }
  return [...updates.values()];
}

export function mergeInto(target: StatsDelta, delta: StatsDelta): StatsDelta {
  for (const [counter, n] of Object.entries(delta)) target[counter] = (target[counter] ?? 0) + n;
  return target;
}

/** Sequence numbers compared as numbers: left-padded to 40 digits. */
export function padSequence(sequenceNumber: string): string {
  return sequenceNumber.padStart(40, '0');
}

/** What of an update lies after the item's watermark for the shard: the summed delta, the last sequence number and the latest event time. */
export function afterWatermark(
  update: StatsItemUpdate,
  watermark: string | undefined,
): { delta: StatsDelta; sequenceNumber: string; eventTime: string } | undefined {
  const mark = watermark === undefined ? undefined : padSequence(watermark);
  const fresh = update.parts.filter((part) => mark === undefined || padSequence(part.sequenceNumber) > mark);
  if (fresh.length === 0) return undefined;
  const delta: StatsDelta = {};
  let eventTime = '';
  for (const part of fresh) {
    mergeInto(delta, part.delta);
    if (part.eventTime > eventTime) eventTime = part.eventTime;
  }
  for (const [counter, n] of Object.entries(delta)) if (n === 0) delete delta[counter];
  return { delta, sequenceNumber: padSequence((fresh.at(-1) as { sequenceNumber: string }).sequenceNumber), eventTime };
}

// ---- reading a window ----

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** One Query: the stats items under `pk` with sort keys in [skFrom, skTo]. */
export interface StatsRange {
  pk: string;
  skFrom: string;
  skTo: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The window widened to whole minutes: [floor(from), ceil(to)). */
export function minuteWindow(from: string, to: string): { from: number; to: number } {
  const f = Math.floor(Date.parse(from) / MINUTE) * MINUTE;
  const t = Math.ceil(Date.parse(to) / MINUTE) * MINUTE;
  return { from: f, to: Math.max(f, t) };
}

/** The ranges of items of `granularity` whose periods overlap [from, to) (ms), one per partition. */
export function rangesOf(domain: string, granularity: Granularity, from: number, to: number): StatsRange[] {
  if (to <= from) return [];
  const ranges: StatsRange[] = [];
  for (let t = from; t < to; ) {
    const date = new Date(t);
    // The partition holding t: a day of minutes, a month of hours, or every day.
    const partitionEnd =
      granularity === 'minute'
        ? Math.floor(t / DAY) * DAY + DAY
        : granularity === 'hour'
          ? Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1)
          : Number.POSITIVE_INFINITY;
    const end = Math.min(to, partitionEnd);
    const first = statsKeyAt(domain, granularity, iso(t));
    // The period holding the window's last millisecond (`to` need not be aligned to the step).
    const last = statsKeyAt(domain, granularity, iso(end - 1));
    ranges.push({ pk: first.pk, skFrom: first.sk, skTo: last.sk });
    t = end;
  }
  return ranges;
}

/**
 * The fewest items covering [from, to) (aligned to minutes): minutes up to the first whole hour, hours
 * up to the first whole day, whole days, then hours and minutes to the end. At most 5 Queries beside
 * month boundaries crossed by the hours.
 */
export function planWindow(domain: string, from: number, to: number): StatsRange[] {
  const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;
  const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
  const hourStart = Math.min(ceilTo(from, HOUR), to);
  const hourEnd = Math.max(floorTo(to, HOUR), hourStart);
  const dayStart = Math.min(ceilTo(hourStart, DAY), hourEnd);
  const dayEnd = Math.max(floorTo(hourEnd, DAY), dayStart);
  return [
    ...rangesOf(domain, 'minute', from, hourStart),
    ...rangesOf(domain, 'hour', hourStart, dayStart),
    ...rangesOf(domain, 'day', dayStart, dayEnd),
    ...rangesOf(domain, 'hour', dayEnd, hourEnd),
    ...rangesOf(domain, 'minute', hourEnd, to),
  ];
}

/** A stats item as read: its period and counters. */
export interface StatsItem {
  granularity: Granularity;
  start: string;
  counters: StatsDelta;
  /** The latest event time applied to the item. */
  lastEventAt?: string;
}

export interface StatsPoint {
  /** ISO start of the bucket. */
  bucket: string;
  sent: number;
  completed: number;
  failed: number;
  parked: number;
  cancelled: number;
  latencyP50Ms?: number;
  latencyP99Ms?: number;
}

export function histogramOf(counters: StatsDelta): Record<number, number> {
  const histogram: Record<number, number> = {};
  for (const [counter, n] of Object.entries(counters)) {
    if (counter.startsWith(LATENCY_PREFIX)) histogram[Number(counter.slice(LATENCY_PREFIX.length))] = n;
  }
  return histogram;
}

export function pointOf(bucket: string, counters: StatsDelta): StatsPoint {
  const histogram = histogramOf(counters);
  const p50 = percentile(histogram, 0.5);
  const p99 = percentile(histogram, 0.99);
  return {
    bucket,
    sent: counters.sent ?? 0,
    completed: counters.completed ?? 0,
    failed: counters.failed ?? 0,
    parked: counters.parked ?? 0,
    cancelled: counters.cancelled ?? 0,
    ...(p50 === undefined ? {} : { latencyP50Ms: p50 }),
    ...(p99 === undefined ? {} : { latencyP99Ms: p99 }),
  };
}

export function statusCountsOf(counters: StatsDelta): Record<CommandStatus, number> {
  return Object.fromEntries(STATUSES.map((status) => [status, counters[`${STATUS_PREFIX}${status}`] ?? 0])) as Record<CommandStatus, number>;
}

/** The series of `granularity` over [from, to): one point per period, empty periods included (zeros). */
export function seriesOf(items: readonly StatsItem[], granularity: Granularity, from: number, to: number): StatsPoint[] {
  const step = granularity === 'minute' ? MINUTE : granularity === 'hour' ? HOUR : DAY;
  const byStart = new Map(items.filter((i) => i.granularity === granularity).map((i) => [i.start, i.counters]));
  const points: StatsPoint[] = [];
  for (let t = Math.floor(from / step) * step; t < to; t += step) points.push(pointOf(iso(t), byStart.get(iso(t)) ?? {}));
  return points;
}

/** The largest number of series points one call may ask for. */
export const MAX_SERIES_POINTS = 1_500;

export function stepOf(granularity: Granularity): number {
  return granularity === 'minute' ? MINUTE : granularity === 'hour' ? HOUR : DAY;
}
