/** Small pieces every page uses: status badges, JSON blocks, messages, and loading data. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { html } from './html.ts';

export function Status({ status }: { status: string }) {
  return html`<span class=${`status-${status}`}>${status}</span>`;
}

export function Json({ value, label }: { value: unknown; label: string }) {
  if (value === undefined) return html`<p class="note">${label}: none</p>`;
  return html`<pre aria-label=${label}>${JSON.stringify(value, null, 2)}</pre>`;
}

interface ShownError {
  type: string;
  code: string;
  message: string;
  details?: Record<string, unknown> | undefined;
}

/** What a payload schema found wrong (an INVALID_PAYLOAD's details), if the details carry it. */
function issuesOf(details: Record<string, unknown> | undefined): { path: string; message: string }[] {
  const issues = details?.issues;
  if (!Array.isArray(issues)) return [];
  return issues.flatMap((issue) =>
    typeof issue === 'object' && issue !== null && typeof issue.path === 'string' && typeof issue.message === 'string'
      ? [{ path: issue.path, message: issue.message }]
      : [],
  );
}

/**
 * A command's last error: type, code and message, then what the handler added — the payload issues
 * a schema found (one line per field, so the operator sees what to correct) or the details as JSON.
 */
export function ErrorSummary({ error }: { error: ShownError | undefined }) {
  if (!error) return html`<span>none</span>`;
  const issues = issuesOf(error.details);
  const more = typeof error.details?.moreIssues === 'number' ? error.details.moreIssues : 0;
  const { issues: _issues, moreIssues: _more, ...rest } = error.details ?? {};
  return html`<div>
    <span>${error.type} ${error.code}: ${error.message}</span>
    ${
      issues.length > 0
        ? html`<ul class="issues" aria-label="payload issues">
          ${issues.map((issue) => html`<li><code>${issue.path}</code> ${issue.message}</li>`)}
          ${more > 0 ? html`<li class="note">… and ${more} more</li>` : null}
        </ul>`
        : null
    }
    ${Object.keys(rest).length > 0 ? html`<pre aria-label="error details">${JSON.stringify(rest, null, 2)}</pre>` : null}
  </div>`;
}

export interface Notice {
  kind: 'error' | 'info';
  text: string;
}

/** Announced to screen readers as it changes. */
export function Message({ notice }: { notice: Notice | undefined }) {
  return html`<div aria-live="polite">${notice ? html`<div class=${`message ${notice.kind}`} role=${notice.kind === 'error' ? 'alert' : 'status'}>${notice.text}</div>` : null}</div>`;
}

/** Loads with `load` whenever `deps` change (and every `refreshMs`, if given); `reload` loads again now. */
export function useData<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number) {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const run = useCallback(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState((previous) => ({ ...previous, error: error.message, loading: false })),
    );
    return () => {
      live = false;
    };
  }, deps);
  useEffect(() => {
    const stop = run();
    const timer = refreshMs ? setInterval(run, refreshMs) : undefined;
    return () => {
      stop();
      if (timer) clearInterval(timer);
    };
  }, [run, refreshMs]);
  return { ...state, reload: run };
}

export function since(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString();
}

export function age(iso: string | undefined): string {
  if (!iso) return '-';
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}
