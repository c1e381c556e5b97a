/**
 * The aggregator's two halves over the StatsStore port: applying a batch of change records (from the
 * stream, via Lambda or the local poller), and reading a window back.
 */
import { EARLIEST_TIME, LATEST_TIME, parseTimestamp } from '../domain/query.ts';
import {
  type ChangeRecord,
  mergeInto,
  MAX_SERIES_POINTS,
  minuteWindow,
  planBatch,
  planWindow,
  pointOf,
  rangesOf,
  seriesOf,
  type StatsDelta,
  type StatsPoint,
  statusCountsOf,
  stepOf,
} from '../domain/stats.ts';
import { validateDomain } from '../domain/validation.ts';
import { ValidationError } from '../errors.ts';
import type { StatsApplyResult, StatsStore } from '../ports/StatsStore.ts';
import type { CommandStatus } from '../types.ts';

/** Applies one stream shard's batch (records in sequence order); safe to repeat and to run concurrently. */
export async function aggregateRecords(stats: StatsStore, shardId: string, records: readonly ChangeRecord[]): Promise<StatsApplyResult & { records: number }> {
  const result = await stats.applyUpdates(shardId, planBatch(records));
  return { ...result, records: records.length };
}

export type StatsSeriesGranularity = 'minute' | 'hour' | 'day';

export interface StatsQuery {
  domain: string;
  /** ISO time; default 24 hours before `to`. Widened down to a whole minute. */
  from?: string;
  /** ISO time, exclusive; default now. Widened up to a whole minute. */
  to?: string;
  /** A series of points per minute, hour or day over the window (at most 1,500 points). */
  series?: StatsSeriesGranularity;
}

/** What happened in a window: a series point's counters and latencies, without its bucket. */
export type StatsTotals = Omit<StatsPoint, 'bucket'>;

export interface StatsReport {
  domain: string;
  /** The window read, widened to whole minutes: [from, to). */
  from: string;
  to: string;
  /** Commands created in [from, to), by the status they are in now (exact, as of `asOf`). */
  counts: Record<CommandStatus, number>;
  /** Their sum. */
  total: number;
  /** What happened in [from, to): events counted in the minute they happened. */
  totals: StatsTotals;
  series?: { granularity: StatsSeriesGranularity; points: StatsPoint[] };
  /** The time of the latest change aggregated into the items read (absent: nothing aggregated in the window). Aggregation lags the table by seconds. */
  asOf?: string;
  /** Queries made (each paged to its end). */
  queries: number;
}

const time = (field: string, value: string) => Date.parse(parseTimestamp(field, value));

export function validateStatsQuery(query: StatsQuery, now = Date.now()): { domain: string; from: number; to: number; series?: StatsSeriesGranularity } {
  const domain = validateDomain(query.domain);
  const to = query.to === undefined ? now : time('to', query.to);
  const from = query.from === undefined ? Math.max(EARLIEST_TIME, to - 24 * 3600_000) : time('from', query.from);
  if (from > to) throw new ValidationError('from', 'must not be later than to');
  if (query.series !== undefined && !['minute', 'hour', 'day'].includes(query.series)) {
    throw new ValidationError('series', `must be minute, hour or day (got ${JSON.stringify(query.series)})`);
  }
  const window = minuteWindow(new Date(from).toISOString(), new Date(to).toISOString());
  if (query.series !== undefined) {
    const step = stepOf(query.series);
    const points = Math.ceil(window.to / step) - Math.floor(window.from / step);
    if (points > MAX_SERIES_POINTS) {
      throw new ValidationError(
        'series',
        `a ${query.series} series of this window has ${points} points; at most ${MAX_SERIES_POINTS} (use a coarser series or a shorter window)`,
      );
    }
  }
  return { domain, ...window, ...(query.series === undefined ? {} : { series: query.series }) };
}

/** Reads the counts of a window (a handful of Queries: minutes at the edges, hours, days) and, if asked, a series. */
export async function readStats(stats: StatsStore, query: StatsQuery, now = Date.now()): Promise<StatsReport> {
  const { domain, from, to, series } = validateStatsQuery(query, now);
  const ranges = planWindow(domain, from, to);
  const seriesRanges = series === undefined ? [] : rangesOf(domain, series, Math.floor(from / stepOf(series)) * stepOf(series), to);
  const [items, seriesItems] = await Promise.all([stats.read(ranges), stats.read(seriesRanges)]);
  const sum: StatsDelta = {};
  let asOf: string | undefined;
  for (const item of [...items, ...seriesItems]) {
    if (item.lastEventAt !== undefined && (asOf === undefined || item.lastEventAt > asOf)) asOf = item.lastEventAt;
  }
  for (const item of items) mergeInto(sum, item.counters);
  const counts = statusCountsOf(sum);
  const { bucket: _bucket, ...totals } = pointOf('', sum);
  return {
    domain,
    from: new Date(from).toISOString(),
    // Widened past 9999-12-31T23:59:59.999Z, the bound stays where ISO-8601 can write it.
    to: new Date(Math.min(to, LATEST_TIME)).toISOString(),
    counts,
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    totals,
    ...(series === undefined ? {} : { series: { granularity: series, points: seriesOf(seriesItems, series, from, to) } }),
    ...(asOf === undefined ? {} : { asOf }),
    queries: ranges.length + seriesRanges.length,
  };
}
