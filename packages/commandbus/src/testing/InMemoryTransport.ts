/**
 * An in-memory CommandTransport that behaves like SqsTransport against SQS, held to it by the
 * contract suite in tests/contract (run against this twin and against fauxqs).
 *
 * Queues come from the same definitions the stack deploys (`queueDefinitions`): per domain a
 * commands queue whose redrive policy moves a message to the domain's TSQ queue once it has been
 * received more than `maxReceiveCount` times (default TSQ_MAX_RECEIVE_COUNT), a TSQ queue, and the
 * replies queue; more queues (reply targets) with `createQueue`. A queue that does not exist is a
 * QueueNotFoundError. Time comes from an injectable clock — by default Date.now and the global
 * timers at call time, so vitest's fake timers drive it:
 * - a received message is invisible for the visibility timeout of its receive, then comes back with
 *   ApproximateReceiveCount one higher and a new receipt handle (an older handle no longer changes
 *   its visibility, and deletes nothing);
 * - `delaySeconds` (0–900) hides a new message; `delay` / `releaseParked` set the visibility of a
 *   message in flight (a message not in flight under that handle is refused, as SQS does);
 * - `receive` long-polls: it answers as soon as a message is visible, or with nothing when the wait
 *   ends; an aborted signal ends it with an AbortError, as the SDK does;
 * - `ack` batches deletes like SqsTransport (ten per request, or after `deleteBatchWindowMs`); each
 *   ack's promise settles when its delete is done, and `flush` sends what waits and waits for it;
 * - bodies with characters SQS refuses, messages over the queue's MaximumMessageSize (body plus
 *   attributes, counted as SQS counts them) and delays outside 0–900 s are MessageRefusedError.
 * Fault injection: failNext / landThenFail / beforeCall (see FaultInjector); `deleteRequests`
 * records every delete request, so a test can see the batching.
 *
 * Where it differs from SQS (and fauxqs):
 * - Delivery is exact and ordered: a receive returns the visible messages in the order they became
 *   visible, every visible message is returned (SQS samples servers and may return fewer, or none
 *   on a short poll), and a message is never delivered twice while it is invisible.
 * - Refusals that SqsTransport does not translate (an unknown queue for receive, park, ack, delay and
 *   the parked-message calls) are QueueNotFoundError here; SqsTransport passes the SDK's own error
 *   (QueueDoesNotExist) through. Only sendCommand and sendReply translate it there.
 * - A delete (ack, deleteParked) with a message's latest receipt handle works even after its
 *   visibility timeout passed, as AWS documents; fauxqs forgets the handle once the message is
 *   visible again. A delete with an older handle deletes nothing and does not fail, as both do.
 * - A message moved to the TSQ queue by the redrive policy keeps its message id, attributes and
 *   receive count (as fauxqs does; AWS documents only that the id is kept).
 * - An empty message attribute value, more than 10 attributes, and the retention period are not
 *   checked (SQS refuses the first two, and drops messages after the third).
 */
import { randomUUID } from 'node:crypto';
import { MessageRefusedError, QueueNotFoundError, type CommandTransport, type ReceiveOptions, type TransportMessage } from '../ports/CommandTransport.ts';
import { queueDefinitions, resourceNames, TSQ_MAX_RECEIVE_COUNT, type ResourceNames } from '../resources.ts';
import { FaultInjector, transportUnavailable, type PortMethod } from './faults.ts';

/** Time as the twin sees it. The default reads the globals at each call, so fake timers apply. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as NodeJS.Timeout),
};

export interface InMemoryTransportOptions {
  /** The namespace's queue names. Default: resourceNames() (namespace 'commandbus'). */
  names?: ResourceNames;
  /** Domains whose commands and TSQ queues exist (with the replies queue). Default none. */
  domains?: readonly string[];
  /** More queues by name (reply targets). */
  queues?: readonly string[];
  /** Receives after which the commands queue moves a message to the TSQ queue. Default TSQ_MAX_RECEIVE_COUNT. */
  maxReceiveCount?: number;
  /** As SqsTransport's: how long an ack waits for others to share its delete request. Default 50. */
  deleteBatchWindowMs?: number;
  clock?: Clock;
}

/** A message as the twin holds it, for assertions. */
export interface QueuedMessage {
  messageId: string;
  body: string;
  attributes: Record<string, string>;
  receiveCount: number;
  /** Epoch ms from which it can be received. */
  visibleAt: number;
  /** Whether a receive now would return it. */
  visible: boolean;
  /** The handle of its latest receive, if any. */
  receiptHandle?: string;
}

