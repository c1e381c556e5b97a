/** The load report for people: a summary on the terminal, and a self-contained HTML page with charts. */
import type { LoadReport } from './runLoad.ts';

const ms = (value: number | undefined) => (value === undefined ? '-' : value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);
const mb = (value: number) => `${value.toFixed(0)} MiB`;

export function summaryLines(report: LoadReport): string[] {
  const { latencyMs, finalStatus, throughput, seconds, memoryMb, cost } = report;
  const lines = [
    `target      ${report.target}`,
    `sent        ${report.sent} of ${report.options.count} in ${seconds.sending.toFixed(1)} s (${throughput.sentPerSecond.toFixed(0)}/s); all ended after ${seconds.total.toFixed(1)} s (${throughput.endedPerSecond.toFixed(0)}/s)`,
    `latency     send → end  p50 ${ms(latencyMs.all.p50)}  p95 ${ms(latencyMs.all.p95)}  p99 ${ms(latencyMs.all.p99)}  max ${ms(latencyMs.all.max)}`,
  ];
  for (const [behaviour, summary] of Object.entries(latencyMs.byBehaviour)) {
    lines.push(`              ${behaviour.padEnd(28)} p50 ${ms(summary.p50)}  p99 ${ms(summary.p99)}  (${summary.count})`);
  }
  lines.push(
    `final       ${Object.entries(finalStatus.counts)
      .map(([status, n]) => `${status} ${n}`)
      .join(', ')}   expected ${Object.entries(finalStatus.expected)
      .map(([status, n]) => `${status} ${n}`)
      .join(', ')}`,
    `            ${report.retries} retries, ${report.tsqEntries} parked in the TSQ, ${finalStatus.unaccountedCount} unaccounted, ${finalStatus.wrongCount} in a wrong status`,
    `memory      load ${mb(memoryMb.load.startMb)} → max ${mb(memoryMb.load.maxMb)} (late/early ×${memoryMb.load.growth.toFixed(2)})${
      memoryMb.worker
        ? `; worker ${mb(memoryMb.worker.startMb)} → max ${mb(memoryMb.worker.maxMb)} (×${memoryMb.worker.growth.toFixed(2)})`
        : '; worker not sampled (remote)'
    }`,
  );
  lines.push(
    cost.counted
      ? `cost        ${cost.perCommand.writeUnits.toFixed(2)} write units and ${cost.perCommand.sqsRequests.toFixed(2)} SQS requests per command: $${cost.dollarsPerMillion.toFixed(3)} per million (+ $${cost.readDollarsPerMillion.toFixed(3)} of reads, mostly this test's own polling); this run $${cost.dollars.toFixed(4)}`
      : `cost        not counted: ${cost.why}`,
  );
  lines.push(report.ok ? 'verdict     every command accounted for' : `verdict     FAILED\n${report.problems.map((problem) => `  - ${problem}`).join('\n')}`);
  return lines;
}

/** A line chart as inline SVG: no script, no network. */
function chart(title: string, unit: string, series: { name: string; colour: string; points: [number, number][] }[]): string {
  const width = 720;
  const height = 220;
  const pad = { left: 56, right: 12, top: 28, bottom: 28 };
  const all = series.flatMap((line) => line.points);
  if (all.length === 0) return `<figure><figcaption>${title}: no data</figcaption></figure>`;
  const maxX = Math.max(
    1,
    all.reduce((max, [x]) => Math.max(max, x), 0),
  );
  const maxY =
    Math.max(
      1,
      all.reduce((max, [, y]) => Math.max(max, y), 0),
    ) * 1.05;
  const x = (value: number) => pad.left + (value / maxX) * (width - pad.left - pad.right);
  const y = (value: number) => height - pad.bottom - (value / maxY) * (height - pad.top - pad.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxY);
  const paths = series
    .map(
      (line) =>
        `<polyline fill="none" stroke="${line.colour}" stroke-width="1.5" points="${line.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ')}"><title>${line.name}</title></polyline>`,
    )
    .join('');
  const legend = series.map((line, i) => `<text x="${pad.left + 8 + i * 140}" y="16" fill="${line.colour}">■ ${line.name}</text>`).join('');
  const grid = ticks
    .map(
      (tick) =>
        `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(tick)}" y2="${y(tick)}" stroke="#ddd"/><text x="${pad.left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick < 10 ? tick.toFixed(1) : Math.round(tick)}</text>`,
    )
    .join('');
  return `<figure><figcaption>${title} (${unit})</figcaption><svg role="img" aria-label="${title}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-size="11" font-family="sans-serif">${grid}${legend}${paths}<text x="${width - pad.right}" y="${height - 6}" text-anchor="end">seconds since start (${Math.round(maxX)})</text></svg></figure>`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function htmlReport(report: LoadReport): string {
  const { series } = report;
  const charts = [
    chart('Latency from send to end, by second of sending', 'ms', [
      { name: 'p50', colour: '#1f77b4', points: series.latencyPerSecond.map((point) => [point.second, point.p50]) },
      { name: 'p99', colour: '#d62728', points: series.latencyPerSecond.map((point) => [point.second, point.p99]) },
    ]),
    chart('Throughput', 'commands per second', [
      { name: 'sent', colour: '#2ca02c', points: series.sentPerSecond },
      { name: 'ended', colour: '#9467bd', points: series.endedPerSecond },
    ]),
    chart('Resident memory', 'MiB', [
      { name: 'load process', colour: '#ff7f0e', points: series.memory.map((sample) => [sample.second, sample.loadMb]) },
      ...(series.memory.some((sample) => sample.workerMb !== undefined)
        ? [
            {
              name: 'worker (local runtime)',
              colour: '#17becf',
              points: series.memory.flatMap((sample): [number, number][] => (sample.workerMb === undefined ? [] : [[sample.second, sample.workerMb]])),
            },
          ]
        : []),
    ]),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>commandbus load — ${report.options.count} commands, ${escapeHtml(report.startedAt)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}pre{background:#f6f6f6;padding:1rem;overflow:auto;white-space:pre-wrap}figure{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.25rem}.ok{color:#2a7}.failed{color:#c22}</style>
</head><body>
<h1>commandbus load: ${report.options.count} commands <span class="${report.ok ? 'ok' : 'failed'}">${report.ok ? 'every command accounted for' : 'FAILED'}</span></h1>
<pre>${escapeHtml(summaryLines(report).join('\n'))}</pre>
${charts.join('\n')}
<p>The figures as JSON: report.json, next to this page.</p>
</body></html>
`;
}
