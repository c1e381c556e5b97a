/**
 * Fault injection shared by the in-memory twins and by the wrappers that put the same hooks in front
 * of any adapter (the DynamoDB store, the SQS transport), so a test can make one call fail — before
 * it reaches the service, or after it landed — without patching objects.
 */
import { StoreUnavailableError, type CommandStore } from '../ports/CommandStore.ts';
import type { CommandTransport } from '../ports/CommandTransport.ts';

/** The names of a port's methods. */
export type PortMethod<P> = { [K in keyof P]-?: P[K] extends (...args: never[]) => unknown ? K : never }[keyof P] & string;

type ArgsOf<P, M extends PortMethod<P>> = P[M] extends (...args: infer A) => unknown ? A : never;

export interface FaultOptions<A extends unknown[]> {
  /** Only calls whose arguments match count (default: every call of the method). */
  when?: (...args: A) => boolean;
  /** How many matching calls fail; Infinity for every one until clearFaults(). Default 1. */
  times?: number;
}

/** A call as the port received it. */
export interface RecordedCall<P> {
  method: PortMethod<P>;
  args: unknown[];
}

/**
 * Runs before every call (after it is recorded in `calls`): throw to fail the call before it reaches
 * the service, or return a promise to hold the call (a slow network, a stall) until it settles.
 */
export type BeforeCall<P> = (method: PortMethod<P>, args: unknown[]) => void | Promise<void>;

interface Fault {
  method: string;
  /** before: the call never reaches the service; after: it lands, then its caller gets the error. */
  mode: 'before' | 'after';
  error: unknown;
  when: ((...args: never[]) => boolean) | undefined;
  remaining: number;
}

/** The hooks every twin and every fault-injecting wrapper offers. */
export abstract class FaultInjector<P> {
  /** Every call, in order, with its arguments (as passed: do not mutate them). */
  readonly calls: RecordedCall<P>[] = [];
  beforeCall: BeforeCall<P> | undefined;
  #faults: Fault[] = [];

  /** The error a fault throws when the test names none. */
  protected abstract defaultError(method: PortMethod<P>): unknown;

  /**
   * The next matching call (or `times` of them) throws `error` without reaching the service.
   *
   * @example
   * store.failNext('apply', new StoreUnavailableError('timed out'), { when: (t) => t.set.status === 'COMPLETED' });
   */
  failNext<M extends PortMethod<P>>(method: M, error?: unknown, options: FaultOptions<ArgsOf<P, M>> = {}): this {
    this.#faults.push({
      method,
      mode: 'before',
      error: error ?? this.defaultError(method),
      when: options.when as Fault['when'],
      remaining: options.times ?? 1,
    });
    return this;
  }

  /**
   * The next matching call (or `times` of them) lands — the write happens, the message is sent —
   * and then throws (default: the port's "did not answer" error): a request that timed out after
   * the service had done it. For a store this is StoreUnavailableError, which the worker answers
   * with its lease/retake logic.
   *
   * @example
   * store.landThenFail('apply', { when: (t) => t.set.status === 'IN_PROGRESS' });
   */
  landThenFail<M extends PortMethod<P>>(method: M, options: FaultOptions<ArgsOf<P, M>> & { error?: unknown } = {}): this {
    this.#faults.push({
      method,
      mode: 'after',
      error: options.error ?? this.defaultError(method),
      when: options.when as Fault['when'],
      remaining: options.times ?? 1,
    });
    return this;
  }

  /** Forgets every armed fault and the beforeCall hook (the call log stays). */
  clearFaults(): this {
    this.#faults = [];
    this.beforeCall = undefined;
    return this;
  }

  /** Calls of one method, as argument lists. */
  callsOf<M extends PortMethod<P>>(method: M): ArgsOf<P, M>[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args as ArgsOf<P, M>);
  }

  /**
   * Runs one port call under the armed faults. A call consumes the first armed fault that matches
   * it, so faults happen in the order they were armed: `landThenFail('apply')` then
   * `failNext('apply', error, { times: Infinity })` is a write that lands unanswered, then an outage.
   */
  protected async faulted<T>(method: PortMethod<P>, args: unknown[], call: () => T | Promise<T>): Promise<T> {
    this.calls.push({ method, args });
    await this.beforeCall?.(method, args);
    const fault = this.#take(method, args);
    if (fault?.mode === 'before') throw fault.error;
    const result = await call();
    if (fault?.mode === 'after') throw fault.error;
    return result;
  }

  #take(method: string, args: unknown[]): Fault | undefined {
    const fault = this.#faults.find((candidate) => candidate.method === method && (candidate.when?.(...(args as never[])) ?? true));
    if (!fault) return undefined;
    fault.remaining--;
    if (fault.remaining <= 0) this.#faults = this.#faults.filter((candidate) => candidate !== fault);
    return fault;
  }
}

