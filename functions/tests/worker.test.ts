import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { HandlerRegistry, ValidationError } from '@commandbus/core';
import { createWorkerHandler, domainOf, lambdaHeartbeat, retryPolicyFromEnv, toTransportMessage } from '../worker.ts';

const record = (overrides: Partial<SQSRecord> = {}): SQSRecord =>
  ({
    messageId: 'm-1',
    receiptHandle: 'r-1',
    body: '{}',
    attributes: { ApproximateReceiveCount: '3' },
    messageAttributes: { 'cb-parked': { stringValue: '1', dataType: 'String', stringListValues: [], binaryListValues: [] } },
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123:commandbus-payments-eu-commands',
    ...overrides,
  }) as SQSRecord;

describe('Function: domainOf', () => {
  it('reads the domain from the source queue name, hyphens included', () => {
    expect(domainOf(record(), 'commandbus')).toBe('payments-eu');
  });

  it('refuses a record from a queue that is not a commands queue of this namespace', () => {
    expect(() => domainOf(record({ eventSourceARN: 'arn:aws:sqs:eu-west-1:123:other-queue' }), 'commandbus')).toThrow(/unexpected queue/);
  });
});

describe('Function: retryPolicyFromEnv', () => {
  it("backs off by the domain's COMMANDBUS_RETRY_POLICIES entry, then the stack-wide variables, then the library's defaults", () => {
    const env = {
      COMMANDBUS_RETRY_POLICIES: JSON.stringify({ orders: { baseDelaySeconds: 5, maxDelaySeconds: 900 }, billing: { maxAttempts: 9 } }),
      COMMANDBUS_RETRY_MAX_SECONDS: '60',
    };

    expect(retryPolicyFromEnv(env, 'orders')).toEqual({ baseDelaySeconds: 5, maxDelaySeconds: 900, jitter: true });
    expect(retryPolicyFromEnv(env, 'billing')).toEqual({ baseDelaySeconds: 1, maxDelaySeconds: 60, jitter: true });
    expect(retryPolicyFromEnv({}, 'orders')).toEqual({ baseDelaySeconds: 1, maxDelaySeconds: 300, jitter: true });
  });
});

describe('Function: toTransportMessage', () => {
  it('keeps the receive count and the message attributes the processor needs', () => {
    expect(toTransportMessage(record())).toEqual({ messageId: 'm-1', body: '{}', receiptHandle: 'r-1', receiveCount: 3, attributes: { 'cb-parked': '1' } });
  });
});

describe('Function: lambdaHeartbeat', () => {
  it('hides the message, at each beat, until the invocation ends, rounded up to a whole second', () => {
    // Prepare
    let remaining = 28_400;
    const heartbeat = lambdaHeartbeat(5, { getRemainingTimeInMillis: () => remaining });

    // Act
    const first = heartbeat.visibilitySeconds();
    remaining = 23_000;
    const later = heartbeat.visibilitySeconds();

    // Assess
    expect(heartbeat.intervalSeconds).toBe(5);
    expect([first, later]).toEqual([29, 23]);
  });

  it('asks for at least one second and at most the 12 hours SQS allows', () => {
    expect(lambdaHeartbeat(1, { getRemainingTimeInMillis: () => 0 }).visibilitySeconds()).toBe(1);
    expect(lambdaHeartbeat(1, { getRemainingTimeInMillis: () => 50_000_000 }).visibilitySeconds()).toBe(43_200);
  });
});

describe('Function: createWorkerHandler', () => {
  it.each([0, 2.5, -1])('refuses heartbeatIntervalSeconds = %s, naming the option', (heartbeatIntervalSeconds) => {
    // Act
    const create = () => createWorkerHandler({ registry: new HandlerRegistry(), heartbeatIntervalSeconds });

    // Assess
    expect(create).toThrow(ValidationError);
    expect(create).toThrow(`heartbeatIntervalSeconds: must be an integer from 1, below the queue's visibility timeout (got ${heartbeatIntervalSeconds})`);
  });
});
