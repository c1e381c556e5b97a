/** Dashboard: commands by status for a time window, the TSQ's depth and its largest failure groups, refreshing live. */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { age, Message, since, Status, useData } from '../components.ts';
import { TimeChart } from '../chart.ts';
import { html } from '../html.ts';

const WINDOWS = [
  { minutes: 60, label: 'last hour' },
  { minutes: 24 * 60, label: 'last 24 hours' },
  { minutes: 7 * 24 * 60, label: 'last 7 days' },
];

export function Dashboard({ domain }: { domain: string }) {
  const [minutes, setMinutes] = useState(60);
  const counts = useData(() => api.counts(domain, since(minutes)), [domain, minutes], 5000);
  // The last hour, per minute, from the stream's aggregates (seconds behind the table).
  const hour = useData(() => api.stats(domain, since(60), 'minute'), [domain], 5000);
  const points = hour.data?.series?.points ?? [];
  const times = points.map((point) => Date.parse(point.bucket) / 1000);
  const overview = useData(() => api.tsqOverview(domain), [domain], 5000);
  const groups = { ...overview, data: overview.data?.items };
  const oldest = overview.data?.oldest;
  const depth = (groups.data ?? []).reduce((sum, group) => sum + group.count, 0);
  const newest = (groups.data ?? [])
    .map((group) => group.newestMovedToTsqAt)
    .filter(Boolean)
    .sort()
    .at(-1);
  return html`
    <h1>Dashboard: ${domain}</h1>
    <div class="row">
      <label for="window">Commands created in the</label>
      <select id="window" value=${minutes} onChange=${(event: Event) => setMinutes(Number((event.target as HTMLSelectElement).value))}>
        ${WINDOWS.map((window) => html`<option value=${window.minutes}>${window.label}</option>`)}
      </select>
      <span class="note">refreshes every 5 s</span>
    </div>
    <${Message} notice=${counts.error ? { kind: 'error', text: counts.error } : undefined} />
    <section aria-label="Commands by status" class="cards">
      ${Object.entries(counts.data?.counts ?? {}).map(
        ([status, count]) => html`<div class="card" data-status=${status}><div class="value">${count}</div><${Status} status=${status} /></div>`,
      )}
    </section>
    ${counts.data?.truncated ? html`<p class="note">Counted the newest ${counts.data.counted} commands of the window; more exist.</p>` : null}
    <h2>The last hour</h2>
    ${hour.error ? html`<${Message} notice=${{ kind: 'error', text: hour.error }} />` : null}
    ${
      points.length > 0
        ? html`<div class="charts">
          <${TimeChart} title="Throughput per minute" unit="commands" times=${times} series=${[
            { label: 'sent', colour: '#2456c7', values: points.map((point) => point.sent) },
            { label: 'completed', colour: '#1b7f3b', values: points.map((point) => point.completed) },
            { label: 'failed attempts', colour: '#c77700', values: points.map((point) => point.failed) },
            { label: 'parked', colour: '#b3261e', values: points.map((point) => point.parked) },
          ]} />
          <${TimeChart} title="Completion latency per minute" unit="ms" times=${times} series=${[
            { label: 'p50', colour: '#2456c7', values: points.map((point) => point.latencyP50Ms ?? null) },
            { label: 'p99', colour: '#b3261e', values: points.map((point) => point.latencyP99Ms ?? null) },
          ]} />
        </div>
        <p class="note" data-testid="stats-totals">Last hour: ${hour.data!.totals.sent} sent, ${hour.data!.totals.completed} completed, ${hour.data!.totals.parked} parked${hour.data!.asOf ? ` (as of ${hour.data!.asOf})` : ''}.</p>`
        : html`<p class="note">No activity in the last hour yet.</p>`
    }
    <h2>Troubleshooting queue</h2>
    <div class="cards">
      <div class="card"><div class="value" data-testid="tsq-depth">${depth}</div>parked</div>
      <div class="card"><div class="value" data-testid="tsq-oldest">${age(oldest?.movedToTsqAt)}</div>${
        oldest ? html`<a href=${`#/command/${encodeURIComponent(domain)}/${oldest.commandId}`}>oldest parked</a>` : 'oldest parked'
      }</div>
      <div class="card"><div class="value">${age(newest)}</div>since the last was parked</div>
    </div>
    <h2>Largest failure groups</h2>
    <${Message} notice=${groups.error ? { kind: 'error', text: groups.error } : undefined} />
    <table>
      <thead><tr><th scope="col">Parked</th><th scope="col">Command type</th><th scope="col">Error type</th><th scope="col">Error code</th><th scope="col">Newest</th></tr></thead>
      <tbody>
        ${(groups.data ?? []).slice(0, 5).map(
          (group) => html`<tr>
            <td>${group.count}</td><td>${group.commandType}</td><td>${group.errorType}</td>
            <td><a href=${`#/tsq?domain=${encodeURIComponent(domain)}&errorCode=${encodeURIComponent(group.errorCode)}&commandType=${encodeURIComponent(group.commandType)}`}>${group.errorCode}</a></td>
            <td>${age(group.newestMovedToTsqAt)} ago</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${groups.data?.length === 0 ? html`<p class="note">Nothing is parked.</p>` : null}
  `;
}
