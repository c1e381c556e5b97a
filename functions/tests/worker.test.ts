import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { domainOf, toTransportMessage } from '../worker.ts';

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

describe('Function: toTransportMessage', () => {
  it('keeps the receive count and the message attributes the processor needs', () => {
    expect(toTransportMessage(record())).toEqual({ messageId: 'm-1', body: '{}', receiptHandle: 'r-1', receiveCount: 3, attributes: { 'cb-parked': '1' } });
  });
});
