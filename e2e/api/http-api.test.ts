/**
 * The deployed shape only: the HTTP API's contract (auth, status codes, OpenAPI) and the worker
 * Lambda's batch semantics (function timeout, a malformed record among good ones).
 */
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus } from '@commandbus/core';
import { createScenario, target, type Scenario } from '../support/fixtures.ts';

let s: Scenario;
let apiUrl: string;
beforeAll(async () => {
  const where = target();
  if (where.kind !== 'api') throw new Error('this file runs against an API target');
  apiUrl = where.apiUrl.replace(/\/$/, '');
  s = await createScenario();
});
afterAll(async () => {
  await s.cleanup();
});

/** An authenticated call (bearer token locally, SigV4 on AWS). */
const call = (path: string, init: { method?: 'GET' | 'POST'; body?: string } = {}) => s.client!.fetch(init.method ?? 'GET', path, init.body);
/** A call with no credentials, or a made-up bearer token. */
const unauthenticated = (path: string, method: string, authorization?: string) =>
  fetch(`${apiUrl}${path}`, { method, headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) } });

const notEnforced = (() => {
  const where = target();
  return where.kind === 'api' ? where.authorisationNotEnforced : undefined;
})();

describe('HTTP API: authorisation', () => {
  if (notEnforced) it.skip(notEnforced, () => {});
  it.skipIf(notEnforced !== undefined)('refuses every route without the token, or with a wrong one', async () => {
    for (const [method, path] of [
      ['GET', '/commands?domain=test'],
      ['POST', '/commands'],
      ['GET', '/tsq?domain=test'],
      ['POST', `/tsq/test/${crypto.randomUUID()}/retry`],
      ['GET', '/openapi.json'],
    ] as const) {
      expect((await unauthenticated(path, method)).status, `${method} ${path}`).toBe(403);
      expect((await unauthenticated(path, method, 'Bearer wrong')).status, `${method} ${path}`).toBe(403);
    }
  });
});

describe('HTTP API: errors', () => {
  it('answers 400 for a body that is not JSON, naming the problem', async () => {
    const response = await call('/commands', { method: 'POST', body: '{not json' });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/^body: is not valid JSON/);
  });

  it('answers 400 with the field for invalid input', async () => {
    const response = await call('/commands', {
      method: 'POST',
      body: JSON.stringify({ domain: 'test', commandType: 'TestCommand', commandId: 'nope', data: {} }),
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: 'ValidationError', field: 'commandId' } });
  });

  it('answers 404 for an unknown command and an unknown route', async () => {
    expect((await call(`/commands/test/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await call(`/commands/test/${crypto.randomUUID()}/audit`)).status).toBe(404);
    expect((await call('/nothing-here')).status).toBe(404);
  });

  it('answers 409 for an operator action outside the TSQ and for a duplicate send', async () => {
    const commandId = await s.send();
    await s.waitForCompletion(commandId);

    const action = await call(`/tsq/test/${commandId}/cancel`, { method: 'POST', body: JSON.stringify({ reason: 'late' }) });
    const duplicate = await call('/commands', { method: 'POST', body: JSON.stringify({ domain: 'test', commandType: 'TestCommand', commandId, data: {} }) });

    expect(action.status).toBe(409);
    expect(await action.json()).toMatchObject({ error: { type: 'InvalidOperation', code: 'INVALID_OPERATION', currentStatus: 'COMPLETED' } });
    expect(duplicate.status).toBe(409);
    expect(await duplicate.json()).toMatchObject({
      error: { type: 'DuplicateCommand', code: 'DUPLICATE_COMMAND', domain: 'test', commandId, existingStatus: 'COMPLETED' },
    });
  });
});

describe('HTTP API: OpenAPI', () => {
  it('documents every route it serves, each with an operationId', async () => {
    const document = (await (await call('/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { operationId?: string }>> };

    expect(document.openapi).toMatch(/^3\./);
    const documented = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(
      [
        'POST /commands',
        'GET /commands',
        'GET /commands/{domain}/{commandId}',
        'GET /commands/{domain}/{commandId}/audit',
        'GET /domains/{domain}/counts',
        'GET /domains/{domain}/stats',
        'GET /domains/{domain}/statuses/{status}/commands',
        'GET /domains/{domain}/commands',
        'POST /domains/{domain}/commands',
        'GET /domains/{domain}/tsq',
        'GET /domains/{domain}/tsq/groups',
        'GET /tsq',
        'POST /tsq/{domain}/{commandId}/retry',
        'POST /tsq/{domain}/{commandId}/edit-and-retry',
        'GET /commands/{domain}/{commandId}/history',
        'POST /tsq/{domain}/{commandId}/cancel',
        'POST /tsq/{domain}/{commandId}/complete',
        'POST /tsq-bulk/{domain}/{action}',
        'GET /domains/{domain}/shards',
        'POST /domains/{domain}/shards',
        'POST /tsq-jobs/{domain}/{action}',
        'POST /tsq-jobs/{domain}/{jobId}/{control}',
        'GET /domains/{domain}/jobs',
        'GET /domains/{domain}/jobs/{jobId}',
        'GET /openapi.json',
      ].sort(),
    );
    const operationIds = Object.values(document.paths).flatMap((methods) => Object.values(methods).map((operation) => operation.operationId));
    expect(operationIds.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('counts commands per status', async () => {
    const commandId = await s.send();
    await s.waitForCompletion(commandId);

    const counts = (await (await call('/domains/test/counts')).json()) as { counts: Record<string, number>; counted: number; truncated: boolean };

    expect(counts.counts.COMPLETED).toBeGreaterThanOrEqual(1);
    expect(Object.values(counts.counts).reduce((a, b) => a + b, 0)).toBe(counts.counted);
    expect(counts.truncated).toBe(false);
  });
});

describe('Worker Lambda', () => {
  it('stops a handler at its time limit inside the function timeout: a transient TIMEOUT, retried, then the TSQ', async () => {
    const where = target();
    if (where.kind !== 'api') throw new Error('API target expected');
    const commandId = crypto.randomUUID();
    // Runs a second longer than the whole function may.
    await s.behaviours.create(commandId, { type: 'timeout', timeout_ms: (where.workerTimeoutSeconds + 1) * 1000 });

    await s.send({ commandId, maxAttempts: 2 });
    const command = await s.waitForStatus(commandId, CommandStatus.IN_TSQ, 30_000);

    expect(command.attempts).toBe(2);
    expect(command.lastError).toMatchObject({ type: 'TIMEOUT', code: 'TIMEOUT' });
    const failed = (await s.bus.getAuditTrail(commandId)).filter((event) => event.eventType === 'FAILED');
    expect(failed.map((event) => event.details.errorType)).toEqual(['TIMEOUT', 'TIMEOUT']);
  });

  it('parks a malformed record with its reason while the rest of its batch completes', async () => {
    const { QueueUrl } = await s.clients.sqs.send(new GetQueueUrlCommand({ QueueName: s.names.commandsQueue('test') }));
    const good = await Promise.all(Array.from({ length: 4 }, () => s.send()));
    const { MessageId } = await s.clients.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"v":1,"domain":"test"}' }));

    const parked = await s.waitForStatus(MessageId!, CommandStatus.IN_TSQ);
    await Promise.all(good.map((commandId) => s.waitForCompletion(commandId)));

    expect(parked.lastError?.code).toBe('MALFORMED_MESSAGE');
    expect(parked.lastError?.message).toMatch(/field 'commandType' is missing/);
  });
});