const storeUnavailable = (method: string) => new StoreUnavailableError(`injected fault: the store did not answer ${method}`);

/**
 * Any CommandStore (the DynamoDB adapter against DynamoDB Local, say) behind the twins' fault hooks.
 *
 * @example
 * const store = new FaultyCommandStore(new DynamoCommandStore(client, table));
 * store.failNext('insert', new Error('simulated outage'));
 */
export class FaultyCommandStore extends FaultInjector<CommandStore> implements CommandStore {
  readonly inner: CommandStore;
  constructor(inner: CommandStore) {
    super();
    this.inner = inner;
  }
  protected defaultError(method: string): unknown {
    return storeUnavailable(method);
  }
  insert(...args: Parameters<CommandStore['insert']>) {
    return this.faulted('insert', args, () => this.inner.insert(...args));
  }
  apply(...args: Parameters<CommandStore['apply']>) {
    return this.faulted('apply', args, () => this.inner.apply(...args));
  }
  get(...args: Parameters<CommandStore['get']>) {
    return this.faulted('get', args, () => this.inner.get(...args));
  }
  auditTrail(...args: Parameters<CommandStore['auditTrail']>) {
    return this.faulted('auditTrail', args, () => this.inner.auditTrail(...args));
  }
  query(...args: Parameters<CommandStore['query']>) {
    return this.faulted('query', args, () => this.inner.query(...args));
  }
  listTsq(...args: Parameters<CommandStore['listTsq']>) {
    return this.faulted('listTsq', args, () => this.inner.listTsq(...args));
  }
  history(...args: Parameters<CommandStore['history']>) {
    return this.faulted('history', args, () => this.inner.history(...args));
  }
  tsqGroups(...args: Parameters<CommandStore['tsqGroups']>) {
    return this.faulted('tsqGroups', args, () => this.inner.tsqGroups(...args));
  }
  oldestParked(...args: Parameters<CommandStore['oldestParked']>) {
    return this.faulted('oldestParked', args, () => this.inner.oldestParked(...args));
  }
  shardSettings(...args: Parameters<CommandStore['shardSettings']>) {
    return this.faulted('shardSettings', args, () => this.inner.shardSettings(...args));
  }
  setShardCount(...args: Parameters<CommandStore['setShardCount']>) {
    return this.faulted('setShardCount', args, () => this.inner.setShardCount(...args));
  }
}

/** Any CommandTransport (the SQS adapter against fauxqs, say) behind the twins' fault hooks. */
export class FaultyTransport extends FaultInjector<CommandTransport> implements CommandTransport {
  readonly inner: CommandTransport;
  constructor(inner: CommandTransport) {
    super();
    this.inner = inner;
  }
  protected defaultError(method: string): unknown {
    return transportUnavailable(method);
  }
  sendCommand(...args: Parameters<CommandTransport['sendCommand']>) {
    return this.faulted('sendCommand', args, () => this.inner.sendCommand(...args));
  }
  sendReply(...args: Parameters<CommandTransport['sendReply']>) {
    return this.faulted('sendReply', args, () => this.inner.sendReply(...args));
  }
  receive(...args: Parameters<CommandTransport['receive']>) {
    return this.faulted('receive', args, () => this.inner.receive(...args));
  }
  ack(...args: Parameters<CommandTransport['ack']>) {
    return this.faulted('ack', args, () => this.inner.ack(...args));
  }
  delay(...args: Parameters<CommandTransport['delay']>) {
    return this.faulted('delay', args, () => this.inner.delay(...args));
  }
  flush() {
    return this.faulted('flush', [], () => this.inner.flush());
  }
  park(...args: Parameters<CommandTransport['park']>) {
    return this.faulted('park', args, () => this.inner.park(...args));
  }
  receiveParked(...args: Parameters<CommandTransport['receiveParked']>) {
    return this.faulted('receiveParked', args, () => this.inner.receiveParked(...args));
  }
  deleteParked(...args: Parameters<CommandTransport['deleteParked']>) {
    return this.faulted('deleteParked', args, () => this.inner.deleteParked(...args));
  }
  releaseParked(...args: Parameters<CommandTransport['releaseParked']>) {
    return this.faulted('releaseParked', args, () => this.inner.releaseParked(...args));
  }
}

/** What an SQS call that got no answer looks like to its caller (the SDK's own error name). */
export function transportUnavailable(method: string): Error {
  const error = new Error(`injected fault: SQS did not answer ${method}`);
  error.name = 'TimeoutError';
  return error;
}
