/**
 * Where a consumer waits, seen from outside it (SDK middleware only, no extra requests): how many
 * messages each ReceiveMessage returned and how long it took, how long its DynamoDB calls took, and
 * how many received messages were held (received, not yet COMPLETED) on average over the slice —
 * the consumer's occupancy, to set against its concurrency. Plus the main thread's event-loop delay
 * (beyond the 10 ms sampling interval).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { percentile } from './stats.ts';

/** monitorEventLoopDelay's sampling interval (ms), taken off what it reports. */
const LOOP_RESOLUTION_MS = 10;

export interface ConsumerStats {
  receives: number;
  emptyReceives: number;
  messagesPerReceive: number;
  /** Median time of a ReceiveMessage that returned messages (ms; a long poll waiting for a slice's first messages is not typical). */
  receiveMs: number;
  /** Time-weighted mean of messages received and not yet COMPLETED. */
  meanHeld: number;
  /** Mean time of the consumer's DynamoDB writes (ms). */
  writeMs: number;
  /** Event-loop delay (ms): p50 and p99. */
  loopDelayP50: number;
  loopDelayP99: number;
}

export class ConsumerProbe {
  private held = 0;
  private since = performance.now();
  private area = 0;
  private started = performance.now();
  private receives = 0;
  private empty = 0;
  private messages = 0;
  private receiveMs: number[] = [];
  private writes = 0;
  private writeMs = 0;
  private histogram: ReturnType<typeof monitorEventLoopDelay> | undefined;

  attach(sqs: SQSClient): void {
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'ReceiveMessageCommand') return next(args);
        const start = performance.now();
        const result = await next(args);
        const count = ((result.output as { Messages?: unknown[] }).Messages ?? []).length;
        this.receives++;
        if (count === 0) this.empty++;
        else this.receiveMs.push(performance.now() - start);
        this.messages += count;
        this.move(count);
        return result;
      },
      { step: 'initialize', name: 'benchConsumerProbe', priority: 'low' },
    );
  }

  attachDynamo(dynamodb: DynamoDBClient): void {
    dynamodb.middlewareStack.add(
      (next) => async (args) => {
        const start = performance.now();
        try {
          return await next(args);
        } finally {
          this.writes++;
          this.writeMs += performance.now() - start;
        }
      },
      { step: 'initialize', name: 'benchConsumerWriteProbe', priority: 'low' },
    );
  }

  completed(): void {
    this.move(-1);
  }

  /** Starts a slice: counters to zero (messages already held stay held). */
  reset(): void {
    const now = performance.now();
    this.since = now;
    this.started = now;
    this.area = 0;
    this.receives = 0;
    this.empty = 0;
    this.messages = 0;
    this.receiveMs = [];
    this.writes = 0;
    this.writeMs = 0;
    this.histogram?.disable();
    this.histogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.histogram.enable();
  }

  snapshot(): ConsumerStats {
    this.move(0);
    const elapsed = performance.now() - this.started;
    const nonEmpty = this.receives - this.empty;
    this.histogram?.disable();
    const ms = (ns: number | undefined) => Math.max(0, (ns ?? Number.NaN) / 1e6 - LOOP_RESOLUTION_MS);
    return {
      receives: this.receives,
      emptyReceives: this.empty,
      messagesPerReceive: nonEmpty ? this.messages / nonEmpty : Number.NaN,
      receiveMs: percentile(
        [...this.receiveMs].sort((a, b) => a - b),
        50,
      ),
      meanHeld: elapsed > 0 ? this.area / elapsed : Number.NaN,
      writeMs: this.writes ? this.writeMs / this.writes : Number.NaN,
      loopDelayP50: ms(this.histogram?.percentile(50)),
      loopDelayP99: ms(this.histogram?.percentile(99)),
    };
  }

  private move(delta: number): void {
    const now = performance.now();
    this.area += this.held * (now - this.since);
    this.since = now;
    this.held = Math.max(0, this.held + delta);
  }
}
