import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterWatermark,
  deltasOf,
  latencyBucket,
  latencyOfBucket,
  mergeInto,
  percentile,
  planBatch,
  planWindow,
  rangesOf,
  startOf,
  statsKeys,
  type ChangeRecord,
  type StatsDelta,
} from '../../../src/domain/stats.ts';

const created = '2026-03-01T10:00:30.000Z';
const base = { pk: 'id', sk: 'shop', createdAt: created };
const ev = (e: string, t: string) => ({ e, t });
const sent = { ...base, status: 'PENDING', events: [ev('SENT', created)] };
const received = { ...sent, status: 'IN_PROGRESS', events: [...sent.events, ev('RECEIVED', '2026-03-01T10:00:31.000Z')] };

const summed = (record: ChangeRecord) => {
  const out: Record<string, StatsDelta> = {};
  for (const { time, delta } of deltasOf(record)) mergeInto((out[time.slice(0, 16)] ??= {}), delta);
  return out;
};

describe('deltasOf', () => {
  it('a send counts sent in its minute and one PENDING in its creation minute', () => {
    expect(summed({ sequenceNumber: '1', eventName: 'INSERT', newImage: sent })).toEqual({ '2026-03-01T10:00': { sPENDING: 1, sent: 1 } });
  });

  it('a completion moves the status count and records the latency in the minute it completed', () => {
    const done = { ...received, status: 'COMPLETED', events: [...received.events, ev('COMPLETED', '2026-03-01T10:01:00.500Z')] };
    expect(summed({ sequenceNumber: '2', eventName: 'MODIFY', oldImage: received, newImage: done })).toEqual({
      '2026-03-01T10:00': { sIN_PROGRESS: -1, sCOMPLETED: 1 },
      '2026-03-01T10:01': { completed: 1, [`l${latencyBucket(30_500)}`]: 1 },
    });
  });

  it('a transient failure counts failed; exhaustion counts failed once and parked once; a permanent failure counts both', () => {
    const retry = { ...received, status: 'PENDING', events: [...received.events, ev('FAILED', created)] };
    expect(summed({ sequenceNumber: '3', eventName: 'MODIFY', oldImage: received, newImage: retry })['2026-03-01T10:00']).toEqual({
      sIN_PROGRESS: -1,
      sPENDING: 1,
      failed: 1,
    });
    const exhausted = {
      ...received,
      status: 'IN_TSQ',
      events: [...received.events, ev('FAILED', created), ev('RETRY_EXHAUSTED', created), ev('MOVED_TO_TSQ', created)],
    };
    expect(summed({ sequenceNumber: '4', eventName: 'MODIFY', oldImage: received, newImage: exhausted })['2026-03-01T10:00']).toMatchObject({
      failed: 1,
      parked: 1,
    });
    const permanent = { ...received, status: 'IN_TSQ', events: [...received.events, ev('MOVED_TO_TSQ', created)] };
    expect(summed({ sequenceNumber: '5', eventName: 'MODIFY', oldImage: received, newImage: permanent })['2026-03-01T10:00']).toMatchObject({
      failed: 1,
      parked: 1,
    });
  });

  it('operator cancel and complete count cancelled and completed, without a latency', () => {
    const parked = { ...received, status: 'IN_TSQ', events: [...received.events, ev('MOVED_TO_TSQ', created)] };
    const cancelled = { ...parked, status: 'CANCELLED', events: [...parked.events, ev('OPERATOR_CANCEL', created)] };
    expect(summed({ sequenceNumber: '6', eventName: 'MODIFY', oldImage: parked, newImage: cancelled })['2026-03-01T10:00']).toEqual({
      sIN_TSQ: -1,
      sCANCELLED: 1,
      cancelled: 1,
    });
    const completed = { ...parked, status: 'COMPLETED', events: [...parked.events, ev('OPERATOR_COMPLETE', created)] };
    expect(summed({ sequenceNumber: '7', eventName: 'MODIFY', oldImage: parked, newImage: completed })['2026-03-01T10:00']).toEqual({
      sIN_TSQ: -1,
      sCOMPLETED: 1,
      completed: 1,
    });
  });

  it('a record the worker created (SENT and RECEIVED at once) counts sent once; writes that append nothing and keep the status count nothing', () => {
    expect(summed({ sequenceNumber: '8', eventName: 'INSERT', newImage: received })['2026-03-01T10:00']).toEqual({ sIN_PROGRESS: 1, sent: 1 });
    expect(deltasOf({ sequenceNumber: '9', eventName: 'MODIFY', oldImage: received, newImage: { ...received, lease: 'x' } })).toEqual([]);
  });

  it('ignores items that are not commands: TSQ group counters, edits, stats items', () => {
    for (const image of [
      { pk: 'tsqgroup#shop#1', sk: 'T#PERMANENT#X', count: 3 },
      { pk: 'id#edit', sk: 'shop#000001' },
      { pk: 'stats#shop', sk: 'd#2026-03-01', sent: 1 },
    ]) {
      expect(deltasOf({ sequenceNumber: '1', eventName: 'MODIFY', oldImage: image, newImage: image })).toEqual([]);
    }
  });
});

