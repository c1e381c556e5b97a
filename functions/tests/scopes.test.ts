import { describe, expect, it } from 'vitest';
import { operations } from '../openapi.ts';
import { FULL_ACCESS, OPERATOR_ACTIONS, refusalMessage, ROUTE_ACCESS, routeOf, scopeAllows, scopePatterns, type Scope } from '@commandbus/core/scopes';

const id = '0d3c6a4e-7c1e-4b8a-9f59-1f1a2b3c4d5e';
const viewer: Scope = { read: '*' };
const paymentsOperator: Scope = { read: ['payments'], operate: { domains: ['payments'], actions: ['retry'] } };

describe('Function: ROUTE_ACCESS', () => {
  it('classifies every operation of the API, by the same method and path', () => {
    expect(ROUTE_ACCESS.map((route) => `${route.operationId} ${route.method} ${route.path}`).sort()).toEqual(
      Object.entries(operations)
        .map(([operationId, operation]) => `${operationId} ${operation.method.toUpperCase()} ${operation.path}`)
        .sort(),
    );
    const actions = ROUTE_ACCESS.filter((route) => route.kind === 'operate').map((route) => route.action);
    expect([...new Set(actions)].sort()).toEqual([...OPERATOR_ACTIONS].sort());
    // The action is the last segment of its route; bulk's routes (by list, and operator jobs) have prefixes of their own.
    for (const route of ROUTE_ACCESS.filter((route) => route.kind === 'operate'))
      expect(route.path).toMatch(
        route.action === 'bulk'
          ? /^\/tsq-(bulk\/\{domain\}\/\{action\}|jobs\/\{domain\}\/(\{action\}|\{jobId\}\/\{control\}))$/
          : new RegExp(`/${route.action}$`),
      );
  });
});

describe('Function: scopePatterns', () => {
  it('names a domain reader its domain-scoped GETs only', () => {
    expect(scopePatterns({ read: ['payments'] })).toEqual([
      'GET/domains/payments/commands',
      'GET/commands/payments/*',
      'GET/domains/payments/counts',
      'GET/domains/payments/stats',
      'GET/domains/payments/statuses/*/commands',
      'GET/domains/payments/tsq',
      'GET/domains/payments/tsq/groups',
      'GET/domains/payments/jobs',
      'GET/domains/payments/jobs/*',
      'GET/domains/payments/shards',
      'GET/openapi.json',
    ]);
  });

  it('names an administrator of payments its settings route only, apart from reading and operating', () => {
    expect(scopePatterns({ admin: ['payments'] })).toEqual(['POST/domains/payments/shards', 'GET/openapi.json']);
    expect(scopeAllows({ read: '*', operate: { domains: '*', actions: '*' } }, 'POST', '/domains/payments/shards')).toBe(false);
    expect(scopeAllows({ admin: ['payments'] }, 'POST', '/domains/shipping/shards')).toBe(false);
    expect(refusalMessage('POST', '/domains/shipping/shards')).toBe(
      'this caller may not administer domain shipping: POST /domains/shipping/shards is outside its scope',
    );
  });

  it("names a payments operator of retries only payments' retry route (and what it reads)", () => {
    const patterns = scopePatterns({ operate: { domains: ['payments'], actions: ['retry'] } });

    expect(patterns).toEqual(['POST/tsq/payments/*/retry', 'GET/openapi.json']);
  });

  it('gives every domain with `*`, the routes whose domain is not in the path included', () => {
    expect(scopePatterns({ send: '*' })).toEqual(['POST/commands', 'POST/domains/*/commands', 'GET/openapi.json']);
    expect(scopePatterns(viewer)).toEqual([
      'GET/commands',
      'GET/domains/*/commands',
      'GET/commands/*/*',
      'GET/domains/*/counts',
      'GET/domains/*/stats',
      'GET/tsq',
      'GET/domains/*/tsq',
      'GET/domains/*/tsq/groups',
      'GET/domains/*/jobs',
      'GET/domains/*/jobs/*',
      'GET/domains/*/shards',
      'GET/openapi.json',
    ]);
  });

  it('gives nothing for an empty scope, and refuses a domain that cannot stand in a pattern', () => {
    expect(scopePatterns({})).toEqual([]);
    expect(scopePatterns({ read: [], operate: { domains: ['payments'], actions: [] } })).toEqual([]);
    expect(() => scopePatterns({ read: ['pay*'] })).toThrow(/cannot be named/);
  });
});

describe('Function: scopeAllows', () => {
  it('lets a viewer list and read every domain, and nothing else', () => {
    for (const [method, path] of [
      ['GET', '/commands'],
      ['GET', `/commands/shipping/${id}`],
      ['GET', `/commands/shipping/${id}/audit`],
      ['GET', `/commands/shipping/${id}/history`],
      ['GET', '/domains/shipping/counts'],
      ['GET', '/tsq'],
      ['GET', '/domains/shipping/tsq'],
      ['GET', '/openapi.json'],
    ]) {
      expect(scopeAllows(viewer, method!, path!), `${method} ${path}`).toBe(true);
    }
    for (const action of OPERATOR_ACTIONS) expect(scopeAllows(viewer, 'POST', `/tsq/payments/${id}/${action}`), action).toBe(false);
    expect(scopeAllows(viewer, 'POST', '/commands')).toBe(false);
    expect(scopeAllows(viewer, 'POST', '/domains/payments/commands')).toBe(false);
  });

  it('keeps a payments operator to payments, to its actions, and off the routes whose domain is in the query', () => {
    expect(scopeAllows(paymentsOperator, 'POST', `/tsq/payments/${id}/retry`)).toBe(true);
    expect(scopeAllows(paymentsOperator, 'GET', `/commands/payments/${id}/audit`)).toBe(true);
    expect(scopeAllows(paymentsOperator, 'GET', '/domains/payments/tsq')).toBe(true);

    expect(scopeAllows(paymentsOperator, 'POST', `/tsq/shipping/${id}/retry`)).toBe(false);
    expect(scopeAllows(paymentsOperator, 'POST', `/tsq/payments/${id}/cancel`)).toBe(false);
    expect(scopeAllows(paymentsOperator, 'POST', `/tsq/payments-eu/${id}/retry`)).toBe(false);
    expect(scopeAllows(paymentsOperator, 'GET', '/tsq')).toBe(false);
    expect(scopeAllows(paymentsOperator, 'GET', '/commands')).toBe(false);
    expect(scopeAllows(paymentsOperator, 'GET', `/commands/shipping/${id}`)).toBe(false);
    expect(scopeAllows(paymentsOperator, 'GET', '/domains/paymentsX/tsq')).toBe(false);
  });

  it('lets full access do everything', () => {
    for (const route of ROUTE_ACCESS) {
      const path = route.path.replace('{domain}', 'any').replace('{commandId}', id);
      expect(scopeAllows(FULL_ACCESS, route.method, path), route.operationId).toBe(true);
    }
  });
});

describe('Function: routeOf and refusalMessage', () => {
  it('names the route, its domain and its action', () => {
    expect(routeOf('POST', `/tsq/shipping/${id}/retry`)).toMatchObject({ operationId: 'operatorRetry', domain: 'shipping', action: 'retry' });
    expect(routeOf('GET', '/tsq')).toMatchObject({ operationId: 'listTsq' });
    expect(routeOf('GET', '/nothing')).toBeUndefined();
    expect(refusalMessage('POST', `/tsq/shipping/${id}/retry`)).toMatch(/^this caller may not operate \(retry\) on domain shipping/);
    expect(refusalMessage('GET', '/tsq')).toMatch(/read on every domain/);
  });
});