interface Message {
  messageId: string;
  body: string;
  attributes: Record<string, string>;
  receiveCount: number;
  visibleAt: number;
  /** Tie-break for messages that became visible at the same time: the order they were sent. */
  seq: number;
  receiptHandle?: string;
}

interface Queue {
  name: string;
  maxMessageBytes: number;
  messages: Message[];
  deadLetter?: { queue: string; maxReceiveCount: number };
  /** Long polls waiting for a message. */
  waiters: Set<() => void>;
}

interface PendingDelete {
  receiptHandle: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** SQS accepts #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF (fauxqs: not the last range). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters SQS allows, listed by code point
const REFUSED_CHARACTER = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/;
const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * @example
 * const transport = new InMemoryTransport({ domains: ['payments'] });
 * await transport.sendCommand('payments', body);
 * const [message] = await transport.receive('payments', { maxMessages: 1, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30 });
 * transport.failNext('sendCommand', new Error('SQS is down'));
 */
export class InMemoryTransport extends FaultInjector<CommandTransport> implements CommandTransport {
  readonly names: ResourceNames;
  /** Every delete request the acks made, as SqsTransport would send them: queue and receipt handles. */
  readonly deleteRequests: { queue: string; receiptHandles: string[] }[] = [];
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly queues = new Map<string, Queue>();
  private readonly deletes = new Map<string, { entries: PendingDelete[]; timer?: unknown }>();
  private readonly inFlightFlushes = new Set<Promise<void>>();
  private seq = 0;

  constructor(options: InMemoryTransportOptions = {}) {
    super();
    this.names = options.names ?? resourceNames();
    this.clock = options.clock ?? systemClock;
    this.windowMs = options.deleteBatchWindowMs ?? 50;
    for (const definition of queueDefinitions(this.names, options.domains ?? [])) {
      const queue = this.ensureQueue(definition.name, Number(definition.attributes.MaximumMessageSize ?? SQS_MAX_MESSAGE_BYTES));
      if (definition.deadLetterQueue)
        queue.deadLetter = { queue: definition.deadLetterQueue, maxReceiveCount: options.maxReceiveCount ?? TSQ_MAX_RECEIVE_COUNT };
    }
    for (const name of options.queues ?? []) this.ensureQueue(name);
  }

  protected defaultError(method: PortMethod<CommandTransport>): unknown {
    return transportUnavailable(method);
  }

  /** Creates a queue (e.g. a replyTo target; default MaximumMessageSize 256 KiB); an existing one is kept as it is. */
  createQueue(name: string, options: { maxMessageBytes?: number } = {}): this {
    this.ensureQueue(name, options.maxMessageBytes);
    return this;
  }

  private ensureQueue(name: string, maxMessageBytes = 256 * 1024): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = { name, maxMessageBytes, messages: [], waiters: new Set() };
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** The messages a queue holds (visible, delayed or in flight), in the order a receive would see them. */
  messages(queueName: string): QueuedMessage[] {
    const now = this.clock.now();
    return this.ordered(this.queue(queueName)).map((message) => ({
      messageId: message.messageId,
      body: message.body,
      attributes: { ...message.attributes },
      receiveCount: message.receiveCount,
      visibleAt: message.visibleAt,
      visible: message.visibleAt <= now,
      ...(message.receiptHandle === undefined ? {} : { receiptHandle: message.receiptHandle }),
    }));
  }

  sendCommand(domain: string, body: string, options: { attributes?: Record<string, string>; delaySeconds?: number } = {}): Promise<void> {
    return this.faulted('sendCommand', [domain, body, options], () => {
      this.enqueue(this.queue(this.names.commandsQueue(domain)), body, options.attributes ?? {}, options.delaySeconds ?? 0);
    });
  }

  sendReply(replyTo: string, body: string): Promise<void> {
    return this.faulted('sendReply', [replyTo, body], () => {
      this.enqueue(this.queue(replyTo), body, {}, 0);
    });
  }

  park(domain: string, body: string, attributes: Record<string, string>): Promise<void> {
    return this.faulted('park', [domain, body, attributes], () => {
      this.enqueue(this.queue(this.names.tsqQueue(domain)), body, attributes, 0);
    });
  }

  receive(domain: string, options: ReceiveOptions): Promise<TransportMessage[]> {
    return this.faulted('receive', [domain, options], () => this.receiveFrom(this.names.commandsQueue(domain), options));
  }

