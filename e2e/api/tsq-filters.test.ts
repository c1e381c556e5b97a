/**
 * GET /tsq with the error and time filters, through the HTTP API of the deployed shape (the worker
 * a Lambda): query parameters, paging, refusals, and the OpenAPI document that lists them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, type TsqEntry } from '@commandbus/core';
import { createScenario, target, type Scenario } from '../support/fixtures.ts';

let s: Scenario;
/** Unique codes: the API target's TSQ is shared with the other tests. */
const CODE = `API_${crypto.randomUUID().slice(0, 8)}`;
const OTHER = `API_OTHER_${crypto.randomUUID().slice(0, 8)}`;
const parked: string[] = [];
const other: string[] = [];
let startedAt: string;

beforeAll(async () => {
  if (target().kind !== 'api') throw new Error('this file runs against an API target');
  s = await createScenario();
  startedAt = new Date(Date.now() - 1000).toISOString();
  const park = async (into: string[], code: string) => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: code });
    await s.send({ commandId });
    into.push(commandId);
  };
  for (let i = 0; i < 3; i++) await park(parked, CODE);
  await park(other, OTHER);
  await Promise.all([...parked, ...other].map((id) => s.waitForStatus(id, CommandStatus.IN_TSQ)));
});
afterAll(async () => {
  await s.cleanup();
});

const call = async (path: string) => {
  const response = await s.client!.fetch('GET', path);
  return { status: response.status, body: (await response.json()) as { items?: TsqEntry[]; nextCursor?: string; error?: { field?: string } } };
};

describe('GET /tsq: filters', () => {
  it('pages through the commands parked with an error code and type in a time window, each once', async () => {
    const seen: string[] = [];
    let query = `/tsq?domain=test&errorCode=${CODE}&errorType=PERMANENT&from=${encodeURIComponent(startedAt)}&limit=2`;
    for (let pages = 0; pages < 20; pages++) {
      const { status, body } = await call(query);
      expect(status).toBe(200);
      expect(body.items!.length).toBeLessThanOrEqual(2);
      for (const entry of body.items!) expect(entry.lastError).toMatchObject({ type: 'PERMANENT', code: CODE });
      seen.push(...body.items!.map((entry) => entry.commandId));
      if (!body.nextCursor) break;
      query = `/tsq?domain=test&errorCode=${CODE}&errorType=PERMANENT&from=${encodeURIComponent(startedAt)}&limit=2&cursor=${body.nextCursor}`;
    }

    expect([...seen].sort()).toEqual([...parked].sort());
  });

  it('lists nothing for another type, or a window that ends before the commands were parked', async () => {
    const transient = await call(`/tsq?domain=test&errorCode=${CODE}&errorType=TRANSIENT`);
    const earlier = await call(`/tsq?domain=test&errorCode=${CODE}&to=${encodeURIComponent(startedAt)}`);

    expect(transient).toEqual({ status: 200, body: { items: [] } });
    expect(earlier).toEqual({ status: 200, body: { items: [] } });
  });

  it('passes the filters through the client', async () => {
    const page = await s.client!.listTsq({ domain: 'test', errorCode: OTHER, errorType: 'PERMANENT', from: startedAt, limit: 10 });

    expect(page.items.map((entry) => entry.commandId)).toEqual(other);
  });

  it('answers 400 naming the field for an unknown error type, a bad bound, and a cursor of other filters', async () => {
    const { body: first } = await call(`/tsq?domain=test&errorCode=${CODE}&limit=1`);

    const badType = await call('/tsq?domain=test&errorType=fatal');
    const badFrom = await call('/tsq?domain=test&from=yesterday');
    const tooLong = await call(`/tsq?domain=test&errorCode=${'E'.repeat(129)}`);
    const reused = await call(`/tsq?domain=test&errorCode=${OTHER}&limit=1&cursor=${first.nextCursor}`);

    expect(first.nextCursor).toBeDefined();
    expect(badType).toMatchObject({ status: 400, body: { error: { field: 'errorType' } } });
    expect(badFrom).toMatchObject({ status: 400, body: { error: { field: 'from' } } });
    expect(tooLong).toMatchObject({ status: 400, body: { error: { field: 'errorCode' } } });
    expect(reused).toMatchObject({ status: 400, body: { error: { field: 'cursor' } } });
  });

  it('documents the filters as query parameters of listTsq in the OpenAPI document', async () => {
    const response = await s.client!.fetch('GET', '/openapi.json');
    const document = (await response.json()) as { paths: Record<string, { get: { operationId: string; parameters: { name: string; in: string }[] } }> };

    const operation = document.paths['/tsq']!.get;
    expect(operation.operationId).toBe('listTsq');
    expect(operation.parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name)).toEqual(
      expect.arrayContaining(['domain', 'commandType', 'errorCode', 'errorType', 'from', 'to', 'limit', 'cursor']),
    );
  });
});
