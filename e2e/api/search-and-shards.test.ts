/**
 * Issue 8 through the HTTP API of the deployed shape: commands found by correlationId (both listing
 * routes, the client), and a domain's index shard count read and set (`admin` scope, the caller
 * recorded), with its refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandBusClient } from '@commandbus/client';
import { CommandStatus, ValidationError, type Command, type ShardSettings } from '@commandbus/core';
import { createScenario, target, type Scenario } from '../support/fixtures.ts';

let s: Scenario;
const correlationId = `order-${crypto.randomUUID()}`;
/** Newest first. */
const correlated: string[] = [];
let parked: string;

beforeAll(async () => {
  if (target().kind !== 'api') throw new Error('this file runs against an API target');
  s = await createScenario();
  for (let i = 0; i < 5; i++) {
    correlated.unshift(await s.send({ correlationId, data: { i } }));
    await s.send({ data: { unrelated: i } });
  }
  parked = crypto.randomUUID();
  await s.behaviours.create(parked, { type: 'fail_permanent', error_code: 'SEARCH_ME' });
  await s.send({ commandId: parked, correlationId });
  correlated.unshift(parked);
  await Promise.all(correlated.filter((id) => id !== parked).map((id) => s.waitForCompletion(id)));
  await s.waitForStatus(parked, CommandStatus.IN_TSQ);
});
afterAll(async () => {
  await s.cleanup();
});

describe('GET /commands?correlationId= and /domains/{domain}/commands?correlationId=', () => {
  it('answers the commands of one correlation, newest first, across pages (client: queryCommands)', async () => {
    const items: Command[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.client!.queryCommands({ domain: 'test', correlationId, limit: 2, ...(cursor ? { cursor } : {}) });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);

    expect(items.map((item) => item.commandId)).toEqual(correlated);
    expect(items.every((item) => item.correlationId === correlationId)).toBe(true);
  });

  it('filters with status on the domain-scoped route, and refuses a bad correlation id or a cursor of another correlation', async () => {
    const scoped = await s.client!.fetch('GET', `/domains/test/commands?correlationId=${encodeURIComponent(correlationId)}&status=IN_TSQ`);
    const first = await s.client!.queryCommands({ domain: 'test', correlationId, limit: 1 });
    const tooLong = await s.client!.fetch('GET', `/commands?domain=test&correlationId=${'x'.repeat(129)}`);
    const otherCursor = await s.client!.queryCommands({ domain: 'test', correlationId: 'another', cursor: first.nextCursor! }).catch((error: unknown) => error);

    expect(scoped.status).toBe(200);
    expect(((await scoped.json()) as { items: Command[] }).items.map((item) => item.commandId)).toEqual([parked]);
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({ error: { code: 'VALIDATION_ERROR', field: 'correlationId' } });
    expect(otherCursor).toBeInstanceOf(ValidationError);
    expect((otherCursor as ValidationError).field).toBe('cursor');
  });
});

describe('GET and POST /domains/{domain}/shards', () => {
  it('answers the default for a domain never changed, then a raise: readers at once, writers pending, the caller recorded', async () => {
    const domain = `s${crypto.randomUUID().slice(0, 8)}`;

    const initial = await s.client!.getShardSettings(domain);
    const raised = await s.client!.setShardCount({ domain, shards: 128 });
    const read = await s.client!.fetch('GET', `/domains/${domain}/shards`);

    expect(initial).toEqual({ domain, writeShards: 8, readShards: 8 });
    expect(raised).toMatchObject({ domain, writeShards: 8, readShards: 128, pending: { writeShards: 128 } });
    const where = target();
    if (where.kind === 'api' && where.operator) expect(raised.updatedBy).toBe(where.operator);
    expect(read.status).toBe(200);
    expect((await read.json()) as ShardSettings).toEqual(raised);
  });

  it('refuses a count out of 1–256, or not an integer, with a 400 naming shards', async () => {
    const domain = `s${crypto.randomUUID().slice(0, 8)}`;

    const answers = await Promise.all(
      ['{"shards":0}', '{"shards":257}', '{"shards":8.5}', '{"shards":"8"}', '{}'].map((body) => s.client!.fetch('POST', `/domains/${domain}/shards`, body)),
    );

    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(await answer.json()).toMatchObject({ error: { type: 'ValidationError', field: 'shards' } });
    }
    expect(await s.client!.getShardSettings(domain)).toEqual({ domain, writeShards: 8, readShards: 8 });
  });

  it('lets a reader read the settings but not change them: changing them is the admin scope', async () => {
    const where = target();
    if (where.kind !== 'api' || !where.scoped) return;
    const viewer = new CommandBusClient({ baseUrl: where.apiUrl, auth: where.scoped.viewer.auth });
    const domainOperator = new CommandBusClient({ baseUrl: where.apiUrl, auth: where.scoped.domainOperator.auth });

    const settings = await s.client!.getShardSettings('test');
    const read = await viewer.fetch('GET', '/domains/test/shards');
    const byViewer = await viewer.fetch('POST', '/domains/test/shards', '{"shards":16}');
    const byOperator = await domainOperator.fetch('POST', '/domains/test/shards', '{"shards":16}');

    expect(read.status).toBe(200);
    expect([byViewer.status, byOperator.status]).toEqual([403, 403]);
    expect(await s.client!.getShardSettings('test')).toEqual(settings);
  });
});
