/** Send: one command, or a mix of the test app's behaviours (the demo of the whole lifecycle in a minute). */
import { useState } from 'preact/hooks';
import { api, type Rights } from '../api.ts';
import { Message, type Notice } from '../components.ts';
import { html } from '../html.ts';

const BEHAVIOURS = {
  success: { type: 'success' },
  fail_permanent: { type: 'fail_permanent', error_code: 'DEMO_PERMANENT' },
  fail_transient: { type: 'fail_transient', error_code: 'DEMO_TRANSIENT' },
  fail_transient_then_succeed: { type: 'fail_transient_then_succeed', transient_failures: 1 },
  timeout: { type: 'timeout', timeout_ms: 3_600_000 },
} as const;
type BehaviourName = keyof typeof BEHAVIOURS;

/** A JSON object from the editor, or the reason it is not one. */
export function parseObject(text: string): { value?: Record<string, unknown>; error?: string } {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'must be a JSON object ({ … })' };
    return { value: value as Record<string, unknown> };
  } catch (error) {
    return { error: `is not JSON: ${(error as Error).message}` };
  }
}

export function Send({ domain, rights }: { domain: string; rights: Rights }) {
  const [commandType, setCommandType] = useState('TestCommand');
  const [data, setData] = useState('{\n  "orderId": "A-1001"\n}');
  const [maxAttempts, setMaxAttempts] = useState('3');
  const [correlationId, setCorrelationId] = useState('');
  const [replyTo, setReplyTo] = useState('');
  const [mix, setMix] = useState<Record<BehaviourName, number>>({
    success: 3,
    fail_permanent: 1,
    fail_transient: 1,
    fail_transient_then_succeed: 1,
    timeout: 0,
  });
  const [notice, setNotice] = useState<Notice>();
  const [sent, setSent] = useState<{ commandId: string; label: string }[]>([]);
  const parsed = parseObject(data);

  if (!rights.send) return html`<h1>Send</h1><p class="message info">Your credentials may not send commands in ${domain}.</p>`;

  const sendOne = async (payload: Record<string, unknown>, label: string) => {
    const commandId = crypto.randomUUID();
    await api.send({
      domain,
      commandType,
      commandId,
      data: payload,
      ...(maxAttempts ? { maxAttempts: Number(maxAttempts) } : {}),
      ...(correlationId ? { correlationId } : {}),
      ...(replyTo ? { replyTo } : {}),
    });
    return { commandId, label };
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!parsed.value) return setNotice({ kind: 'error', text: `Data ${parsed.error}` });
    try {
      const one = await sendOne(parsed.value, 'command');
      setSent((previous) => [one, ...previous]);
      setNotice({ kind: 'info', text: `Sent ${one.commandId}` });
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
    }
  };
  const sendMix = async () => {
    const plan = (Object.entries(mix) as [BehaviourName, number][]).flatMap(([name, n]) => Array.from({ length: n }, () => name));
    try {
      const results = await Promise.all(plan.map((name) => sendOne({ ...(parsed.value ?? {}), behavior: BEHAVIOURS[name] }, name)));
      setSent((previous) => [...results, ...previous]);
      setNotice({ kind: 'info', text: `Sent ${results.length} commands: watch them on the dashboard and in the troubleshooting queue` });
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
    }
  };

  return html`
    <h1>Send to ${domain}</h1>
    <${Message} notice=${notice} />
    <form class="form" onSubmit=${submit}>
      <label for="commandType">Command type</label>
      <input id="commandType" required value=${commandType} onInput=${(event: Event) => setCommandType((event.target as HTMLInputElement).value)} />
      <label for="data">Data (JSON object)</label>
      <div>
        <textarea id="data" aria-invalid=${parsed.error ? 'true' : 'false'} aria-describedby="data-help" value=${data} onInput=${(event: Event) => setData((event.target as HTMLTextAreaElement).value)}></textarea>
        <div id="data-help" class="note">${parsed.error ? `Data ${parsed.error}` : 'Valid JSON object.'}</div>
      </div>
      <label for="maxAttempts">Max attempts</label>
      <input id="maxAttempts" type="number" min="1" max="25" value=${maxAttempts} onInput=${(event: Event) => setMaxAttempts((event.target as HTMLInputElement).value)} />
      <label for="correlationId">Correlation id</label>
      <input id="correlationId" placeholder="generated when empty" value=${correlationId} onInput=${(event: Event) => setCorrelationId((event.target as HTMLInputElement).value)} />
      <label for="replyTo">Reply to (queue name)</label>
      <input id="replyTo" value=${replyTo} onInput=${(event: Event) => setReplyTo((event.target as HTMLInputElement).value)} />
      <span></span>
      <div><button class="primary" type="submit">Send one command</button></div>
    </form>
    <h2>Test app: send a mix of behaviours</h2>
    <p class="note">Each command carries its behaviour in <code>data.behavior</code> (the test app's <code>TestCommand</code>).</p>
    <div class="form">
      ${(Object.keys(BEHAVIOURS) as BehaviourName[]).map(
        (name) => html`
          <label for=${`mix-${name}`}>${name}</label>
          <input id=${`mix-${name}`} type="number" min="0" max="500" value=${mix[name]}
            onInput=${(event: Event) => setMix({ ...mix, [name]: Math.max(0, Number((event.target as HTMLInputElement).value) || 0) })} />`,
      )}
      <span></span>
      <div><button type="button" class="primary" onClick=${sendMix}>Send the mix</button></div>
    </div>
    ${
      sent.length > 0
        ? html`<h2>Sent</h2><ul>${sent.slice(0, 50).map((item) => html`<li><a href=${`#/command/${encodeURIComponent(domain)}/${item.commandId}`}>${item.commandId}</a> (${item.label})</li>`)}</ul>`
        : null
    }
  `;
}