describe('latency histogram', () => {
  it('reports any latency within 4.5%', () => {
    fc.assert(
      fc.property(fc.double({ min: 1.01, max: 1e9, noNaN: true }), (ms) => {
        const reported = latencyOfBucket(latencyBucket(ms));
        expect(Math.abs(reported - ms) / ms).toBeLessThan(0.045);
      }),
    );
  });

  it('p50 and p99 of a histogram', () => {
    const histogram: Record<number, number> = {};
    for (let ms = 1; ms <= 100; ms++) histogram[latencyBucket(ms * 10)] = (histogram[latencyBucket(ms * 10)] ?? 0) + 1;
    expect(percentile(histogram, 0.5)).toBeGreaterThan(500 * 0.95);
    expect(percentile(histogram, 0.5)).toBeLessThan(500 * 1.05);
    expect(percentile(histogram, 0.99)).toBeGreaterThan(990 * 0.95);
    expect(percentile({}, 0.5)).toBeUndefined();
  });
});

describe('keys and windows', () => {
  it('a minute, its hour and its day, and back', () => {
    const keys = statsKeys('shop', '2026-03-01T10:07:31.000Z');
    expect(keys.map((k) => `${k.pk} ${k.sk}`)).toEqual(['stats#shop#2026-03-01 m#10:07', 'stats#shop#2026-03 h#01:10', 'stats#shop d#2026-03-01']);
    for (const key of keys) expect(startOf(key.pk, key.sk)).toEqual({ granularity: key.granularity, start: key.start });
  });

  it('plans any window as a handful of ranges that cover each minute exactly once', () => {
    const base = Date.UTC(2026, 0, 30);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 * 24 * 70 }), fc.integer({ min: 0, max: 60 * 24 * 70 }), (a, b) => {
        const from = base + Math.min(a, b) * 60_000;
        const to = base + Math.max(a, b) * 60_000;
        const ranges = planWindow('shop', from, to);
        // Minutes at the edges (≤ 2 days), hours (≤ 2 months each side), days: at most 9 Queries.
        expect(ranges.length).toBeLessThanOrEqual(9);
        let covered = 0;
        for (const range of ranges) {
          const first = Date.parse(startOf(range.pk, range.skFrom).start);
          const last = startOf(range.pk, range.skTo);
          const step = last.granularity === 'minute' ? 60_000 : last.granularity === 'hour' ? 3_600_000 : 86_400_000;
          covered += (Date.parse(last.start) + step - first) / 60_000;
          expect(first).toBeGreaterThanOrEqual(from);
          expect(Date.parse(last.start) + step).toBeLessThanOrEqual(to);
        }
        expect(covered).toBe((to - from) / 60_000);
      }),
      { numRuns: 300 },
    );
  });

  it('a series reads every period overlapping the window, whatever its alignment', () => {
    const from = Date.parse('2026-03-31T22:16:00Z');
    const to = Date.parse('2026-04-01T00:18:00Z');
    expect(rangesOf('shop', 'hour', Math.floor(from / 3_600_000) * 3_600_000, to)).toEqual([
      { pk: 'stats#shop#2026-03', skFrom: 'h#31:22', skTo: 'h#31:23' },
      { pk: 'stats#shop#2026-04', skFrom: 'h#01:00', skTo: 'h#01:00' },
    ]);
    expect(rangesOf('shop', 'day', from, Date.parse('2026-03-31T22:17:00Z'))).toEqual([{ pk: 'stats#shop', skFrom: 'd#2026-03-31', skTo: 'd#2026-03-31' }]);
  });
});

describe('planBatch', () => {
  it('files a change of an old command under its creation minute, and tells every item touched when the change happened', () => {
    const parked = { ...received, status: 'IN_TSQ', events: [...received.events, ev('MOVED_TO_TSQ', created)] };
    const later = '2026-03-03T08:00:00.000Z';
    const cancelled = { ...parked, status: 'CANCELLED', events: [...parked.events, ev('OPERATOR_CANCEL', later)] };
    const updates = planBatch([{ sequenceNumber: '7', eventName: 'MODIFY', oldImage: parked, newImage: cancelled }]);
    const creationMinute = updates.find((u) => u.key.sk === 'm#10:00' && u.key.pk === 'stats#shop#2026-03-01');
    expect(creationMinute?.parts).toEqual([{ sequenceNumber: '7', delta: { sIN_TSQ: -1, sCANCELLED: 1 }, eventTime: later }]);
    const eventMinute = updates.find((u) => u.key.sk === 'm#08:00');
    expect(eventMinute?.parts[0]?.delta).toEqual({ cancelled: 1 });
    // Minute, hour and day of each of the two minutes.
    expect(updates).toHaveLength(6);
  });
});

describe('watermarks', () => {
  it('applies only the records after the watermark, comparing sequence numbers as numbers', () => {
    const records: ChangeRecord[] = ['9', '10', '11'].map((sequenceNumber) => ({
      sequenceNumber,
      eventName: 'INSERT',
      newImage: { ...sent, pk: sequenceNumber },
    }));
    const [minute] = planBatch(records);
    expect(afterWatermark(minute!, undefined)?.delta).toEqual({ sPENDING: 3, sent: 3 });
    expect(afterWatermark(minute!, '0000000000000000000000000000000000000009')?.delta).toEqual({ sPENDING: 2, sent: 2 });
    expect(afterWatermark(minute!, '10')?.sequenceNumber).toBe('11'.padStart(40, '0'));
    expect(afterWatermark(minute!, '11')).toBeUndefined();
  });
});