  receiveParked(domain: string, options: { maxMessages: number; visibilityTimeoutSeconds: number }): Promise<TransportMessage[]> {
    return this.faulted('receiveParked', [domain, options], () => this.receiveFrom(this.names.tsqQueue(domain), { ...options, waitTimeSeconds: 0 }));
  }

  delay(domain: string, receiptHandle: string, seconds: number): Promise<void> {
    return this.faulted('delay', [domain, receiptHandle, seconds], () => this.changeVisibility(this.names.commandsQueue(domain), receiptHandle, seconds));
  }

  releaseParked(domain: string, receiptHandle: string): Promise<void> {
    return this.faulted('releaseParked', [domain, receiptHandle], () => this.changeVisibility(this.names.tsqQueue(domain), receiptHandle, 0));
  }

  deleteParked(domain: string, receiptHandle: string): Promise<void> {
    return this.faulted('deleteParked', [domain, receiptHandle], () => {
      this.remove(this.queue(this.names.tsqQueue(domain)), receiptHandle);
    });
  }

  ack(domain: string, receiptHandle: string): Promise<void> {
    return this.faulted('ack', [domain, receiptHandle], () => {
      const queue = this.queue(this.names.commandsQueue(domain)).name;
      return new Promise<void>((resolve, reject) => {
        let batch = this.deletes.get(queue);
        if (!batch) {
          batch = { entries: [] };
          this.deletes.set(queue, batch);
        }
        batch.entries.push({ receiptHandle, resolve, reject });
        if (batch.entries.length >= 10) this.flushQueue(queue);
        else batch.timer ??= this.clock.setTimeout(() => this.flushQueue(queue), this.windowMs);
      });
    });
  }

  flush(): Promise<void> {
    return this.faulted('flush', [], async () => {
      for (const queue of [...this.deletes.keys()]) this.flushQueue(queue);
      await Promise.allSettled([...this.inFlightFlushes]);
    });
  }

  private flushQueue(queueName: string): void {
    const batch = this.deletes.get(queueName);
    if (!batch) return;
    if (batch.timer !== undefined) this.clock.clearTimeout(batch.timer);
    this.deletes.delete(queueName);
    for (let i = 0; i < batch.entries.length; i += 10) {
      const entries = batch.entries.slice(i, i + 10);
      this.deleteRequests.push({ queue: queueName, receiptHandles: entries.map((entry) => entry.receiptHandle) });
      // Settles after the caller's turn, as a request would.
      const flush = Promise.resolve().then(() => {
        const queue = this.queues.get(queueName);
        for (const entry of entries) {
          if (!queue) {
            entry.reject(new QueueNotFoundError(queueName));
            continue;
          }
          this.remove(queue, entry.receiptHandle);
          entry.resolve();
        }
      });
      this.inFlightFlushes.add(flush);
      void flush.finally(() => this.inFlightFlushes.delete(flush));
    }
  }

  private queue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new QueueNotFoundError(name);
    return queue;
  }

  private enqueue(queue: Queue, body: string, attributes: Record<string, string>, delaySeconds: number): void {
    if (body.length === 0) throw Object.assign(new Error('The request must contain the parameter MessageBody.'), { name: 'MissingParameter' });
    if (REFUSED_CHARACTER.test(body)) throw new MessageRefusedError(`${queue.name} refused the message: Invalid characters found`);
    const size =
      Buffer.byteLength(body, 'utf8') +
      Object.entries(attributes).reduce((sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + 'String'.length + Buffer.byteLength(value, 'utf8'), 0);
    if (size > queue.maxMessageBytes)
      throw new MessageRefusedError(`${queue.name} refused the message: Message must be shorter than ${queue.maxMessageBytes} bytes`);
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900) {
      throw new MessageRefusedError(`${queue.name} refused the message: DelaySeconds must be an integer from 0 to 900 (got ${delaySeconds})`);
    }
    queue.messages.push({
      messageId: randomUUID(),
      body,
      attributes: { ...attributes },
      receiveCount: 0,
      visibleAt: this.clock.now() + delaySeconds * 1000,
      seq: this.seq++,
    });
    this.wake(queue);
  }

