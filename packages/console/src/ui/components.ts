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
