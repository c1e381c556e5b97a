/**
 * The troubleshooting queue: parked commands grouped by cause, filtered, selected; retry, cancel (with
 * a reason) or complete (with a result) the selection in one bulk action; edit a payload and retry.
 */
import { useState } from 'preact/hooks';
import type { BulkResult, TsqEntry } from '@commandbus/core';
import { api, type Rights } from '../api.ts';
import { ErrorSummary, Message, type Notice, Status, age, useData } from '../components.ts';
import { PayloadDiff } from '../diff.ts';
import { html } from '../html.ts';
import { actionExtras, type ManyAction } from '../actions.ts';
import { FilterJob } from './jobs.ts';
import { parseObject } from './send.ts';

export function Tsq({ domain, rights, initial }: { domain: string; rights: Rights; initial: URLSearchParams }) {
  const [filter, setFilter] = useState({
    commandType: initial.get('commandType') ?? '',
    errorCode: initial.get('errorCode') ?? '',
    errorType: initial.get('errorType') ?? '',
  });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState('');
  const [resultText, setResultText] = useState('null');
  const [notice, setNotice] = useState<Notice>();
  const [editing, setEditing] = useState<TsqEntry>();
  const groups = useData(() => api.groups(domain), [domain], 5000);
  const list = useData(
    () =>
      api.tsq({
        domain,
        limit: 100,
        ...(filter.commandType ? { commandType: filter.commandType } : {}),
        ...(filter.errorCode ? { errorCode: filter.errorCode } : {}),
        ...(filter.errorType ? { errorType: filter.errorType } : {}),
      }),
    [domain, filter.commandType, filter.errorCode, filter.errorType],
    5000,
  );
  const entries = list.data?.items ?? [];
  const canAct = rights.retry || rights.cancel || rights.complete || rights['edit-and-retry'];
  const chosen = entries.filter((entry) => selected.has(entry.commandId)).map((entry) => entry.commandId);

  const toggle = (commandId: string) => {
    const next = new Set(selected);
    if (next.has(commandId)) next.delete(commandId);
    else next.add(commandId);
    setSelected(next);
  };
  const act = async (action: ManyAction) => {
    if (chosen.length === 0) return setNotice({ kind: 'error', text: 'Select the commands to act on first.' });
    const checked = actionExtras(action, reason, resultText);
    if ('error' in checked) return setNotice({ kind: 'error', text: checked.error });
    try {
      const result: BulkResult = await api.bulk(domain, action, chosen, checked.extra);
      const { done, skipped, failed } = result.totals;
      setNotice({ kind: failed > 0 ? 'error' : 'info', text: `${action}: ${done} done, ${skipped} skipped (changed meanwhile), ${failed} failed` });
      setSelected(new Set());
      list.reload();
      groups.reload();
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
    }
  };

  return html`
    <h1>Troubleshooting queue: ${domain}</h1>
    ${canAct ? null : html`<p class="message info" data-testid="read-only">You can look, not act: your credentials are read-only in ${domain}.</p>`}
    <h2>Grouped by cause</h2>
    <table>
      <thead><tr><th scope="col">Parked</th><th scope="col">Command type</th><th scope="col">Error type</th><th scope="col">Error code</th><th scope="col">Newest</th><th scope="col"></th></tr></thead>
      <tbody>
        ${(groups.data ?? []).map(
          (group) => html`<tr>
            <td>${group.count}</td><td>${group.commandType}</td><td>${group.errorType}</td><td>${group.errorCode}</td><td>${age(group.newestMovedToTsqAt)} ago</td>
            <td><button onClick=${() => setFilter({ commandType: group.commandType, errorCode: group.errorCode, errorType: group.errorType })}>Show group ${group.errorCode}</button></td>
          </tr>`,
        )}
      </tbody>
    </table>
    <h2>Parked commands</h2>
    <form class="row" aria-label="TSQ filters" onSubmit=${(event: Event) => event.preventDefault()}>
      <label for="f-type">Type</label><input id="f-type" value=${filter.commandType} onChange=${(event: Event) => setFilter({ ...filter, commandType: (event.target as HTMLInputElement).value })} />
      <label for="f-code">Error code</label><input id="f-code" value=${filter.errorCode} onChange=${(event: Event) => setFilter({ ...filter, errorCode: (event.target as HTMLInputElement).value })} />
      <label for="f-etype">Error type</label>
      <select id="f-etype" value=${filter.errorType} onChange=${(event: Event) => setFilter({ ...filter, errorType: (event.target as HTMLSelectElement).value })}>
        ${['', 'TRANSIENT', 'PERMANENT', 'UNKNOWN'].map((type) => html`<option value=${type}>${type || 'any'}</option>`)}
      </select>
      <button type="button" onClick=${() => setFilter({ commandType: '', errorCode: '', errorType: '' })}>Clear filters</button>
    </form>
    <${Message} notice=${notice ?? (list.error ? { kind: 'error', text: list.error } : undefined)} />
    ${
      canAct
        ? html`<div class="row" role="group" aria-label="Act on the selection">
          <span>${chosen.length} selected</span>
          ${rights.retry ? html`<button class="primary" onClick=${() => act('retry')}>Retry selected</button>` : null}
          ${
            rights.cancel
              ? html`<label for="reason">Reason</label><input id="reason" value=${reason} onInput=${(event: Event) => setReason((event.target as HTMLInputElement).value)} />
                <button class="danger" onClick=${() => act('cancel')}>Cancel selected</button>`
              : null
          }
          ${
            rights.complete
              ? html`<label for="result">Result (JSON)</label><input id="result" value=${resultText} onInput=${(event: Event) => setResultText((event.target as HTMLInputElement).value)} />
                <button onClick=${() => act('complete')}>Complete selected</button>`
              : null
          }
        </div>`
        : null
    }
    <table>
      <thead><tr>
        ${
          canAct
            ? html`<th scope="col"><input type="checkbox" aria-label="Select all shown" checked=${entries.length > 0 && chosen.length === entries.length}
              onChange=${(event: Event) => setSelected((event.target as HTMLInputElement).checked ? new Set(entries.map((entry) => entry.commandId)) : new Set())} /></th>`
            : null
        }
        <th scope="col">Command id</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Error</th><th scope="col">Parked</th>${rights['edit-and-retry'] ? html`<th scope="col"></th>` : null}
      </tr></thead>
      <tbody>
        ${entries.map(
          (entry) => html`<tr>
            ${canAct ? html`<td><input type="checkbox" aria-label=${`Select ${entry.commandId}`} checked=${selected.has(entry.commandId)} onChange=${() => toggle(entry.commandId)} /></td>` : null}
            <td><a href=${`#/command/${encodeURIComponent(domain)}/${entry.commandId}`}>${entry.commandId}</a></td>
            <td>${entry.commandType}</td><td><${Status} status=${entry.status} /></td>
            <td>${entry.lastError ? `${entry.lastError.code}: ${entry.lastError.message}` : ''}</td>
            <td>${age(entry.movedToTsqAt)} ago</td>
            ${rights['edit-and-retry'] ? html`<td><button onClick=${() => setEditing(entry)} aria-label=${`Edit and retry ${entry.commandId}`}>Edit and retry</button></td>` : null}
          </tr>`,
        )}
      </tbody>
    </table>
    ${entries.length === 0 && !list.loading ? html`<p class="note">Nothing parked matches.</p>` : null}
    ${
      rights.bulk
        ? html`<${FilterJob} domain=${domain} reason=${reason} resultText=${resultText} filter=${{
            ...(filter.commandType ? { commandType: filter.commandType } : {}),
            ...(filter.errorCode ? { errorCode: filter.errorCode } : {}),
            ...(filter.errorType ? { errorType: filter.errorType } : {}),
          }} />`
        : null
    }
    ${
      editing
        ? html`<${EditAndRetry} domain=${domain} entry=${editing} onDone=${(text: string) => {
            setEditing(undefined);
            setNotice({ kind: 'info', text });
            list.reload();
            groups.reload();
          }} />`
        : null
    }
  `;
}

