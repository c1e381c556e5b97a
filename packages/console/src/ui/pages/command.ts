/** One command: its state, payload, result, last error, the audit trail as a timeline, and its payload edits. */
import { api } from '../api.ts';
import { ErrorSummary, Json, Message, Status, useData } from '../components.ts';
import { PayloadDiff } from '../diff.ts';
import { html } from '../html.ts';

export function CommandPage({ domain, commandId }: { domain: string; commandId: string }) {
  const command = useData(() => api.getCommand(domain, commandId), [domain, commandId], 3000);
  const audit = useData(() => api.audit(domain, commandId), [domain, commandId], 3000);
  const history = useData(() => api.history(domain, commandId), [domain, commandId, command.data?.edits]);
  const c = command.data;
  return html`
    <h1>Command ${commandId}</h1>
    <${Message} notice=${command.error ? { kind: 'error', text: command.error } : undefined} />
    ${
      c
        ? html`<dl class="form">
          <dt>Domain</dt><dd>${c.domain}</dd>
          <dt>Type</dt><dd>${c.commandType}</dd>
          <dt>Status</dt><dd data-testid="command-status"><${Status} status=${c.status} /></dd>
          <dt>Attempts</dt><dd>${c.attempts} of ${c.maxAttempts}</dd>
          <dt>Correlation id</dt><dd><a href=${`#/commands?domain=${encodeURIComponent(domain)}&correlationId=${encodeURIComponent(c.correlationId)}`}>${c.correlationId}</a></dd>
          <dt>Created</dt><dd>${c.createdAt}</dd>
          <dt>Updated</dt><dd>${c.updatedAt}</dd>
          <dt>Last error</dt><dd><${ErrorSummary} error=${c.lastError} /></dd>
          ${c.status === 'IN_TSQ' ? html`<dt>Act</dt><dd><a href=${`#/tsq?domain=${encodeURIComponent(domain)}&commandId=${commandId}`}>in the troubleshooting queue</a></dd>` : null}
        </dl>
        <h2>Payload</h2>
        <${Json} value=${c.data} label="payload (stored once the command was parked)" />
        <h2>Result</h2>
        <${Json} value=${c.result} label="result" />`
        : null
    }
    <h2>Audit trail</h2>
    <ol class="timeline" aria-label="audit trail">
      ${(audit.data ?? []).map(
        (event) => html`<li>
          <strong>${event.eventType}</strong> <time datetime=${event.timestamp}>${event.timestamp}</time> <span class="note">attempt ${event.attempt}</span>
          ${Object.keys(event.details).length > 0 ? html`<pre>${JSON.stringify(event.details, null, 2)}</pre>` : null}
        </li>`,
      )}
    </ol>
    ${
      (history.data?.items.length ?? 0) > 0
        ? html`<h2>Payload edits</h2>
          ${history.data!.items.map(
            (edit) => html`<section aria-label=${`edit ${edit.editNumber}`}>
              <p>Edit ${edit.editNumber} by <code>${edit.operator}</code> at ${edit.editedAt}</p>
              <${PayloadDiff} before=${edit.before} after=${edit.after} />
            </section>`,
          )}`
        : null
    }
  `;
}
