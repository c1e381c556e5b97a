/** Dashboard: commands by status for a time window, the TSQ's depth and its largest failure groups, refreshing live. */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { age, Message, since, Status, useData } from '../components.ts';
import { html } from '../html.ts';

const WINDOWS = [
  { minutes: 60, label: 'last hour' },
  { minutes: 24 * 60, label: 'last 24 hours' },
  { minutes: 7 * 24 * 60, label: 'last 7 days' },
];

export function Dashboard({ domain }: { domain: string }) {
  const [minutes, setMinutes] = useState(60);
  const counts = useData(() => api.counts(domain, since(minutes)), [domain, minutes], 5000);
  const groups = useData(() => api.groups(domain), [domain], 5000);
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
    <h2>Troubleshooting queue</h2>
    <div class="cards">
      <div class="card"><div class="value" data-testid="tsq-depth">${depth}</div>parked</div>
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
