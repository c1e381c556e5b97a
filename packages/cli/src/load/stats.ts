/** Percentiles and per-second series, for the load report. */

/** The p-th percentile (0–100) of sorted values, nearest rank; undefined for none. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface LatencySummary {
  count: number;
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
}

export function summarise(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    ...(sorted.length === 0
      ? {}
      : { p50: percentile(sorted, 50)!, p95: percentile(sorted, 95)!, p99: percentile(sorted, 99)!, max: sorted[sorted.length - 1]! }),
  };
}

/** Events per whole second since `start` (ms), as [second, count] with every second present. */
export function perSecond(times: readonly number[], start: number): [number, number][] {
  if (times.length === 0) return [];
  const buckets = new Map<number, number>();
  let last = 0;
  for (const time of times) {
    const second = Math.max(0, Math.floor((time - start) / 1000));
    buckets.set(second, (buckets.get(second) ?? 0) + 1);
    last = Math.max(last, second);
  }
  return Array.from({ length: last + 1 }, (_, second) => [second, buckets.get(second) ?? 0]);
}

/** p50 and p99 of the values whose event fell in each second since `start`. */
export function percentilesPerSecond(points: readonly { at: number; value: number }[], start: number): { second: number; p50: number; p99: number }[] {
  const buckets = new Map<number, number[]>();
  for (const { at, value } of points) {
    const second = Math.max(0, Math.floor((at - start) / 1000));
    const bucket = buckets.get(second) ?? [];
    bucket.push(value);
    buckets.set(second, bucket);
  }
  return [...buckets]
    .sort(([a], [b]) => a - b)
    .map(([second, values]) => {
      values.sort((a, b) => a - b);
      return { second, p50: percentile(values, 50)!, p99: percentile(values, 99)! };
    });
}
