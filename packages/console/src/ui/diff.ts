/** Before and after of a payload edit, line by line (jsdiff), for the side-by-side view. */
import { diffLines } from 'diff';
import { html } from './html.ts';

export function PayloadDiff({ before, after }: { before: unknown; after: unknown }) {
  const parts = diffLines(before === undefined ? '' : `${JSON.stringify(before, null, 2)}\n`, `${JSON.stringify(after, null, 2)}\n`);
  const lines = (text: string) => text.replace(/\n$/, '').split('\n');
  return html`<div class="diff">
    <pre aria-label="payload before">${parts.filter((part) => !part.added).flatMap((part) => lines(part.value).map((line) => html`<span class=${part.removed ? 'del' : ''}>${part.removed ? '- ' : '  '}${line}</span>`))}</pre>
    <pre aria-label="payload after">${parts.filter((part) => !part.removed).flatMap((part) => lines(part.value).map((line) => html`<span class=${part.added ? 'add' : ''}>${part.added ? '+ ' : '  '}${line}</span>`))}</pre>
  </div>`;
}
