import { afterEach, describe, expect, it, vi } from 'vitest';
import { CommandStatus } from '../../../src/types.ts';
import { StoreUnavailableError, type CommandStore } from '../../../src/ports/CommandStore.ts';
import type { NewCommandRecord } from '../../../src/domain/lifecycle.ts';
import { FaultyCommandStore, InMemoryCommandStore, InMemoryTransport } from '../../../src/testing/index.ts';

afterEach(() => {
  vi.useRealTimers();
});

const record = (commandId: string): NewCommandRecord => ({
  domain: 'payments',
  commandId,
  commandType: 'Charge',
  status: CommandStatus.PENDING,
  attempts: 0,
  maxAttempts: 3,
  token: 't',
  correlationId: 'c',
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:00:00.000Z',
  events: [],
});

describe('Class: FaultInjector (through InMemoryCommandStore)', () => {
  describe('Method: failNext', () => {
    it('fails the next call of the method with StoreUnavailableError by default, without reaching the store', async () => {
      // Prepare
      const store = new InMemoryCommandStore();
      store.failNext('insert');

      // Act
      const error = await store.insert(record('a')).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(await store.get('payments', 'a')).toBeUndefined();
      expect(await store.insert(record('a'))).toEqual({ created: true });
    });

    it('fails only the calls its `when` matches, `times` times', async () => {
      // Prepare
      const store = new InMemoryCommandStore();
      store.failNext('insert', new Error('no b'), { when: (candidate) => candidate.commandId === 'b', times: 2 });

      // Act
      const results = await Promise.all(
        ['a', 'b', 'b', 'b'].map((id) =>
          store.insert(record(id)).then(
            (result) => result.created,
            (error: Error) => error.message,
          ),
        ),
      );

      // Assess
      expect(results).toEqual([true, 'no b', 'no b', true]);
    });
  });

  describe('Method: landThenFail', () => {
    it('lets the write land, then throws as a timed-out request would', async () => {
      // Prepare
      const store = new InMemoryCommandStore();
      store.landThenFail('insert');

      // Act
      const error = await store.insert(record('a')).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(await store.get('payments', 'a')).toMatchObject({ commandId: 'a' });
    });

    it('applies faults in the order they were armed: a landed write, then an outage', async () => {
      // Prepare
      const store = new InMemoryCommandStore();
      store.landThenFail('insert').failNext('insert', undefined, { times: Infinity });

      // Act
      const first = await store.insert(record('a')).catch((caught: unknown) => caught);
      const second = await store.insert(record('b')).catch((caught: unknown) => caught);
      store.clearFaults();

      // Assess
      expect([first, second].map((error) => (error as Error).name)).toEqual(['StoreUnavailableError', 'StoreUnavailableError']);
      expect(store.all().map((state) => state.commandId)).toEqual(['a']);
    });
  });

  describe('Property: beforeCall', () => {
    it('can hold a call until the test lets it go, and sees every call with its arguments', async () => {
      // Prepare
      const store = new InMemoryCommandStore();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      store.beforeCall = (method) => (method === 'insert' ? held : undefined);

      // Act
      let done = false;
      const inserting = store.insert(record('a')).then(() => (done = true));
      await store.get('payments', 'a');
      const doneWhileHeld = done;
      release();
      await inserting;

      // Assess
      expect(doneWhileHeld).toBe(false);
      expect(store.calls.map((call) => call.method)).toEqual(['insert', 'get']);
      expect(store.callsOf('get')).toEqual([['payments', 'a']]);
    });
  });
});

describe('Class: FaultyCommandStore', () => {
  it('puts the same hooks in front of any store, passing every other call through', async () => {
    // Prepare
    const inner: CommandStore = new InMemoryCommandStore();
    const store = new FaultyCommandStore(inner).failNext('apply', new Error('simulated crash'));
    await store.insert(record('a'));

    // Act
    const error = await store
      .apply({
        domain: 'payments',
        commandId: 'a',
        expect: { status: CommandStatus.PENDING, token: 't' },
        set: { status: CommandStatus.CANCELLED, updatedAt: 'x' },
        events: [],
      })
      .catch((caught: unknown) => caught);

    // Assess
    expect((error as Error).message).toBe('simulated crash');
    expect(await inner.get('payments', 'a')).toMatchObject({ status: CommandStatus.PENDING });
  });
});

describe('Class: InMemoryTransport (beyond the contract)', () => {
  it('follows fake timers: a hidden message comes back when the clock passes its visibility timeout', async () => {
    // Prepare
    vi.useFakeTimers({ now: new Date('2026-03-01T10:00:00.000Z') });
    const transport = new InMemoryTransport({ domains: ['payments'] });
    await transport.sendCommand('payments', 'body');
    await transport.receive('payments', { maxMessages: 1, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30 });

    // Act
    const polling = transport.receive('payments', { maxMessages: 1, waitTimeSeconds: 20, visibilityTimeoutSeconds: 30 });
    await vi.advanceTimersByTimeAsync(20_000);
    const empty = await polling;
    const again = transport.receive('payments', { maxMessages: 1, waitTimeSeconds: 20, visibilityTimeoutSeconds: 30 });
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess
    expect(empty).toEqual([]);
    expect(await again).toMatchObject([{ body: 'body', receiveCount: 2 }]);
  });

  it('records its delete requests as SqsTransport would send them: ten at most, the rest after the batch window', async () => {
    // Prepare
    vi.useFakeTimers();
    const transport = new InMemoryTransport({ domains: ['payments'] });
    for (let n = 0; n < 12; n++) await transport.sendCommand('payments', `m${n}`);
    const received = [
      ...(await transport.receive('payments', { maxMessages: 10, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30 })),
      ...(await transport.receive('payments', { maxMessages: 10, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30 })),
    ];

    // Act
    const acks = received.map((message) => transport.ack('payments', message.receiptHandle));
    await vi.advanceTimersByTimeAsync(0);
    const beforeWindow = transport.deleteRequests.map((request) => request.receiptHandles.length);
    await vi.advanceTimersByTimeAsync(50);
    await Promise.all(acks);

    // Assess
    expect(beforeWindow).toEqual([10]);
    expect(transport.deleteRequests.map((request) => request.receiptHandles.length)).toEqual([10, 2]);
    expect(transport.messages(transport.names.commandsQueue('payments'))).toEqual([]);
  });

  it('dead-letters after the maxReceiveCount it is given', async () => {
    // Prepare
    const transport = new InMemoryTransport({ domains: ['payments'], maxReceiveCount: 1 });
    await transport.sendCommand('payments', 'body');
    const options = { maxMessages: 1, waitTimeSeconds: 0, visibilityTimeoutSeconds: 0 };

    // Act
    const first = await transport.receive('payments', options);
    const second = await transport.receive('payments', options);

    // Assess
    expect(first).toHaveLength(1);
    expect(second).toEqual([]);
    expect(transport.messages(transport.names.tsqQueue('payments'))).toMatchObject([{ body: 'body', visible: true }]);
  });
});
