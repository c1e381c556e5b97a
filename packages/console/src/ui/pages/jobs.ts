/**
 * Operator jobs in the TSQ page: act on every command the filter matches — a dry run first (exact
 * count and a sample), then started at a rate, with progress, pause, resume and cancel.
 */
import { useState } from 'preact/hooks';
import type { JobFilter, OperatorJob } from '@commandbus/core';
import { actionExtras, type ManyAction } from '../actions.ts';
import { api } from '../api.ts';
import { Message, type Notice, useData } from '../components.ts';
import { html } from '../html.ts';

export function FilterJob({ domain, filter, reason, resultText }: { domain: string; filter: JobFilter; reason: string; resultText: string }) {
  const [action, setAction] = useState<ManyAction>('retry');
  const [rate, setRate] = useState('10');
  const [draft, setDraft] = useState<OperatorJob>();
  const [notice, setNotice] = useState<Notice>();
  const jobs = useData(() => api.jobs(domain), [domain], 1500);

  const dryRun = async () => {
    const checked = actionExtras(action, reason, resultText);
    if ('error' in checked) return setNotice({ kind: 'error', text: checked.error });
    try {
      const job = await api.createJob(domain, action, { filter, rate: Number(rate), ...checked.extra });
      setDraft(job);
      setNotice({ kind: 'info', text: `Dry run: ${job.dryRun.exact ? '' : 'at least '}${job.dryRun.count} parked commands match; nothing was touched yet.` });
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
    }
  };
  const control = async (job: OperatorJob, what: 'start' | 'pause' | 'resume' | 'cancel') => {
    try {
      const next = await api.controlJob(domain, job.jobId, what);
      if (draft?.jobId === job.jobId) setDraft(what === 'start' || what === 'cancel' ? undefined : next);
      setNotice({ kind: 'info', text: `Job ${job.jobId.slice(0, 8)}: ${next.status}` });
      jobs.reload();
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
    }
  };

  return html`<section aria-label="Act on the whole filter">
    <h2>Act on the whole filter (an operator job)</h2>
    <div class="row">
      <label for="job-action">Action</label>
      <select id="job-action" value=${action} onChange=${(event: Event) => setAction((event.target as HTMLSelectElement).value as ManyAction)}>
        <option value="retry">retry</option><option value="cancel">cancel (with the reason above)</option><option value="complete">complete (with the result above)</option>
      </select>
      <label for="job-rate">Rate (commands/s)</label>
      <input id="job-rate" type="number" min="0.1" max="1000" step="0.1" value=${rate} onInput=${(event: Event) => setRate((event.target as HTMLInputElement).value)} />
      <button onClick=${dryRun}>Dry run</button>
    </div>
    <${Message} notice=${notice} />
    ${
      draft
        ? html`<div class="card" data-testid="dry-run">
          <p><strong>${draft.dryRun.count}</strong> commands match (${draft.dryRun.countedBy === 'groups' ? 'exact, from the group counts' : draft.dryRun.exact ? 'exact, by listing' : 'at least, listing stopped'}); ${draft.action} at ${draft.rate}/s.</p>
          ${
            draft.dryRun.sample.length > 0
              ? html`<p class="note">For example: ${draft.dryRun.sample
                  .slice(0, 5)
                  .map((entry) => entry.commandId.slice(0, 8))
                  .join(', ')}…</p>`
              : null
          }
          <div class="row">
            <button class="primary" disabled=${draft.dryRun.count === 0} onClick=${() => control(draft, 'start')}>Start job</button>
            <button onClick=${() => control(draft, 'cancel')}>Discard</button>
          </div>
        </div>`
        : null
    }
    <h2>Jobs</h2>
    <table>
      <thead><tr><th scope="col">Job</th><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Rate</th><th scope="col"></th></tr></thead>
      <tbody>
        ${(jobs.data?.items ?? []).map(
          (job) => html`<tr data-testid=${`job-${job.jobId}`}>
            <td><code>${job.jobId.slice(0, 8)}</code></td><td>${job.action}</td><td data-testid="job-status">${job.status}</td>
            <td>
              <progress max=${Math.max(1, job.dryRun.count)} value=${job.progress.done + job.progress.skipped + job.progress.failed} aria-label=${`progress of job ${job.jobId.slice(0, 8)}`}></progress>
              <span data-testid="job-progress"> ${job.progress.done} done, ${job.progress.skipped} skipped, ${job.progress.failed} failed of ${job.dryRun.count}</span>
            </td>
            <td>${job.rate}/s</td>
            <td>
              ${job.status === 'RUNNING' ? html`<button onClick=${() => control(job, 'pause')}>Pause</button>` : null}
              ${job.status === 'PAUSED' ? html`<button onClick=${() => control(job, 'resume')}>Resume</button>` : null}
              ${['RUNNING', 'PAUSED'].includes(job.status) ? html`<button class="danger" onClick=${() => control(job, 'cancel')}>Cancel job</button>` : null}
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
