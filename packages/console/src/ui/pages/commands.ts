/** Commands: browse a domain newest first, filtered; search by id; page on with the cursor. */
import { useState } from 'preact/hooks';
import type { Command, Page } from '@commandbus/core';
import { api } from '../api.ts';
import { Message, type Notice, Status } from '../components.ts';
import { html } from '../html.ts';
import { navigate } from '../router.ts';

const STATUSES = ['', 'PENDING', 'IN_PROGRESS', 'COMPLETED', 'IN_TSQ', 'CANCELLED'];

export function Commands({ domain }: { domain: string }) {
  const [filters, setFilters] = useState({ status: '', commandType: '', from: '', to: '', correlationId: '' });
  const [pages, setPages] = useState<Page<Command>[]>([]);
  const [notice, setNotice] = useState<Notice>();
  const [searchId, setSearchId] = useState('');

  const load = async (cursor?: string) => {
    try {
      const page = await api.commands({
        domain,
        limit: 25,
        ...(filters.status ? { status: filters.status } : {}),
        ...(filters.commandType ? { commandType: filters.commandType } : {}),
        ...(filters.from ? { from: new Date(filters.from).toISOString() } : {}),
        ...(filters.to ? { to: new Date(filters.to).toISOString() } : {}),
        ...(filters.correlationId ? { correlationId: filters.correlationId } : {}),
        ...(cursor ? { cursor } : {}),
      });
      setPages((previous) => (cursor ? [...previous, page] : [page]));
      setNotice(undefined);
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
    }
  };
  const field = (name: keyof typeof filters) => (event: Event) => setFilters({ ...filters, [name]: (event.target as HTMLInputElement).value });
  const items = pages.flatMap((page) => page.items);
  const next = pages.at(-1)?.nextCursor;

  return html`
    <h1>Commands: ${domain}</h1>
    <form class="row" role="search" onSubmit=${(event: Event) => {
      event.preventDefault();
      if (searchId.trim()) navigate(`/command/${encodeURIComponent(domain)}/${searchId.trim()}`);
    }}>
      <label for="searchId">Command id</label>
      <input id="searchId" size="38" value=${searchId} onInput=${(event: Event) => setSearchId((event.target as HTMLInputElement).value)} />
      <button type="submit">Open</button>
    </form>
    <form class="row" aria-label="Filters" onSubmit=${(event: Event) => {
      event.preventDefault();
      void load();
    }}>
      <label for="status">Status</label>
      <select id="status" value=${filters.status} onChange=${field('status')}>${STATUSES.map((status) => html`<option value=${status}>${status || 'any'}</option>`)}</select>
      <label for="type">Type</label><input id="type" value=${filters.commandType} onInput=${field('commandType')} />
      <label for="from">From</label><input id="from" type="datetime-local" value=${filters.from} onInput=${field('from')} />
      <label for="to">To</label><input id="to" type="datetime-local" value=${filters.to} onInput=${field('to')} />
      <label for="correlation">Correlation id</label><input id="correlation" value=${filters.correlationId} onInput=${field('correlationId')} />
      <button class="primary" type="submit">List</button>
    </form>
    <${Message} notice=${notice} />
    <table>
      <thead><tr><th scope="col">Command id</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Created</th><th scope="col">Last error</th></tr></thead>
      <tbody>
        ${items.map(
          (command) => html`<tr>
            <td><a href=${`#/command/${encodeURIComponent(domain)}/${command.commandId}`}>${command.commandId}</a></td>
            <td>${command.commandType}</td><td><${Status} status=${command.status} /></td>
            <td>${command.attempts}/${command.maxAttempts}</td><td>${command.createdAt}</td>
            <td>${command.lastError ? `${command.lastError.code}: ${command.lastError.message}` : ''}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${pages.length > 0 && items.length === 0 && !next ? html`<p class="note">No command matches.</p>` : null}
    ${next ? html`<div class="row"><button onClick=${() => load(next)}>More (older)</button><span class="note">Filtered pages may come back short; more reads on.</span></div>` : null}
    ${pages.length === 0 ? html`<p class="note">Choose filters and List (newest first).</p>` : null}
  `;
}
