/**
 * The CommandStore contract: what every store must do, tested through the port alone. It runs
 * against the in-memory twin (unit project: commandStore.twin.test.ts) and against
 * DynamoCommandStore on DynamoDB Local (e2e project: e2e/contract.test.ts), so the twin cannot drift
 * from the real adapter. Tests assert behaviour, never the shape of a cursor or an item.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CommandState, NewCommandRecord, NewEvent, Transition } from '../../src/domain/lifecycle.ts';
import { ValidationError } from '../../src/errors.ts';
import { ItemTooLargeError, StoreUnavailableError, type ApplyResult, type CommandStore } from '../../src/ports/CommandStore.ts';
import { shardOf } from '../../src/adapters/dynamodb/keys.ts';
import { AuditEventType, CommandStatus, type CommandError, type JsonObject } from '../../src/types.ts';

export interface StoreWorld {
  store: CommandStore;
  /** A domain no other test writes to: queries read a whole domain. */
  domain: string;
}

/** Times on one day, `at(5)` being 5 minutes past ten. */
const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 10, minute)).toISOString();

const event = (eventType: AuditEventType, minute: number, attempt: number, details: NewEvent['details'] = {}): NewEvent => ({
  eventType,
  timestamp: at(minute),
  attempt,
  details,
});

/** A command as a send records it: PENDING, no attempt, its SENT event. */
function pending(domain: string, overrides: Partial<NewCommandRecord> = {}): NewCommandRecord {
  const commandId = overrides.commandId ?? randomUUID();
  return {
    domain,
    commandId,
    commandType: 'Charge',
    status: CommandStatus.PENDING,
    attempts: 0,
    maxAttempts: 3,
    token: `token-${commandId}`,
    correlationId: `corr-${commandId}`,
    createdAt: at(0),
    updatedAt: at(0),
    events: [event(AuditEventType.SENT, 0, 0)],
    ...overrides,
  };
}

/** The first receive of a PENDING command: IN_PROGRESS, attempt 1, under a lease. */
function receive(record: Pick<NewCommandRecord, 'domain' | 'commandId' | 'token'>, lease = 'lease-1', minute = 1): Transition {
  return {
    domain: record.domain,
    commandId: record.commandId,
    expect: { status: [CommandStatus.PENDING, CommandStatus.IN_PROGRESS], token: record.token, attempts: 0 },
    set: { status: CommandStatus.IN_PROGRESS, attempts: 1, updatedAt: at(minute), lease },
    events: [event(AuditEventType.RECEIVED, minute, 1)],
  };
}

const FAILURE: CommandError = { type: 'PERMANENT', code: 'BROKEN', message: 'it broke', details: { line: 7 } };

type RecordRef = Pick<NewCommandRecord, 'domain' | 'commandId' | 'token'> & { commandType?: string };

/** The TSQ group a command of `record`'s type (default Charge) parked with `error` is counted in. */
const groupOf = (record: RecordRef, error: CommandError = FAILURE) => ({
  commandType: record.commandType ?? 'Charge',
  errorType: error.type,
  errorCode: error.code,
});

/** Parks an IN_PROGRESS command (attempt 1, `lease`) at `minute`. */
function park(record: RecordRef, minute: number, lease = 'lease-1', error: CommandError = FAILURE): Transition {
  return {
    domain: record.domain,
    commandId: record.commandId,
    expect: { status: CommandStatus.IN_PROGRESS, token: record.token, attempts: 1, lease },
    set: { status: CommandStatus.IN_TSQ, updatedAt: at(minute), lastError: error, data: { keep: 'me' }, tsq: 'enter', tsqGroup: groupOf(record, error) },
    events: [event(AuditEventType.MOVED_TO_TSQ, minute, 1, { errorCode: error.code })],
  };
}

/** Takes a parked command out of the TSQ (an operator's cancel). */
function cancel(record: RecordRef, minute: number, error: CommandError = FAILURE): Transition {
  return {
    domain: record.domain,
    commandId: record.commandId,
    expect: { status: CommandStatus.IN_TSQ, token: record.token, attempts: 1 },
    set: { status: CommandStatus.CANCELLED, updatedAt: at(minute), tsq: 'leave', tsqGroup: groupOf(record, error), pendingRetry: null },
    events: [event(AuditEventType.OPERATOR_CANCEL, minute, 1, { operator: 'ops', reason: 'no' })],
  };
}

async function mustGet(store: CommandStore, domain: string, commandId: string): Promise<CommandState> {
  const state = await store.get(domain, commandId);
  if (!state) throw new Error(`command ${domain}/${commandId} is not stored`);
  return state;
}

/** Follows nextCursor to the end; fails on a runaway loop. */
async function everyPage(read: (cursor: string | undefined) => Promise<{ items: CommandState[]; nextCursor?: string }>) {
  const pages: CommandState[][] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    pages.push(page.items);
    cursor = page.nextCursor;
    if (pages.length > 100) throw new Error('more than 100 pages: the cursor does not advance');
  } while (cursor !== undefined);
  return pages;
}

/** An operator's edit-and-retry step 1 on a parked command with `edits` edits behind it. */
function edit(record: Pick<NewCommandRecord, 'domain' | 'commandId' | 'token'>, edits: number, before: JsonObject, after: JsonObject, minute = 20): Transition {
  const editNumber = edits + 1;
  return {
    domain: record.domain,
    commandId: record.commandId,
    expect: { status: CommandStatus.IN_TSQ, token: record.token, attempts: 1, edits },
    set: {
      status: CommandStatus.IN_TSQ,
      updatedAt: at(10),
      data: after,
      edits: editNumber,
      pendingRetry: { token: `retry-${editNumber}`, operator: 'ops', requestedAt: at(minute), details: { edited: true, editNumber } },
    },
    events: [],
    history: { domain: record.domain, commandId: record.commandId, editNumber, editedAt: at(minute), operator: 'ops', before, after },
  };
}

const ids = (items: CommandState[]) => items.map((item) => item.commandId);

/** Inserts `count` PENDING commands created a minute apart (oldest first); returns their ids, newest first. */
async function insertSeries(
  store: CommandStore,
  domain: string,
  count: number,
  shape: (n: number) => Partial<NewCommandRecord> = () => ({}),
): Promise<string[]> {
  const records = Array.from({ length: count }, (_, n) => pending(domain, { createdAt: at(n), updatedAt: at(n), ...shape(n) }));
  for (const record of records) await store.insert(record);
  return records.map((record) => record.commandId).reverse();
}

/**
 * Inserts, receives and parks one command per entry, parked a minute apart from minute 10 (oldest
 * first) with the entry's error; returns their ids, the most recently parked first.
 */
async function parkSeries(store: CommandStore, domain: string, entries: { error: CommandError; commandType?: string }[]): Promise<string[]> {
  const records = entries.map((entry) => pending(domain, entry.commandType === undefined ? {} : { commandType: entry.commandType }));
  for (const [n, record] of records.entries()) {
    await store.insert(record);
    await store.apply(receive(record));
    await store.apply(park(record, 10 + n, 'lease-1', entries[n]!.error));
  }
  return records.map((record) => record.commandId).reverse();
}

