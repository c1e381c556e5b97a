/** The bus's HTTP API through the console server (which adds the credentials), with its errors as messages. */
import type {
  AuditEvent,
  BulkResult,
  Command,
  JobFilter,
  OperatorJob,
  Page,
  PayloadEdit,
  StatsReport,
  StatusCounts,
  TsqEntry,
  TsqGroup,
} from '@commandbus/core';

import type { Rights } from '../server/consoleServer.ts';

export type { Rights };
export interface ConsoleConfig {
  target: string;
  domains: { domain: string; rights: Rights }[];
}

/** An answer of the API that is not a success: its status and the API's message, explained for people. */
export class ApiProblem extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, query?: Record<string, string | number | undefined>, body?: unknown): Promise<T> {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined && value !== '') search.set(name, String(value));
  const url = `/api/${path}${search.size ? `?${search}` : ''}`;
  const response = await fetch(url, {
    method,
    headers: { 'x-commandbus-console': '1', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: { error?: { message?: string; type?: string }; message?: string } | undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (response.ok) return parsed as T;
  const message = parsed?.error?.message ?? parsed?.message ?? text;
  if (response.status === 403) {
    throw new ApiProblem(403, `Not allowed: your credentials may not do this here (${message}). Ask for the operator scope of this domain and action.`);
  }
  throw new ApiProblem(response.status, `${parsed?.error?.type ?? response.status}: ${message}`);
}

const enc = encodeURIComponent;

export const api = {
  config: async (): Promise<ConsoleConfig> => {
    const response = await fetch('/console/config');
    if (!response.ok) throw new ApiProblem(response.status, await response.text());
    return response.json();
  },
  send: (request: { domain: string; commandType: string; commandId: string; data: unknown; maxAttempts?: number; correlationId?: string; replyTo?: string }) =>
    call<{ commandId: string; status: string }>('POST', 'commands', undefined, request),
  getCommand: (domain: string, commandId: string) => call<Command>('GET', `commands/${enc(domain)}/${enc(commandId)}`),
  audit: async (domain: string, commandId: string) => (await call<{ items: AuditEvent[] }>('GET', `commands/${enc(domain)}/${enc(commandId)}/audit`)).items,
  history: (domain: string, commandId: string, cursor?: string) =>
    call<Page<PayloadEdit>>('GET', `commands/${enc(domain)}/${enc(commandId)}/history`, { cursor }),
  commands: (query: {
    domain: string;
    status?: string;
    commandType?: string;
    from?: string;
    to?: string;
    correlationId?: string;
    limit?: number;
    cursor?: string;
  }) => call<Page<Command>>('GET', 'commands', query),
  counts: (domain: string, from?: string) => call<StatusCounts>('GET', `domains/${enc(domain)}/counts`, { from }),
  stats: (domain: string, from: string, series?: 'minute' | 'hour' | 'day') => call<StatsReport>('GET', `domains/${enc(domain)}/stats`, { from, series }),
  tsq: (query: { domain: string; commandType?: string; errorCode?: string; errorType?: string; limit?: number; cursor?: string }) =>
    call<Page<TsqEntry>>('GET', 'tsq', query),
  groups: async (domain: string) => (await call<{ items: TsqGroup[] }>('GET', `domains/${enc(domain)}/tsq/groups`)).items,
  tsqOverview: (domain: string) =>
    call<{ items: TsqGroup[]; oldest?: { commandId: string; movedToTsqAt: string } }>('GET', `domains/${enc(domain)}/tsq/groups`),
  retry: (domain: string, commandId: string) => call<Command>('POST', `tsq/${enc(domain)}/${enc(commandId)}/retry`, undefined, {}),
  cancel: (domain: string, commandId: string, reason: string) => call<Command>('POST', `tsq/${enc(domain)}/${enc(commandId)}/cancel`, undefined, { reason }),
  complete: (domain: string, commandId: string, resultData: unknown) =>
    call<Command>('POST', `tsq/${enc(domain)}/${enc(commandId)}/complete`, undefined, { resultData }),
  editAndRetry: (domain: string, commandId: string, data: unknown) =>
    call<Command>('POST', `tsq/${enc(domain)}/${enc(commandId)}/edit-and-retry`, undefined, { data }),
  createJob: (domain: string, action: 'retry' | 'cancel' | 'complete', body: { filter: JobFilter; rate: number; reason?: string; resultData?: unknown }) =>
    call<OperatorJob>('POST', `tsq-jobs/${enc(domain)}/${action}`, undefined, body),
  controlJob: (domain: string, jobId: string, control: 'start' | 'pause' | 'resume' | 'cancel') =>
    call<OperatorJob>('POST', `tsq-jobs/${enc(domain)}/${enc(jobId)}/${control}`, undefined, {}),
  jobs: (domain: string) => call<Page<OperatorJob>>('GET', `domains/${enc(domain)}/jobs`, { limit: 10 }),
  bulk: (domain: string, action: 'retry' | 'cancel' | 'complete', commandIds: string[], extra: { reason?: string; resultData?: unknown } = {}) =>
    call<BulkResult>('POST', `tsq-bulk/${enc(domain)}/${action}`, undefined, { commandIds, ...extra }),
};
