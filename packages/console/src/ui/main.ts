/** The console: one page, hash routes, the domain chosen in the header. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type ConsoleConfig } from './api.ts';
import { Message } from './components.ts';
import { html } from './html.ts';
import { CommandPage } from './pages/command.ts';
import { Commands } from './pages/commands.ts';
import { Dashboard } from './pages/dashboard.ts';
import { Send } from './pages/send.ts';
import { Tsq } from './pages/tsq.ts';
import { useRoute } from './router.ts';

const PAGES = [
  { path: 'dashboard', label: 'Dashboard' },
  { path: 'send', label: 'Send' },
  { path: 'commands', label: 'Commands' },
  { path: 'tsq', label: 'Troubleshooting queue' },
];

function App() {
  const [config, setConfig] = useState<ConsoleConfig>();
  const [error, setError] = useState<string>();
  const route = useRoute();
  useEffect(() => {
    api.config().then(setConfig, (failure: Error) => setError(failure.message));
  }, []);
  if (error) return html`<main><${Message} notice=${{ kind: 'error', text: error }} /></main>`;
  if (!config) return html`<main><p>Loading…</p></main>`;
  const [page = 'dashboard', ...rest] = route.path;
  const domain = route.query.get('domain') ?? rest[0] ?? localStorage.getItem('domain') ?? config.domains[0]?.domain ?? 'test';
  const rights = config.domains.find((entry) => entry.domain === domain)?.rights ?? {
    send: false,
    retry: false,
    cancel: false,
    complete: false,
    'edit-and-retry': false,
    bulk: false,
  };
  const chooseDomain = (next: string) => {
    localStorage.setItem('domain', next);
    location.hash = `/${page === 'command' ? 'commands' : page}?domain=${encodeURIComponent(next)}`;
  };
  let body: unknown;
  if (page === 'send') body = html`<${Send} domain=${domain} rights=${rights} />`;
  else if (page === 'commands') body = html`<${Commands} domain=${domain} />`;
  else if (page === 'command' && rest[1]) body = html`<${CommandPage} domain=${rest[0]} commandId=${rest[1]} />`;
  else if (page === 'tsq') body = html`<${Tsq} key=${`${domain}?${route.query}`} domain=${domain} rights=${rights} initial=${route.query} />`;
  else body = html`<${Dashboard} domain=${domain} />`;
  return html`
    <header>
      <span class="brand">commandbus</span>
      <nav aria-label="Pages">
        ${PAGES.map(
          (entry) =>
            html`<a href=${`#/${entry.path}?domain=${encodeURIComponent(domain)}`} aria-current=${page === entry.path ? 'page' : undefined}>${entry.label}</a> `,
        )}
      </nav>
      <label for="domain">Domain</label>
      <select id="domain" value=${domain} onChange=${(event: Event) => chooseDomain((event.target as HTMLSelectElement).value)}>
        ${config.domains.map((entry) => html`<option value=${entry.domain}>${entry.domain}</option>`)}
      </select>
      <span class="note" style="color:#cfe3ff">${config.target}</span>
    </header>
    <main>${body}</main>
  `;
}

render(html`<${App} />`, document.getElementById('app')!);