export function describeCommandStoreContract(name: string, setup: () => StoreWorld | Promise<StoreWorld>): void {
  describe(`Contract: CommandStore (${name})`, () => {
    describe('Method: insert', () => {
      it('creates the command, which get then returns with every field it was given', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain, { replyTo: 'my-replies', lease: 'lease-0', data: { amount: 12.5, tags: ['a', 'b'], nested: { ok: true, none: null } } });

        // Act
        const result = await store.insert(record);

        // Assess
        expect(result).toEqual({ created: true });
        const { events: _events, ...state } = record;
        expect(await store.get(domain, record.commandId)).toEqual(state);
      });

      it('refuses a second insert of the same command and returns the one stored, unchanged', async () => {
        // Prepare
        const { store, domain } = await setup();
        const first = pending(domain);
        await store.insert(first);
        const second = { ...pending(domain, { commandId: first.commandId, token: 'another-token', commandType: 'Other' }) };

        // Act
        const result = await store.insert(second);

        // Assess
        const { events: _events, ...stored } = first;
        expect(result).toEqual({ created: false, existing: stored });
        expect(await store.get(domain, first.commandId)).toEqual(stored);
        expect((await store.auditTrail(first.commandId, domain)).map((e) => e.eventType)).toEqual(['SENT']);
      });

      it('keeps commands of different domains that share an id apart', async () => {
        // Prepare
        const { store, domain } = await setup();
        const other = `${domain}-other`;
        const record = pending(domain);

        // Act
        const results = [await store.insert(record), await store.insert({ ...record, domain: other, commandType: 'Elsewhere' })];

        // Assess
        expect(results).toEqual([{ created: true }, { created: true }]);
        expect((await mustGet(store, domain, record.commandId)).commandType).toBe('Charge');
        expect((await mustGet(store, other, record.commandId)).commandType).toBe('Elsewhere');
      });

      it('lists a command created parked in the TSQ at once, parked at its updatedAt', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain, { status: CommandStatus.IN_TSQ, attempts: 1, updatedAt: at(3), lastError: FAILURE, data: { rawBody: 'junk' } });

        // Act
        await store.insert(record);

        // Assess
        const listed = await store.listTsq({ domain });
        expect(ids(listed.items)).toEqual([record.commandId]);
        expect(listed.items[0]?.movedToTsqAt).toBe(at(3));
        expect((await mustGet(store, domain, record.commandId)).movedToTsqAt).toBe(at(3));
      });

      it('refuses a command whose item would exceed 400 KB with ItemTooLargeError and stores nothing', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain, { data: { blob: 'x'.repeat(410 * 1024) } });

        // Act
        const error = await store.insert(record).catch((caught: unknown) => caught);

        // Assess
        expect(error).toBeInstanceOf(ItemTooLargeError);
        expect(await store.get(domain, record.commandId)).toBeUndefined();
      });
    });

    describe('Method: apply', () => {
      it('applies a transition whose expectations hold: the changes are stored and its events appended in order', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain);
        await store.insert(record);

        // Act
        const result = await store.apply(receive(record, 'lease-1'));

        // Assess
        expect(result).toEqual({ applied: true });
        expect(await store.get(domain, record.commandId)).toMatchObject({
          status: CommandStatus.IN_PROGRESS,
          attempts: 1,
          lease: 'lease-1',
          updatedAt: at(1),
          createdAt: at(0),
        });
        expect((await store.auditTrail(record.commandId, domain)).map((e) => [e.eventType, e.attempt])).toEqual([
          ['SENT', 0],
          ['RECEIVED', 1],
        ]);
      });

      it.each([
        ['the token differs', { token: 'stale-token' }],
        ['the status differs', { status: CommandStatus.COMPLETED }],
        ['the status is in none of the listed ones', { status: [CommandStatus.COMPLETED, CommandStatus.CANCELLED] }],
        ['the attempts differ', { attempts: 2 }],
        ['a lease is expected and the command holds none', { lease: 'lease-9' }],
      ] as const)('refuses a transition when %s, returns the command as it is and changes nothing', async (_, expectation) => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain);
        await store.insert(record);
        const before = await mustGet(store, domain, record.commandId);
        const transition = receive(record);
        transition.expect = { ...transition.expect, ...expectation };

        // Act
        const result = await store.apply(transition);

        // Assess
        expect(result).toEqual({ applied: false, current: before });
        expect(await store.get(domain, record.commandId)).toEqual(before);
        expect(await store.auditTrail(record.commandId, domain)).toHaveLength(1);
      });

      it('applies an outcome only under the lease the attempt was recorded with', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain);
        await store.insert(record);
        await store.apply(receive(record, 'lease-1'));
        const complete = (lease: string): Transition => ({
          domain,
          commandId: record.commandId,
          expect: { status: CommandStatus.IN_PROGRESS, token: record.token, attempts: 1, lease },
          set: { status: CommandStatus.COMPLETED, updatedAt: at(2), result: { paid: true } },
          events: [event(AuditEventType.COMPLETED, 2, 1)],
        });

        // Act
        const other = await store.apply(complete('lease-2'));
        const own = await store.apply(complete('lease-1'));

        // Assess
        expect(other).toMatchObject({ applied: false, current: { status: CommandStatus.IN_PROGRESS, lease: 'lease-1' } });
        expect(own).toEqual({ applied: true });
        expect(await store.get(domain, record.commandId)).toMatchObject({ status: CommandStatus.COMPLETED, result: { paid: true }, lease: 'lease-1' });
      });

      it('refuses a transition for a command that does not exist, returning no current state', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain);

        // Act
        const result = await store.apply(receive(record));

        // Assess
        expect(result).toEqual({ applied: false });
        expect(await store.get(domain, record.commandId)).toBeUndefined();
      });

      it('creates a missing command from createIfMissing: its identity, its first events, then the transition', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain, { replyTo: 'my-replies', createdAt: at(0) });
        const transition: Transition = {
          ...receive(record, 'lease-1', 2),
          createIfMissing: {
            identity: {
              commandType: record.commandType,
              maxAttempts: record.maxAttempts,
              token: record.token,
              correlationId: record.correlationId,
              createdAt: record.createdAt,
              replyTo: 'my-replies',
            },
            events: [event(AuditEventType.SENT, 0, 0)],
          },
        };

        // Act
        const result = await store.apply(transition);

        // Assess
        expect(result).toEqual({ applied: true });
        expect(await store.get(domain, record.commandId)).toEqual({
          domain,
          commandId: record.commandId,
          commandType: 'Charge',
          status: CommandStatus.IN_PROGRESS,
          attempts: 1,
          maxAttempts: 3,
          token: record.token,
          correlationId: record.correlationId,
          createdAt: at(0),
          updatedAt: at(2),
          replyTo: 'my-replies',
          lease: 'lease-1',
        });
        expect((await store.auditTrail(record.commandId, domain)).map((e) => e.eventType)).toEqual(['SENT', 'RECEIVED']);
        expect(ids((await store.query({ domain })).items)).toEqual([record.commandId]);
      });

      it('with createIfMissing on an existing command that matches: keeps its identity and first events, appends the transition', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain, { createdAt: at(0) });
        await store.insert(record);
        const transition: Transition = {
          ...receive(record, 'lease-1', 2),
          createIfMissing: {
            identity: { commandType: 'Different', maxAttempts: 9, token: record.token, correlationId: 'other-corr', createdAt: at(30) },
            events: [event(AuditEventType.SENT, 30, 0, { second: true })],
          },
        };

        // Act
        const result = await store.apply(transition);

        // Assess
        expect(result).toEqual({ applied: true });
        expect(await store.get(domain, record.commandId)).toMatchObject({
          commandType: 'Charge',
          maxAttempts: 3,
          correlationId: record.correlationId,
          createdAt: at(0),
          status: CommandStatus.IN_PROGRESS,
          attempts: 1,
        });
        expect((await store.auditTrail(record.commandId, domain)).map((e) => [e.eventType, e.details])).toEqual([
          ['SENT', {}],
          ['RECEIVED', {}],
        ]);
        expect(ids((await store.query({ domain, from: at(29) })).items)).toEqual([]);
      });

      it('with createIfMissing on an existing command that does not match: refuses and returns it', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain);
        await store.insert(record);
        await store.apply(receive(record, 'lease-1'));
        const transition: Transition = {
          ...receive(record, 'lease-2', 2),
          createIfMissing: {
            identity: { commandType: 'Charge', maxAttempts: 3, token: record.token, correlationId: record.correlationId, createdAt: at(0) },
            events: [event(AuditEventType.SENT, 0, 0)],
          },
        };

        // Act
        const result = await store.apply(transition);

        // Assess
        expect(result).toMatchObject({ applied: false, current: { status: CommandStatus.IN_PROGRESS, attempts: 1, lease: 'lease-1' } });
        expect(await store.auditTrail(record.commandId, domain)).toHaveLength(2);
      });

      it('sets lastError, data, pendingRetry, result and a new token; null removes the first three', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain);
        await store.insert(record);
        await store.apply(receive(record));
        await store.apply(park(record, 2));
        const pendingRetry = { token: 'token-2', operator: 'ops', requestedAt: at(3), details: { ticket: 'T-1' } };
        await store.apply({
          domain,
          commandId: record.commandId,
          expect: { status: CommandStatus.IN_TSQ, token: record.token, attempts: 1 },
          set: { status: CommandStatus.IN_TSQ, updatedAt: at(2), pendingRetry },
          events: [],
        });
        const withRetry = await mustGet(store, domain, record.commandId);

        // Act
        const result = await store.apply({
          domain,
          commandId: record.commandId,
          expect: { status: CommandStatus.IN_TSQ, token: record.token, attempts: 1 },
          set: {
            status: CommandStatus.PENDING,
            attempts: 0,
            token: 'token-2',
            updatedAt: at(4),
            lastError: null,
            data: null,
            pendingRetry: null,
            result: 'kept',
            tsq: 'leave',
            tsqGroup: groupOf(record),
          },
          events: [event(AuditEventType.OPERATOR_RETRY, 4, 1, { operator: 'ops' })],
        });

        // Assess
        expect(withRetry).toMatchObject({ lastError: FAILURE, data: { keep: 'me' }, pendingRetry });
        expect(result).toEqual({ applied: true });
        const after = await mustGet(store, domain, record.commandId);
        expect(after).toMatchObject({ status: CommandStatus.PENDING, attempts: 0, token: 'token-2', result: 'kept', lease: 'lease-1' });
        expect(after).not.toHaveProperty('lastError');
        expect(after).not.toHaveProperty('data');
        expect(after).not.toHaveProperty('pendingRetry');
        expect(after).not.toHaveProperty('movedToTsqAt');
      });

      it("enters the TSQ listing with tsq 'enter' (parked at updatedAt) and leaves it with tsq 'leave'", async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain);
        await store.insert(record);
        await store.apply(receive(record));

        // Act
        await store.apply(park(record, 5));
        const parked = await store.listTsq({ domain });
        await store.apply(cancel(record, 6));
        const afterLeaving = await store.listTsq({ domain });

        // Assess
        expect(ids(parked.items)).toEqual([record.commandId]);
        expect(parked.items[0]).toMatchObject({ status: CommandStatus.IN_TSQ, movedToTsqAt: at(5), lastError: FAILURE });
        expect(afterLeaving.items).toEqual([]);
        const state = await mustGet(store, domain, record.commandId);
        expect(state.status).toBe(CommandStatus.CANCELLED);
        expect(state).not.toHaveProperty('movedToTsqAt');
      });

      it('refuses a change that would make the item exceed 400 KB with ItemTooLargeError and leaves it as it was', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain);
        await store.insert(record);
        await store.apply(receive(record));
        const before = await mustGet(store, domain, record.commandId);
        const tooLarge = park(record, 2);
        tooLarge.set.data = { blob: 'x'.repeat(410 * 1024) };

        // Act
        const error = await store.apply(tooLarge).catch((caught: unknown) => caught);

        // Assess
        expect(error).toBeInstanceOf(ItemTooLargeError);
        expect(await store.get(domain, record.commandId)).toEqual(before);
        expect(await store.auditTrail(record.commandId, domain)).toHaveLength(2);
      });

      it('stores a payload of 300 KB (the item stays under 400 KB)', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain);
        await store.insert(record);
        await store.apply(receive(record));
        const large = park(record, 2);
        large.set.data = { blob: 'x'.repeat(300 * 1024) };

        // Act
        const result = await store.apply(large);

        // Assess
        expect(result).toEqual({ applied: true });
        expect((await mustGet(store, domain, record.commandId)).data).toEqual({ blob: 'x'.repeat(300 * 1024) });
      });
    });

    describe('Method: get', () => {
      it('returns undefined for a command that does not exist', async () => {
        // Prepare
        const { store, domain } = await setup();

        // Act
        const state = await store.get(domain, randomUUID());

        // Assess
        expect(state).toBeUndefined();
      });

      it('returns a copy: changing it changes nothing stored', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain, { data: { amount: 1 } });
        await store.insert(record);
        const first = await mustGet(store, domain, record.commandId);

        // Act
        first.status = CommandStatus.COMPLETED;
        first.data!.amount = 2;

        // Assess
        expect(await store.get(domain, record.commandId)).toMatchObject({ status: CommandStatus.PENDING, data: { amount: 1 } });
      });
    });

    describe('Method: auditTrail', () => {
      it('returns the events oldest first in the order they were written, each with its attempt and details', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = pending(domain);
        await store.insert(record);
        await store.apply(receive(record));
        // Written later, stamped earlier (another host's clock): the order of the writes rules.
        await store.apply({ ...park(record, 0), events: [event(AuditEventType.FAILED, 0, 1, { errorCode: 'X' }), event(AuditEventType.MOVED_TO_TSQ, 0, 1)] });

        // Act
        const trail = await store.auditTrail(record.commandId, domain);

        // Assess
        expect(trail).toEqual([
          { commandId: record.commandId, domain, eventType: 'SENT', timestamp: at(0), attempt: 0, details: {} },
          { commandId: record.commandId, domain, eventType: 'RECEIVED', timestamp: at(1), attempt: 1, details: {} },
          { commandId: record.commandId, domain, eventType: 'FAILED', timestamp: at(0), attempt: 1, details: { errorCode: 'X' } },
          { commandId: record.commandId, domain, eventType: 'MOVED_TO_TSQ', timestamp: at(0), attempt: 1, details: {} },
        ]);
      });

      it('without a domain returns the trails of every domain using the id, ordered by their first event; with one, only its own', async () => {
        // Prepare
        const { store, domain } = await setup();
        const commandId = randomUUID();
        const early = `${domain}-z-early`;
        const late = `${domain}-a-late`;
        await store.insert(pending(late, { commandId, events: [event(AuditEventType.SENT, 20, 0)] }));
        await store.insert(pending(early, { commandId, events: [event(AuditEventType.SENT, 10, 0)] }));

        // Act
        const all = await store.auditTrail(commandId);
        const one = await store.auditTrail(commandId, late);

        // Assess
        expect(all.map((e) => [e.domain, e.timestamp])).toEqual([
          [early, at(10)],
          [late, at(20)],
        ]);
        expect(one.map((e) => e.domain)).toEqual([late]);
      });

      it('returns no events for a command that does not exist', async () => {
        // Prepare
        const { store, domain } = await setup();

        // Act
        const trail = await store.auditTrail(randomUUID(), domain);

        // Assess
        expect(trail).toEqual([]);
      });
    });

    describe('Method: query', () => {
      it("returns the domain's commands newest first by creation time, and no other domain's", async () => {
        // Prepare
        const { store, domain } = await setup();
        const newestFirst = await insertSeries(store, domain, 4);
        await store.insert(pending(`${domain}-other`, { createdAt: at(2) }));

        // Act
        const page = await store.query({ domain });

        // Assess
        expect(ids(page.items)).toEqual(newestFirst);
        expect(page.nextCursor).toBeUndefined();
      });

      it('filters by status, by command type, and by both', async () => {
        // Prepare
        const { store, domain } = await setup();
        const newestFirst = await insertSeries(store, domain, 6, (n) => ({ commandType: n % 2 === 0 ? 'Charge' : 'Refund' }));
        const [, , third, fourth] = newestFirst; // created at minutes 3 (Refund) and 2 (Charge)
        for (const commandId of [third!, fourth!]) {
          await store.apply(receive({ domain, commandId, token: `token-${commandId}` }));
        }

        // Act
        const inProgress = await store.query({ domain, status: CommandStatus.IN_PROGRESS });
        const refunds = await store.query({ domain, commandType: 'Refund' });
        const pendingCharges = await store.query({ domain, status: CommandStatus.PENDING, commandType: 'Charge' });

        // Assess
        expect(ids(inProgress.items)).toEqual([third, fourth]);
        expect(ids(refunds.items)).toEqual([newestFirst[0], newestFirst[2], newestFirst[4]]);
        expect(ids(pendingCharges.items)).toEqual([newestFirst[1], newestFirst[5]]);
      });

      it('applies from inclusively and to exclusively to the creation time', async () => {
        // Prepare
        const { store, domain } = await setup();
        const newestFirst = await insertSeries(store, domain, 5); // minutes 0..4

        // Act
        const page = await store.query({ domain, from: at(1), to: at(3) });

        // Assess
        expect(ids(page.items)).toEqual([newestFirst[2], newestFirst[3]]); // minutes 2 and 1
      });

      it('pages through every command once, newest first, each page at most the limit and full while more remain', async () => {
        // Prepare
        const { store, domain } = await setup();
        const newestFirst = await insertSeries(store, domain, 11);

        // Act
        const pages = await everyPage((cursor) => store.query({ domain, limit: 3, ...(cursor ? { cursor } : {}) }));

        // Assess
        expect(pages.flat().map((item) => item.commandId)).toEqual(newestFirst);
        expect(pages.slice(0, 3).map((page) => page.length)).toEqual([3, 3, 3]);
        expect(pages.every((page) => page.length <= 3)).toBe(true);
      });

      it('pages through a filtered query without skipping or repeating a match', async () => {
        // Prepare
        const { store, domain } = await setup();
        const newestFirst = await insertSeries(store, domain, 12, (n) => ({ commandType: n % 3 === 0 ? 'Refund' : 'Charge' }));
        const refunds = newestFirst.filter((_, i) => (11 - i) % 3 === 0);

        // Act
        const pages = await everyPage((cursor) =>
          store.query({ domain, commandType: 'Refund', status: CommandStatus.PENDING, limit: 2, ...(cursor ? { cursor } : {}) }),
        );

        // Assess
        expect(pages.flat().map((item) => item.commandId)).toEqual(refunds);
        expect(pages.every((page) => page.length <= 2)).toBe(true);
      });

      it('returns 25 commands when no limit is given', async () => {
        // Prepare
        const { store, domain } = await setup();
        const newestFirst = await insertSeries(store, domain, 27);

        // Act
        const page = await store.query({ domain });

        // Assess
        expect(ids(page.items)).toEqual(newestFirst.slice(0, 25));
        expect(page.nextCursor).toBeDefined();
      });

      it('reads the TSQ listing for status IN_TSQ, from and to applying to when commands were parked', async () => {
        // Prepare
        const { store, domain } = await setup();
        const early = pending(domain, { createdAt: at(0) });
        const late = pending(domain, { createdAt: at(1) });
        for (const record of [early, late]) {
          await store.insert(record);
          await store.apply(receive(record));
        }
        await store.apply(park(early, 30));
        await store.apply(park(late, 20));

        // Act
        const all = await store.query({ domain, status: CommandStatus.IN_TSQ });
        const parkedLater = await store.query({ domain, status: CommandStatus.IN_TSQ, from: at(25) });

        // Assess
        expect(ids(all.items)).toEqual([early.commandId, late.commandId]);
        expect(ids(parkedLater.items)).toEqual([early.commandId]);
      });

      it('finds the commands of one correlation, newest first, paging without skipping or repeating, with status, type and time', async () => {
        // Prepare: 30 commands, every third of correlation order-7 (one of them a Refund, one parked).
        const { store, domain } = await setup();
        const newestFirst = await insertSeries(store, domain, 30, (n) => ({
          correlationId: n % 3 === 0 ? 'order-7' : `other-${n}`,
          ...(n === 9 ? { commandType: 'Refund' } : {}),
        }));
        const correlated = newestFirst.filter((_, i) => (29 - i) % 3 === 0);
        const parked = newestFirst[29 - 3]!; // minute 3
        await store.apply(receive({ domain, commandId: parked, token: `token-${parked}` }));
        await store.apply(park({ domain, commandId: parked, token: `token-${parked}` }, 40));

        // Act
        const pages = await everyPage((cursor) => store.query({ domain, correlationId: 'order-7', limit: 3, ...(cursor ? { cursor } : {}) }));
        const refunds = await store.query({ domain, correlationId: 'order-7', commandType: 'Refund' });
        const pendingOnes = await everyPage((cursor) =>
          store.query({ domain, correlationId: 'order-7', status: CommandStatus.PENDING, ...(cursor ? { cursor } : {}) }),
        );
        const inTsq = await store.query({ domain, correlationId: 'order-7', status: CommandStatus.IN_TSQ });
        const window = await everyPage((cursor) => store.query({ domain, correlationId: 'order-7', from: at(6), to: at(15), ...(cursor ? { cursor } : {}) }));
        const none = await everyPage((cursor) => store.query({ domain, correlationId: 'order-nope', limit: 5, ...(cursor ? { cursor } : {}) }));

        // Assess
        expect(ids(pages.flat())).toEqual(correlated);
        expect(pages.every((page) => page.length <= 3)).toBe(true);
        expect(pages.flat().every((item) => item.correlationId === 'order-7')).toBe(true);
        expect(ids(refunds.items)).toEqual([newestFirst[29 - 9]]);
        expect(ids(pendingOnes.flat())).toEqual(correlated.filter((id) => id !== parked));
        expect(ids(inTsq.items)).toEqual([parked]);
        expect(ids(window.flat())).toEqual([newestFirst[29 - 12], newestFirst[29 - 9], newestFirst[29 - 6]]);
        expect(none.flat()).toEqual([]);
      });

      it('refuses a cursor issued for another correlation id, with a ValidationError on cursor', async () => {
        // Prepare
        const { store, domain } = await setup();
        await insertSeries(store, domain, 4, () => ({ correlationId: 'order-1' }));
        const { nextCursor } = await store.query({ domain, correlationId: 'order-1', limit: 1 });

        // Act
        const other = await store.query({ domain, correlationId: 'order-2', limit: 1, cursor: nextCursor! }).catch((caught: unknown) => caught);
        const unfiltered = await store.query({ domain, limit: 1, cursor: nextCursor! }).catch((caught: unknown) => caught);

        // Assess
        expect(nextCursor).toBeDefined();
        expect(other).toBeInstanceOf(ValidationError);
        expect((other as ValidationError).field).toBe('cursor');
        expect(unfiltered).toBeInstanceOf(ValidationError);
      });

      it('refuses a cursor issued for another query, and one it never issued, with a ValidationError', async () => {
        // Prepare
        const { store, domain } = await setup();
        await insertSeries(store, domain, 3);
        const { nextCursor } = await store.query({ domain, limit: 1 });

        // Act
        const otherQuery = await store.query({ domain, limit: 1, commandType: 'Refund', cursor: nextCursor! }).catch((caught: unknown) => caught);
        const garbled = await store.query({ domain, limit: 1, cursor: 'bm90LWEtY3Vyc29y' }).catch((caught: unknown) => caught);

        // Assess
        expect(nextCursor).toBeDefined();
        expect(otherQuery).toBeInstanceOf(ValidationError);
        expect((otherQuery as ValidationError).field).toBe('cursor');
        expect(garbled).toBeInstanceOf(ValidationError);
        expect((garbled as ValidationError).field).toBe('cursor');
      });
    });

    describe('Method: listTsq', () => {
      it('lists only parked commands, the most recently parked first, with their errors and payloads', async () => {
        // Prepare
        const { store, domain } = await setup();
        const records = [0, 1, 2, 3].map((n) => pending(domain, { createdAt: at(n) }));
        for (const record of records) {
          await store.insert(record);
          await store.apply(receive(record));
        }
        // Parked in another order than created; the last one never parked.
        await store.apply(park(records[0]!, 12));
        await store.apply(park(records[2]!, 10));
        await store.apply(park(records[1]!, 11));

        // Act
        const page = await store.listTsq({ domain });

        // Assess
        expect(ids(page.items)).toEqual([records[0]!.commandId, records[1]!.commandId, records[2]!.commandId]);
        expect(page.items[0]).toMatchObject({ status: CommandStatus.IN_TSQ, data: { keep: 'me' }, lastError: FAILURE, movedToTsqAt: at(12) });
      });

      it('filters by command type and by when commands were parked (from inclusive, to exclusive)', async () => {
        // Prepare
        const { store, domain } = await setup();
        const records = [0, 1, 2, 3].map((n) => pending(domain, { commandType: n === 3 ? 'Refund' : 'Charge' }));
        for (const [n, record] of records.entries()) {
          await store.insert(record);
          await store.apply(receive(record));
          await store.apply(park(record, 10 + n));
        }

        // Act
        const window = await store.listTsq({ domain, from: at(11), to: at(13) });
        const refunds = await store.listTsq({ domain, commandType: 'Refund' });

        // Assess
        expect(ids(window.items)).toEqual([records[2]!.commandId, records[1]!.commandId]);
        expect(ids(refunds.items)).toEqual([records[3]!.commandId]);
      });

      it('pages through the parked commands without skipping or repeating one', async () => {
        // Prepare
        const { store, domain } = await setup();
        const records = Array.from({ length: 7 }, () => pending(domain));
        for (const [n, record] of records.entries()) {
          await store.insert(record);
          await store.apply(receive(record));
          await store.apply(park(record, 10 + n));
        }

        // Act
        const pages = await everyPage((cursor) => store.listTsq({ domain, limit: 2, ...(cursor ? { cursor } : {}) }));

        // Assess
        expect(pages.flat().map((item) => item.commandId)).toEqual(records.map((record) => record.commandId).reverse());
        expect(pages.every((page) => page.length <= 2)).toBe(true);
      });

      it('filters by error code, by error type, by both, and with the command type (exact matches on lastError)', async () => {
        // Prepare
        const { store, domain } = await setup();
        const [refund, brokenTransient, broken] = await parkSeries(store, domain, [
          { error: { type: 'TIMEOUT', code: 'HANDLER_TIMEOUT', message: 'slow' } },
          { error: FAILURE },
          { error: { type: 'TRANSIENT', code: 'BROKEN', message: 'flaky' } },
          { error: FAILURE, commandType: 'Refund' },
        ]);

        // Act
        const byCode = await store.listTsq({ domain, errorCode: 'BROKEN' });
        const byType = await store.listTsq({ domain, errorType: 'PERMANENT' });
        const byBoth = await store.listTsq({ domain, errorCode: 'BROKEN', errorType: 'TRANSIENT' });
        const withCommandType = await store.listTsq({ domain, errorCode: 'BROKEN', errorType: 'PERMANENT', commandType: 'Charge' });
        const prefixOnly = await store.listTsq({ domain, errorCode: 'BROK' });
        const noneOfType = await store.listTsq({ domain, errorCode: 'HANDLER_TIMEOUT', errorType: 'PERMANENT' });

        // Assess
        expect(ids(byCode.items)).toEqual([refund, brokenTransient, broken]);
        expect(ids(byType.items)).toEqual([refund, broken]);
        expect(ids(byBoth.items)).toEqual([brokenTransient]);
        expect(ids(withCommandType.items)).toEqual([broken]);
        expect(byCode.items[0]).toMatchObject({ status: CommandStatus.IN_TSQ, lastError: FAILURE, data: { keep: 'me' } });
        expect(prefixOnly).toEqual({ items: [] });
        expect(noneOfType).toEqual({ items: [] });
      });

      it('applies the error filters within the time window the commands were parked in (from inclusive, to exclusive)', async () => {
        // Prepare: parked at minutes 10..15, PERMANENT at even minutes.
        const { store, domain } = await setup();
        const newestFirst = await parkSeries(
          store,
          domain,
          Array.from({ length: 6 }, (_, n) => ({ error: n % 2 === 0 ? FAILURE : { type: 'TRANSIENT' as const, code: 'BUSY', message: 'later' } })),
        );
        const [m15, , m13, m12, m11] = newestFirst;

        // Act
        const permanent = await store.listTsq({ domain, errorType: 'PERMANENT', from: at(11), to: at(14) });
        const busy = await store.listTsq({ domain, errorCode: 'BUSY', from: at(11), to: at(15) });
        const busyFrom = await store.listTsq({ domain, errorCode: 'BUSY', from: at(13) });

        // Assess
        expect(ids(permanent.items)).toEqual([m12]);
        expect(ids(busy.items)).toEqual([m13, m11]);
        expect(ids(busyFrom.items)).toEqual([m15, m13]);
      });

      it('pages through an error-filtered listing without skipping or repeating a match, each page at most the limit', async () => {
        // Prepare: 15 parked, one in three with code RARE (TRANSIENT), one of those of type TIMEOUT.
        const { store, domain } = await setup();
        const newestFirst = await parkSeries(
          store,
          domain,
          Array.from({ length: 15 }, (_, n) => ({
            error: n % 3 !== 0 ? FAILURE : { type: n === 6 ? ('TIMEOUT' as const) : ('TRANSIENT' as const), code: 'RARE', message: `rare ${n}` },
          })),
        );
        const rare = newestFirst.filter((_, i) => (14 - i) % 3 === 0);
        const rareTransient = newestFirst.filter((_, i) => (14 - i) % 3 === 0 && 14 - i !== 6);

        // Act
        const byCode = await everyPage((cursor) => store.listTsq({ domain, errorCode: 'RARE', limit: 2, ...(cursor ? { cursor } : {}) }));
        const byBoth = await everyPage((cursor) =>
          store.listTsq({ domain, errorCode: 'RARE', errorType: 'TRANSIENT', from: at(10), limit: 3, ...(cursor ? { cursor } : {}) }),
        );

        // Assess
        expect(byCode.flat().map((item) => item.commandId)).toEqual(rare);
        expect(byCode.every((page) => page.length <= 2)).toBe(true);
        expect(byBoth.flat().map((item) => item.commandId)).toEqual(rareTransient);
        expect(byBoth.every((page) => page.length <= 3)).toBe(true);
      });

      it('refuses a cursor with other error filters than it was issued for, with a ValidationError on cursor', async () => {
        // Prepare
        const { store, domain } = await setup();
        await parkSeries(store, domain, [{ error: FAILURE }, { error: FAILURE }, { error: FAILURE }]);
        const byCode = await store.listTsq({ domain, errorCode: 'BROKEN', limit: 1 });
        const unfiltered = await store.listTsq({ domain, limit: 1 });

        // Act
        const otherCode = await store.listTsq({ domain, errorCode: 'OTHER', limit: 1, cursor: byCode.nextCursor! }).catch((caught: unknown) => caught);
        const codeDropped = await store.listTsq({ domain, limit: 1, cursor: byCode.nextCursor! }).catch((caught: unknown) => caught);
        const typeAdded = await store.listTsq({ domain, errorType: 'PERMANENT', limit: 1, cursor: unfiltered.nextCursor! }).catch((caught: unknown) => caught);
        const same = await store.listTsq({ domain, errorCode: 'BROKEN', limit: 1, cursor: byCode.nextCursor! });

        // Assess
        expect(byCode.nextCursor).toBeDefined();
        expect(unfiltered.nextCursor).toBeDefined();
        for (const refused of [otherCode, codeDropped, typeAdded]) {
          expect(refused).toBeInstanceOf(ValidationError);
          expect((refused as ValidationError).field).toBe('cursor');
        }
        expect(same.items).toHaveLength(1);
      });
    });

    describe('Method: tsqGroups', () => {
      const OTHER: CommandError = { type: 'TRANSIENT', code: 'GATEWAY_DOWN', message: 'down' };
      const counts = async (store: CommandStore, domain: string) =>
        (await store.tsqGroups(domain)).map((group) => [group.commandType, group.errorType, group.errorCode, group.count]);

      /** Inserts, receives and parks one command with `error`; returns its record. */
      async function parkOne(store: CommandStore, domain: string, error: CommandError = FAILURE, commandType = 'Charge', commandId = randomUUID()) {
        const record = pending(domain, { commandId, commandType });
        await store.insert(record);
        await store.apply(receive(record));
        expect(await store.apply(park(record, 10, 'lease-1', error))).toEqual({ applied: true });
        return record;
      }

      it('finds the longest-parked command of a domain across every group and shard, and none when nothing is parked', async () => {
        const { store, domain } = await setup();
        expect(await store.oldestParked(domain)).toBeUndefined();
        const parkAt = async (minute: number, error: CommandError = FAILURE) => {
          const record = pending(domain);
          await store.insert(record);
          await store.apply(receive(record));
          expect(await store.apply(park(record, minute, 'lease-1', error))).toEqual({ applied: true });
          return record;
        };
        await parkAt(30);
        const oldest = await parkAt(12, OTHER);
        await parkAt(20);
        await parkAt(5, FAILURE).then((record) => store.apply(cancel(record, 40)));
        expect(await store.oldestParked(domain)).toEqual({ commandId: oldest.commandId, movedToTsqAt: at(12) });
        expect(await store.oldestParked(`${domain}x`)).toBeUndefined();
      });

      it('has no groups for a domain with nothing parked', async () => {
        const { store, domain } = await setup();
        await store.insert(pending(domain));
        expect(await store.tsqGroups(domain)).toEqual([]);
      });

      it('counts parked commands exactly per (command type, error type, error code), largest first, per domain', async () => {
        // Prepare
        const { store, domain } = await setup();
        for (let n = 0; n < 3; n++) await parkOne(store, domain);
        for (let n = 0; n < 2; n++) await parkOne(store, domain, OTHER);
        await parkOne(store, domain, FAILURE, 'Refund');
        const elsewhere = `${domain}x`;
        await parkOne(store, elsewhere);

        // Act
        const groups = await store.tsqGroups(domain);

        // Assess
        expect(groups).toEqual([
          { domain, commandType: 'Charge', errorType: 'PERMANENT', errorCode: 'BROKEN', count: 3 },
          { domain, commandType: 'Charge', errorType: 'TRANSIENT', errorCode: 'GATEWAY_DOWN', count: 2 },
          { domain, commandType: 'Refund', errorType: 'PERMANENT', errorCode: 'BROKEN', count: 1 },
        ]);
        expect(await counts(store, elsewhere)).toEqual([['Charge', 'PERMANENT', 'BROKEN', 1]]);
      });

      it("keeps '#' and '%' in command types and codes apart", async () => {
        const { store, domain } = await setup();
        await parkOne(store, domain, { type: 'PERMANENT', code: 'A#B', message: 'x' }, 'T');
        await parkOne(store, domain, { type: 'PERMANENT', code: 'B', message: 'x' }, 'T#A');
        await parkOne(store, domain, { type: 'PERMANENT', code: '%23', message: 'x' }, 'T');
        expect((await counts(store, domain)).map((group) => JSON.stringify(group)).sort()).toEqual(
          [
            ['T', 'PERMANENT', '%23', 1],
            ['T', 'PERMANENT', 'A#B', 1],
            ['T#A', 'PERMANENT', 'B', 1],
          ]
            .map((group) => JSON.stringify(group))
            .sort(),
        );
      });

      it('drops the count when a command leaves by retry, cancel or complete; an emptied group disappears', async () => {
        // Prepare
        const { store, domain } = await setup();
        const [retried, cancelled, completed, stays] = [
          await parkOne(store, domain),
          await parkOne(store, domain),
          await parkOne(store, domain),
          await parkOne(store, domain),
        ];
        const other = await parkOne(store, domain, OTHER);
        const leave = (record: typeof retried, set: Partial<Transition['set']>, error: CommandError = FAILURE): Transition => ({
          domain,
          commandId: record.commandId,
          expect: { status: CommandStatus.IN_TSQ, token: record.token, attempts: 1 },
          set: { status: CommandStatus.CANCELLED, updatedAt: at(20), tsq: 'leave', tsqGroup: groupOf(record, error), pendingRetry: null, ...set },
          events: [],
        });

        // Act
        await store.apply(leave(retried, { status: CommandStatus.PENDING, attempts: 0, token: 'token-2' }));
        await store.apply(cancel(cancelled, 20));
        await store.apply(leave(completed, { status: CommandStatus.COMPLETED, result: { manual: true } }));
        await store.apply(cancel(other, 20, OTHER));

        // Assess
        expect(await counts(store, domain)).toEqual([['Charge', 'PERMANENT', 'BROKEN', 1]]);
        expect(await mustGet(store, domain, stays.commandId)).toMatchObject({ status: CommandStatus.IN_TSQ });
        // Parked again after the retry: counted again.
        await store.apply({ ...receive({ ...retried, token: 'token-2' }), expect: { status: CommandStatus.PENDING, token: 'token-2', attempts: 0 } });
        await store.apply(park({ ...retried, token: 'token-2' }, 30));
        expect(await counts(store, domain)).toEqual([['Charge', 'PERMANENT', 'BROKEN', 2]]);
      });

      it('moves no count when the write is refused: a stale park, a leave of a group the command is not in', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = await parkOne(store, domain);

        // Act
        const again = await store.apply(park(record, 11));
        const wrongGroup = await store.apply(cancel(record, 20, OTHER));
        const wrongType = await store.apply(cancel({ ...record, commandType: 'Refund' }, 20));

        // Assess
        expect([again.applied, wrongGroup.applied, wrongType.applied]).toEqual([false, false, false]);
        expect(wrongGroup).toMatchObject({ current: { status: CommandStatus.IN_TSQ, lastError: FAILURE } });
        expect(await counts(store, domain)).toEqual([['Charge', 'PERMANENT', 'BROKEN', 1]]);
        expect(await store.apply(cancel(record, 21))).toEqual({ applied: true });
        expect(await store.tsqGroups(domain)).toEqual([]);
      });

      it('counts records created parked (malformed, dead-lettered) once, and they leave as any other', async () => {
        // Prepare
        const { store, domain } = await setup();
        const malformed = pending(domain, {
          commandType: '(malformed)',
          status: CommandStatus.IN_TSQ,
          attempts: 1,
          lastError: { type: 'PERMANENT', code: 'MALFORMED_MESSAGE', message: 'x' },
        });

        // Act
        const first = await store.insert(malformed);
        const second = await store.insert(malformed);

        // Assess
        expect(first).toEqual({ created: true });
        expect(second).toMatchObject({ created: false, existing: { status: CommandStatus.IN_TSQ } });
        expect(await counts(store, domain)).toEqual([['(malformed)', 'PERMANENT', 'MALFORMED_MESSAGE', 1]]);
        await store.apply(cancel(malformed, 20, { type: 'PERMANENT', code: 'MALFORMED_MESSAGE', message: 'x' }));
        expect(await store.tsqGroups(domain)).toEqual([]);
      });

      it('counts concurrent parks into one group exactly (many into one shard)', async () => {
        // Prepare: 24 commands in one shard and 16 spread, all parked at once into one group.
        const { store, domain } = await setup();
        const sameShard: string[] = [];
        while (sameShard.length < 24) {
          const id = randomUUID();
          if (shardOf(id) === 3) sameShard.push(id);
        }
        const records = [...sameShard, ...Array.from({ length: 16 }, () => randomUUID())].map((commandId) => pending(domain, { commandId }));
        for (const record of records) {
          await store.insert(record);
          await store.apply(receive(record));
        }
        // A transaction on a counter another transaction holds is refused as unavailable (DynamoDB:
        // TransactionConflict): nothing landed, so the writer tries again, as applyWithRetry does.
        const persist = async (transition: Transition): Promise<ApplyResult> => {
          for (let tries = 0; ; tries++) {
            try {
              return await store.apply(transition);
            } catch (error) {
              if (!(error instanceof StoreUnavailableError) || tries > 20) throw error;
              await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
            }
          }
        };

        // Act
        const results = await Promise.all(records.map((record) => persist(park(record, 10))));

        // Assess
        expect(results.every((result) => result.applied)).toBe(true);
        expect(await counts(store, domain)).toEqual([['Charge', 'PERMANENT', 'BROKEN', 40]]);
      });

      it('keeps counters out of every query, listing and audit trail', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = await parkOne(store, domain);
        await parkOne(store, domain, OTHER);

        // Act
        const listed = await store.listTsq({ domain });
        const queried = await store.query({ domain });
        const trail = await store.auditTrail(record.commandId);

        // Assess
        expect(listed.items).toHaveLength(2);
        expect(queried.items).toHaveLength(2);
        expect(listed.items.every((item) => item.status === CommandStatus.IN_TSQ)).toBe(true);
        expect(trail.map((event) => event.eventType)).toEqual([AuditEventType.SENT, AuditEventType.RECEIVED, AuditEventType.MOVED_TO_TSQ]);
        expect(trail.every((event) => event.commandId === record.commandId && event.domain === domain)).toBe(true);
      });
    });

    describe('Method: apply with a payload edit, and history', () => {
      /** A command parked with `{ keep: 'me' }` as its payload. */
      async function parked(store: CommandStore, domain: string): Promise<NewCommandRecord> {
        const record = pending(domain);
        await store.insert(record);
        await store.apply(receive(record));
        await store.apply(park(record, 10));
        return record;
      }

      it('writes the transition and its edit together: the new payload and the count on the command, before and after in its history', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = await parked(store, domain);
        const trailBefore = await store.auditTrail(record.commandId, domain);

        // Act
        const result = await store.apply(edit(record, 0, { keep: 'me' }, { fixed: true }));

        // Assess
        expect(result).toEqual({ applied: true });
        expect(await mustGet(store, domain, record.commandId)).toMatchObject({ status: CommandStatus.IN_TSQ, data: { fixed: true }, edits: 1 });
        expect(await store.history({ domain, commandId: record.commandId })).toEqual({
          items: [{ domain, commandId: record.commandId, editNumber: 1, editedAt: at(20), operator: 'ops', before: { keep: 'me' }, after: { fixed: true } }],
        });
        expect(await store.auditTrail(record.commandId)).toEqual(trailBefore);
      });

      it('never lists an edit as a command: queries, the TSQ listing and audit trails see the command once', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = await parked(store, domain);

        // Act
        await store.apply(edit(record, 0, { keep: 'me' }, { fixed: 1 }));
        await store.apply(edit(record, 1, { fixed: 1 }, { fixed: 2 }));

        // Assess
        expect(ids((await store.query({ domain })).items)).toEqual([record.commandId]);
        expect(ids((await store.query({ domain, status: CommandStatus.IN_TSQ })).items)).toEqual([record.commandId]);
        expect(ids((await store.listTsq({ domain })).items)).toEqual([record.commandId]);
        expect(new Set((await store.auditTrail(record.commandId)).map((event) => `${event.domain}/${event.commandId}`))).toEqual(
          new Set([`${domain}/${record.commandId}`]),
        );
      });

      it('refuses a second edit with the same number, and a transition whose condition fails, writing neither state nor history', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = await parked(store, domain);
        await store.apply(edit(record, 0, { keep: 'me' }, { first: true }));

        // Act
        const stale = await store.apply(edit(record, 0, { keep: 'me' }, { second: true }, 21));
        const wrongToken = await store.apply(edit({ ...record, token: 'another' }, 1, { first: true }, { third: true }, 22));

        // Assess
        expect(stale).toMatchObject({ applied: false, current: { data: { first: true }, edits: 1 } });
        expect(wrongToken).toMatchObject({ applied: false, current: { data: { first: true }, edits: 1 } });
        expect((await store.history({ domain, commandId: record.commandId })).items.map((item) => item.after)).toEqual([{ first: true }]);
      });

      it('pages through the history oldest first without skipping or repeating, even past 1 MB of payloads', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = await parked(store, domain);
        const payload = (n: number) => ({ n, filler: 'x'.repeat(100 * 1024) });
        let before: JsonObject = { keep: 'me' };
        for (let n = 0; n < 7; n++) {
          await store.apply(edit(record, n, before, payload(n + 1), 20 + n));
          before = payload(n + 1);
        }

        // Act
        const all = await store.history({ domain, commandId: record.commandId });
        const first = await store.history({ domain, commandId: record.commandId, limit: 4 });
        const rest = await store.history({ domain, commandId: record.commandId, limit: 4, cursor: first.nextCursor! });

        // Assess
        expect(all.items.map((item) => item.editNumber)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        expect(all).not.toHaveProperty('nextCursor');
        expect(first.items.map((item) => item.editNumber)).toEqual([1, 2, 3, 4]);
        expect(rest.items.map((item) => item.editNumber)).toEqual([5, 6, 7]);
        expect(rest).not.toHaveProperty('nextCursor');
        expect(rest.items[2]?.after).toEqual(payload(7));
      });

      it('keeps the history of each command apart, and has none for a command never edited or not stored', async () => {
        // Prepare
        const { store, domain } = await setup();
        const edited = await parked(store, domain);
        const other = await parked(store, domain);
        await store.apply(edit(edited, 0, { keep: 'me' }, { fixed: true }));

        // Act
        const none = await store.history({ domain, commandId: other.commandId });
        const missing = await store.history({ domain, commandId: randomUUID() });
        const otherDomain = await store.history({ domain: `${domain}x`, commandId: edited.commandId });

        // Assess
        expect([none.items, missing.items, otherDomain.items]).toEqual([[], [], []]);
        await expect(store.history({ domain, commandId: edited.commandId, cursor: 'garbage!' })).rejects.toThrow(ValidationError);
      });

      it('refuses an edit whose history item would exceed 400 KB with ItemTooLargeError, writing nothing', async () => {
        // Prepare
        const { store, domain } = await setup();
        const record = await parked(store, domain);
        const big = (tag: string) => ({ tag, filler: 'y'.repeat(210 * 1024) });

        // Act
        const error = await store.apply(edit(record, 0, big('before'), big('after'))).catch((caught: unknown) => caught);

        // Assess
        expect(error).toBeInstanceOf(ItemTooLargeError);
        expect(await mustGet(store, domain, record.commandId)).toMatchObject({ data: { keep: 'me' } });
        expect(await mustGet(store, domain, record.commandId)).not.toHaveProperty('edits');
        expect((await store.history({ domain, commandId: record.commandId })).items).toEqual([]);
      });
    });

    describe('Methods: shardSettings and setShardCount (the store under test switches writers at once)', () => {
      it('has 8 shards for writers and readers in a domain never changed', async () => {
        const { store, domain } = await setup();
        expect(await store.shardSettings(domain)).toEqual({ domain, writeShards: 8, readShards: 8 });
      });

      it('raises both counts, records who asked, and lowers only the write count', async () => {
        // Prepare
        const { store, domain } = await setup();

        // Act
        const raised = await store.setShardCount({ domain, shards: 32, operator: 'ops' });
        const lowered = await store.setShardCount({ domain, shards: 4, operator: 'ops2' });

        // Assess
        expect(raised).toMatchObject({ domain, writeShards: 32, readShards: 32, updatedBy: 'ops' });
        expect(lowered).toMatchObject({ domain, writeShards: 4, readShards: 32, updatedBy: 'ops2' });
        expect(await store.shardSettings(domain)).toMatchObject({ writeShards: 4, readShards: 32 });
        expect(await store.shardSettings(`${domain}x`)).toEqual({ domain: `${domain}x`, writeShards: 8, readShards: 8 });
      });

      it('lists commands written at 8 shards and then at 32 once each, newest first, across a cursor that spans the change', async () => {
        // Prepare: 20 commands at 8 shards (even minutes), a first page, then 32 shards and 20 more
        // (odd minutes, older and newer than the page's end), some of them in shards 8 to 31.
        const { store, domain } = await setup();
        const before = Array.from({ length: 20 }, (_, n) => pending(domain, { createdAt: at(2 * n), updatedAt: at(2 * n) }));
        for (const record of before) await store.insert(record);
        const first = await store.query({ domain, limit: 5 });
        await store.setShardCount({ domain, shards: 32, operator: 'ops' });
        const after = Array.from({ length: 20 }, (_, n) => pending(domain, { createdAt: at(2 * n + 1), updatedAt: at(2 * n + 1) }));
        for (const record of after) await store.insert(record);
        expect(after.some((record) => shardOf(record.commandId, 32) >= 8)).toBe(true);
        const newestFirst = [...before, ...after].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1)).map((record) => record.commandId);

        // Act
        const rest = await everyPage((cursor) => store.query({ domain, limit: 4, cursor: cursor ?? first.nextCursor! }));
        const fresh = await everyPage((cursor) => store.query({ domain, limit: 7, ...(cursor ? { cursor } : {}) }));

        // Assess: the first page is the 5 newest of then (minutes 38 … 30); the rest continues below
        // it, both shard counts merged; entries written since above it are for a new listing.
        expect(ids(first.items)).toEqual(
          before
            .slice(15)
            .reverse()
            .map((record) => record.commandId),
        );
        const boundary = before[15]!.createdAt;
        const below = newestFirst.filter((id) => [...before, ...after].find((record) => record.commandId === id)!.createdAt < boundary);
        expect(ids(rest.flat())).toEqual(below);
        expect(ids(fresh.flat())).toEqual(newestFirst);
      });

      it('lists parked commands once and keeps TSQ group counts exact when commands park and leave across a change', async () => {
        // Prepare: 6 parked at 8 shards; then 32 shards: 6 more parked, and 4 of the first 6 cancelled.
        const { store, domain } = await setup();
        const early = await parkSeries(
          store,
          domain,
          Array.from({ length: 6 }, () => ({ error: FAILURE })),
        );
        await store.setShardCount({ domain, shards: 32, operator: 'ops' });
        const late = Array.from({ length: 6 }, () => pending(domain));
        for (const [n, record] of late.entries()) {
          await store.insert(record);
          await store.apply(receive(record));
          await store.apply(park(record, 30 + n));
        }
        for (const commandId of early.slice(0, 4)) await store.apply(cancel({ domain, commandId, token: `token-${commandId}` }, 40));

        // Act
        const groups = await store.tsqGroups(domain);
        const listed = await everyPage((cursor) => store.listTsq({ domain, limit: 3, ...(cursor ? { cursor } : {}) }));

        // Assess
        expect(groups.map((group) => group.count)).toEqual([8]);
        expect(ids(listed.flat())).toEqual([...late.map((record) => record.commandId).reverse(), ...early.slice(4)]);
      });
    });
  });
}