function EditAndRetry({ domain, entry, onDone }: { domain: string; entry: TsqEntry; onDone: (text: string) => void }) {
  const [text, setText] = useState(JSON.stringify(entry.data ?? {}, null, 2));
  const [notice, setNotice] = useState<Notice>();
  const parsed = parseObject(text);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!parsed.value) return setNotice({ kind: 'error', text: `The payload ${parsed.error}` });
    try {
      await api.editAndRetry(domain, entry.commandId, parsed.value);
      onDone(`Retried ${entry.commandId} with the edited payload`);
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
    }
  };
  return html`<section aria-label="Edit and retry">
    <h2>Edit and retry ${entry.commandId}</h2>
    <section aria-label="why it was parked"><strong>Why it was parked</strong> <${ErrorSummary} error=${entry.lastError} /></section>
    <form onSubmit=${submit}>
      <label for="edit-payload">Corrected payload (JSON object)</label>
      <textarea id="edit-payload" value=${text} onInput=${(event: Event) => setText((event.target as HTMLTextAreaElement).value)}></textarea>
      <${Message} notice=${notice ?? (parsed.error ? { kind: 'error', text: `The payload ${parsed.error}` } : undefined)} />
      ${parsed.value ? html`<${PayloadDiff} before=${entry.data} after=${parsed.value} />` : null}
      <div class="row"><button class="primary" type="submit">Retry with this payload</button><button type="button" onClick=${() => onDone('Edit abandoned')}>Cancel edit</button></div>
    </form>
  </section>`;
}
