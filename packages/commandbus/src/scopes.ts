/**
 * Who may do what on the HTTP API: one scope model, two enforcers.
 *
 * On AWS every route requires IAM (SigV4), and API Gateway allows a request only when the caller's
 * policies allow `execute-api:Invoke` on `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}{path}`,
 * with the request's path; the construct's grant helpers (CommandBus.grantRead/grantSend/grantOperate, @commandbus/cdk)
 * write those ARNs from {@link scopePatterns}. The local HTTP API checks each token's scope against the
 * very same patterns ({@link scopeAllows}), so a scope means the same on both targets.
 *
 * The domain is always in the path where a scope may restrict it: IAM cannot see a query string or a
 * body. The routes that carry it elsewhere (`GET /commands?domain=`, `GET /tsq?domain=`,
 * `POST /commands`) need the scope for every domain (`'*'`); their path-scoped twins
 * (`/domains/{domain}/commands`, `/domains/{domain}/tsq`) serve a scope of some domains.
 *
 * Pure: no I/O, no imports, so the stack, the runtime and the functions can all use it.
 */

/**
 * What an operator may do to a parked command; each is the last segment of its route, but `bulk`
 * (`/tsq-bulk/{domain}/{action}`: any of retry, cancel, complete by a list of ids; and operator jobs,
 * `/tsq-jobs/{domain}/…`: the same by a filter — create, start, pause, resume, cancel). The bulk route has
 * a prefix of its own so that no single-command pattern (`/tsq/{domain}/<any>/retry`: IAM's `*` spans
 * slashes) can match it: acting on a list is a right of its own.
 */