  private async receiveFrom(queueName: string, options: ReceiveOptions): Promise<TransportMessage[]> {
    const queue = this.queue(queueName);
    const refuse = (name: string, range: string, value: number) =>
      Object.assign(new Error(`${name} must be an integer from ${range} (got ${value})`), { name: 'InvalidParameterValue' });
    if (!Number.isInteger(options.maxMessages) || options.maxMessages < 1 || options.maxMessages > 10)
      throw refuse('MaxNumberOfMessages', '1 to 10', options.maxMessages);
    if (!Number.isInteger(options.waitTimeSeconds) || options.waitTimeSeconds < 0 || options.waitTimeSeconds > 20)
      throw refuse('WaitTimeSeconds', '0 to 20', options.waitTimeSeconds);
    if (!Number.isInteger(options.visibilityTimeoutSeconds) || options.visibilityTimeoutSeconds < 0 || options.visibilityTimeoutSeconds > 43_200) {
      throw refuse('VisibilityTimeout', '0 to 43200', options.visibilityTimeoutSeconds);
    }
    const deadline = this.clock.now() + options.waitTimeSeconds * 1000;
    for (;;) {
      if (options.signal?.aborted) throw abortError();
      const received = this.take(queue, options.maxMessages, options.visibilityTimeoutSeconds);
      if (received.length > 0 || this.clock.now() >= deadline) return received;
      await this.waitForMessages(queue, deadline, options.signal);
    }
  }

  /** Takes up to `max` visible messages, hiding each for `visibilitySeconds`; redrives those received too often. */
  private take(queue: Queue, max: number, visibilitySeconds: number): TransportMessage[] {
    const now = this.clock.now();
    const received: TransportMessage[] = [];
    for (const message of this.ordered(queue)) {
      if (received.length >= max || message.visibleAt > now) break;
      message.receiveCount++;
      const deadLetter = queue.deadLetter && this.queues.get(queue.deadLetter.queue);
      if (deadLetter && message.receiveCount > queue.deadLetter!.maxReceiveCount) {
        // SQS's redrive policy: this receive moves it instead of returning it.
        queue.messages = queue.messages.filter((candidate) => candidate !== message);
        delete message.receiptHandle;
        message.visibleAt = now;
        message.seq = this.seq++;
        deadLetter.messages.push(message);
        this.wake(deadLetter);
        continue;
      }
      message.receiptHandle = randomUUID();
      message.visibleAt = now + visibilitySeconds * 1000;
      received.push({
        messageId: message.messageId,
        body: message.body,
        receiptHandle: message.receiptHandle,
        receiveCount: message.receiveCount,
        attributes: { ...message.attributes },
      });
    }
    if (visibilitySeconds === 0 && received.length > 0) this.wake(queue);
    return received;
  }

  private ordered(queue: Queue): Message[] {
    return [...queue.messages].sort((a, b) => a.visibleAt - b.visibleAt || a.seq - b.seq);
  }

  /** Resolves when a message may have become visible, the deadline passed, or the signal aborted. */
  private waitForMessages(queue: Queue, deadline: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const now = this.clock.now();
      const nextVisible = Math.min(...queue.messages.map((message) => message.visibleAt).filter((at) => at > now));
      const wakeAt = Math.min(deadline, nextVisible);
      const done = () => {
        this.clock.clearTimeout(timer);
        queue.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.clock.setTimeout(done, Math.max(0, wakeAt - now));
      queue.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private wake(queue: Queue): void {
    for (const waiter of [...queue.waiters]) waiter();
  }

  private changeVisibility(queueName: string, receiptHandle: string, seconds: number): void {
    const queue = this.queue(queueName);
    const now = this.clock.now();
    const message = queue.messages.find((candidate) => candidate.receiptHandle === receiptHandle && candidate.visibleAt > now);
    if (!message) {
      throw Object.assign(new Error('Message does not exist or is not available for visibility timeout change.'), { name: 'MessageNotInflight' });
    }
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) {
      throw Object.assign(new Error(`VisibilityTimeout must be from 0 to 43200 (got ${seconds})`), { name: 'InvalidParameterValue' });
    }
    message.visibleAt = now + seconds * 1000;
    if (seconds === 0) {
      message.seq = this.seq++;
      this.wake(queue);
    }
  }

  /** Deletes the message whose latest receive gave this handle; an older handle deletes nothing (as SQS). */
  private remove(queue: Queue, receiptHandle: string): void {
    queue.messages = queue.messages.filter((message) => message.receiptHandle !== receiptHandle);
  }
}

function abortError(): Error {
  const error = new Error('Request aborted');
  error.name = 'AbortError';
  return error;
}
