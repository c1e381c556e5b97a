import { describe, expect, it } from 'vitest';
import { routeOf, scopeAllows, scopePatterns } from '@commandbus/core/scopes';

const id = '0d3c6a4e-7c1e-4b8a-9f59-1f1a2b3c4d5e';

describe('Scopes: the bulk route', () => {
  it('names a bulk operator of payments only its bulk routes: by list, and operator jobs', () => {
    expect(scopePatterns({ operate: { domains: ['payments'], actions: ['bulk'] } })).toEqual([
      'POST/tsq-bulk/payments/*',
      'POST/tsq-jobs/payments/*',
      'GET/openapi.json',
    ]);
  });

  it('lets a bulk operator create and control jobs on its domain only; reading jobs is read scope', () => {
    const scope = { operate: { domains: ['payments'], actions: ['bulk'] as const } };
    expect(scopeAllows(scope, 'POST', '/tsq-jobs/payments/retry')).toBe(true);
    expect(scopeAllows(scope, 'POST', `/tsq-jobs/payments/${id}/pause`)).toBe(true);
    expect(scopeAllows(scope, 'POST', `/tsq-jobs/orders/${id}/start`)).toBe(false);
    expect(scopeAllows(scope, 'GET', `/domains/payments/jobs/${id}`)).toBe(false);
    expect(scopeAllows({ operate: { domains: ['payments'], actions: ['retry'] } }, 'POST', '/tsq-jobs/payments/retry')).toBe(false);
    expect(scopeAllows({ read: ['payments'] }, 'GET', `/domains/payments/jobs/${id}`)).toBe(true);
    expect(scopeAllows({ read: ['payments'] }, 'GET', '/domains/payments/jobs')).toBe(true);
    expect(routeOf('POST', `/tsq-jobs/payments/${id}/cancel`)).toMatchObject({ operationId: 'controlJob', action: 'bulk', domain: 'payments' });
  });

  it('lets a bulk operator act by list on its domain only, and not on one command', () => {
    const scope = { operate: { domains: ['payments'], actions: ['bulk'] as const } };
    expect(scopeAllows(scope, 'POST', '/tsq-bulk/payments/retry')).toBe(true);
    expect(scopeAllows(scope, 'POST', '/tsq-bulk/payments/cancel')).toBe(true);
    expect(scopeAllows(scope, 'POST', '/tsq-bulk/orders/retry')).toBe(false);
    expect(scopeAllows(scope, 'POST', `/tsq/payments/${id}/retry`)).toBe(false);
  });

  it('does not let an operator of single retries act on a list: bulk is a right of its own', () => {
    const scope = { operate: { domains: ['payments'], actions: ['retry'] as const } };
    expect(scopeAllows(scope, 'POST', '/tsq-bulk/payments/retry')).toBe(false);
    expect(scopeAllows(scope, 'POST', `/tsq/payments/${id}/retry`)).toBe(true);
  });

  it('reads a bulk request as the bulk route, with its domain', () => {
    expect(routeOf('POST', '/tsq-bulk/payments/retry')).toMatchObject({ operationId: 'operatorBulk', action: 'bulk', domain: 'payments' });
    expect(routeOf('POST', `/tsq/payments/${id}/retry`)).toMatchObject({ operationId: 'operatorRetry' });
  });
});