export const OPERATOR_ACTIONS = ['retry', 'cancel', 'complete', 'edit-and-retry', 'bulk'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/** Some domains, or every domain (`'*'`, which also allows the routes whose domain is not in the path). */
export type Domains = readonly string[] | '*';

/**
 * What a caller may do: read (list, get, counts, audit, history, settings), send, operate on the TSQ,
 * and administer a domain (change its settings: the index shard count).
 */
export interface Scope {
  read?: Domains;
  send?: Domains;
  operate?: { domains: Domains; actions: readonly OperatorAction[] | '*' };
  admin?: Domains;
}

/** Everything: the scope of the local runtime's main token. */
export const FULL_ACCESS: Scope = { read: '*', send: '*', operate: { domains: '*', actions: '*' }, admin: '*' };

export type RouteKind = 'read' | 'send' | 'operate' | 'admin' | 'document';

/** One route of the API and what it needs. `domain`: whether the route names its domain in the path. */
export interface RouteAccess {
  operationId: string;
  method: 'GET' | 'POST';
  /** As openapi.ts writes it: `{name}` for a path parameter. */
  path: string;
  kind: RouteKind;
  action?: OperatorAction;
}

/**
 * Every route of the API with its kind (functions/tests/scopes.test.ts holds this list to the
 * operations of openapi.ts, so a new route cannot go unclassified).
 */
export const ROUTE_ACCESS: readonly RouteAccess[] = [
  { operationId: 'sendCommand', method: 'POST', path: '/commands', kind: 'send' },
  { operationId: 'sendDomainCommand', method: 'POST', path: '/domains/{domain}/commands', kind: 'send' },
  { operationId: 'queryCommands', method: 'GET', path: '/commands', kind: 'read' },
  { operationId: 'queryDomainCommands', method: 'GET', path: '/domains/{domain}/commands', kind: 'read' },
  { operationId: 'getCommand', method: 'GET', path: '/commands/{domain}/{commandId}', kind: 'read' },
  { operationId: 'getAuditTrail', method: 'GET', path: '/commands/{domain}/{commandId}/audit', kind: 'read' },
  { operationId: 'getCommandHistory', method: 'GET', path: '/commands/{domain}/{commandId}/history', kind: 'read' },
  { operationId: 'countByStatus', method: 'GET', path: '/domains/{domain}/counts', kind: 'read' },
  { operationId: 'domainStats', method: 'GET', path: '/domains/{domain}/stats', kind: 'read' },
  { operationId: 'queryByStatus', method: 'GET', path: '/domains/{domain}/statuses/{status}/commands', kind: 'read' },
  { operationId: 'listTsq', method: 'GET', path: '/tsq', kind: 'read' },
  { operationId: 'listDomainTsq', method: 'GET', path: '/domains/{domain}/tsq', kind: 'read' },
  // Before the single-command actions, so routeOf names a bulk request as bulk.
  { operationId: 'operatorBulk', method: 'POST', path: '/tsq-bulk/{domain}/{action}', kind: 'operate', action: 'bulk' },
  { operationId: 'tsqGroups', method: 'GET', path: '/domains/{domain}/tsq/groups', kind: 'read' },
  // Operator jobs act on many commands by a filter: the bulk right, under a prefix of their own.
  { operationId: 'createJob', method: 'POST', path: '/tsq-jobs/{domain}/{action}', kind: 'operate', action: 'bulk' },
  { operationId: 'controlJob', method: 'POST', path: '/tsq-jobs/{domain}/{jobId}/{control}', kind: 'operate', action: 'bulk' },
  { operationId: 'listJobs', method: 'GET', path: '/domains/{domain}/jobs', kind: 'read' },
  { operationId: 'getJob', method: 'GET', path: '/domains/{domain}/jobs/{jobId}', kind: 'read' },
  { operationId: 'operatorRetry', method: 'POST', path: '/tsq/{domain}/{commandId}/retry', kind: 'operate', action: 'retry' },
  { operationId: 'operatorCancel', method: 'POST', path: '/tsq/{domain}/{commandId}/cancel', kind: 'operate', action: 'cancel' },
  { operationId: 'operatorComplete', method: 'POST', path: '/tsq/{domain}/{commandId}/complete', kind: 'operate', action: 'complete' },
  { operationId: 'operatorEditAndRetry', method: 'POST', path: '/tsq/{domain}/{commandId}/edit-and-retry', kind: 'operate', action: 'edit-and-retry' },
  { operationId: 'getShardSettings', method: 'GET', path: '/domains/{domain}/shards', kind: 'read' },
  { operationId: 'setShardCount', method: 'POST', path: '/domains/{domain}/shards', kind: 'admin' },
  { operationId: 'getOpenApiDocument', method: 'GET', path: '/openapi.json', kind: 'document' },
];

/**
 * The `{METHOD}{path}` patterns a scope allows, as they follow `{apiId}/{stage}/` in an
 * execute-api ARN: `*` stands for any characters (IAM's wildcard), `/` included. Path parameters
 * other than the domain become `*`; the domain is written out, or `*` for every domain. A pattern
 * another one already covers is left out. Any grant includes `GET/openapi.json`.
 */
export function scopePatterns(scope: Scope): string[] {
  const patterns: string[] = [];
  const add = (route: RouteAccess, domains: Domains | undefined) => {
    if (domains === undefined || (domains !== '*' && domains.length === 0)) return;
    const named = route.path.includes('{domain}');
    if (!named && domains !== '*') return; // the domain is not in the path: only every domain will do
    for (const domain of domains === '*' ? ['*'] : domains) {
      if (domains !== '*' && !isPathSafe(domain)) throw new Error(`scope: domain ${JSON.stringify(domain)} cannot be named in a path pattern`);
      patterns.push(`${route.method}${route.path.replace('{domain}', domain).replace(/\{[^}]+\}/g, '*')}`);
    }
  };
  for (const route of ROUTE_ACCESS) {
    if (route.kind === 'read') add(route, scope.read);
    else if (route.kind === 'send') add(route, scope.send);
    else if (route.kind === 'admin') add(route, scope.admin);
    else if (route.kind === 'operate') {
      const actions = scope.operate?.actions;
      if (actions === '*' || actions?.includes(route.action!)) add(route, scope.operate?.domains);
    }
  }
  if (patterns.length > 0) patterns.push('GET/openapi.json');
  const unique = [...new Set(patterns)];
  // A pattern matched, as text, by another covers nothing the other does not (each of its `*` falls in one of the other's).
  return unique.filter((pattern) => !unique.some((other) => other !== pattern && globMatches(other, pattern)));
}

/**
 * Whether a scope allows a request: its method and its (percent-decoded) path match one of the
 * scope's patterns, as IAM matches the request's execute-api ARN against the caller's policy.
 */
export function scopeAllows(scope: Scope, method: string, path: string): boolean {
  return scopePatterns(scope).some((pattern) => globMatches(pattern, `${method.toUpperCase()}${path}`));
}

/** The route a request is for and the domain it names, if any (for messages and audits; no decision rests on it). */
export function routeOf(method: string, path: string): (RouteAccess & { domain?: string }) | undefined {
  for (const route of ROUTE_ACCESS) {
    if (route.method !== method.toUpperCase()) continue;
    const names: string[] = [];
    const source = route.path.replace(/[.]/g, '\\.').replace(/\{([^}]+)\}/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const match = new RegExp(`^${source}$`).exec(path);
    if (!match) continue;
    const domainIndex = names.indexOf('domain');
    return domainIndex < 0 ? route : { ...route, domain: match[domainIndex + 1]! };
  }
  return undefined;
}

/** Why a scope refuses a request, in words for the 403's message. */
export function refusalMessage(method: string, path: string): string {
  const route = routeOf(method, path);
  if (!route) return `this caller may not call ${method} ${path}`;
  const what = route.kind === 'operate' ? `operate (${route.action})` : route.kind === 'admin' ? 'administer' : route.kind;
  const where =
    route.domain === undefined
      ? route.kind === 'document'
        ? ''
        : ' on every domain (the route does not name one in its path)'
      : `${route.kind === 'admin' ? '' : ' on'} domain ${route.domain}`;
  return `this caller may not ${what}${where}: ${method} ${path} is outside its scope`;
}

/** IAM's `*` (any characters, `/` included); everything else literal. */
function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** A domain name that can stand in an ARN pattern as it is (the API's domain names all can). */
function isPathSafe(domain: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/.test(domain);
}
