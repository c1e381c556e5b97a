import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../../src/domain/envelope.ts';

const ENVELOPE: Envelope = {
  v: 1,
  domain: 'payments',
  commandType: 'DebitAccount',
  commandId: '6f1c2a4e-8b7d-4c3a-9e5f-0a1b2c3d4e5f',
  data: { accountId: 'A-1', amount: 42, tags: ['vip', null], nested: { ok: true } },
  maxAttempts: 3,
  correlationId: 'corr-1',
  token: 'token-1',
  sentAt: '2024-05-01T10:00:00.000Z',
};

/** The envelope as a plain object with some fields replaced (undefined removes the field). */
function bodyWith(changes: Record<string, unknown>): string {
  const body: Record<string, unknown> = { ...ENVELOPE };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete body[key];
    else body[key] = value;
  }
  return JSON.stringify(body);
}

describe('Function: encodeEnvelope', () => {
  it('encodes the envelope as JSON', () => {
    // Prepare
    const envelope = ENVELOPE;

    // Act
    const body = encodeEnvelope(envelope);

    // Assess
    expect(JSON.parse(body)).toEqual(ENVELOPE);
  });
});

describe('Function: decodeEnvelope', () => {
  it('decodes what encodeEnvelope produced', () => {
    // Prepare
    const body = encodeEnvelope(ENVELOPE);

    // Act
    const decoded = decodeEnvelope(body);

    // Assess
    expect(decoded).toEqual({ ok: true, envelope: ENVELOPE });
  });

  it('keeps replyTo through a round trip', () => {
    // Prepare
    const envelope: Envelope = { ...ENVELOPE, replyTo: 'billing-replies' };

    // Act
    const decoded = decodeEnvelope(encodeEnvelope(envelope));

    // Assess
    expect(decoded).toEqual({ ok: true, envelope });
  });

  it('reports a body that is not JSON with the parser message', () => {
    // Prepare
    const body = '{"v":1,';

    // Act
    const decoded = decodeEnvelope(body);

    // Assess
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toMatch(/^body is not JSON \(.+\)$/);
  });

  it.each(['[]', 'null', '42', '"text"', 'true'])('reports a JSON body %s that is not an object', (body) => {
    // Prepare: the body

    // Act
    const decoded = decodeEnvelope(body);

    // Assess
    expect(decoded).toEqual({ ok: false, reason: 'body is not a JSON object' });
  });

  it.each([
    [undefined, 'unknown envelope version undefined'],
    [2, 'unknown envelope version 2'],
    ['1', 'unknown envelope version "1"'],
  ])('reports version %j as unknown', (v, reason) => {
    // Prepare
    const body = bodyWith({ v });

    // Act
    const decoded = decodeEnvelope(body);

    // Assess
    expect(decoded).toEqual({ ok: false, reason });
  });

  const stringFields = ['domain', 'commandType', 'commandId', 'correlationId', 'token', 'sentAt'];
  const badStrings: [string, unknown][] = [
    ['missing', undefined],
    ['empty', ''],
    ['a number', 7],
    ['null', null],
  ];
  it.each(stringFields.flatMap((field) => badStrings.map(([label, value]) => [field, label, value] as const)))(
    "names field '%s' when it is %s",
    (field, _label, value) => {
      // Prepare
      const body = bodyWith({ [field]: value });

      // Act
      const decoded = decodeEnvelope(body);

      // Assess
      expect(decoded).toEqual({ ok: false, reason: `field '${field}' is missing or not a string` });
    },
  );

  it.each([
    ['missing', undefined],
    ['null', null],
    ['an array', [1, 2]],
    ['a string', '{}'],
  ])("names field 'data' when it is %s", (_label, data) => {
    // Prepare
    const body = bodyWith({ data });

    // Act
    const decoded = decodeEnvelope(body);

    // Assess
    expect(decoded).toEqual({ ok: false, reason: "field 'data' is missing or not an object" });
  });

  it.each([
    ['missing', undefined],
    ['0', 0],
    ['negative', -2],
    ['fractional', 1.5],
    ['a string', '3'],
  ])("names field 'maxAttempts' when it is %s", (_label, maxAttempts) => {
    // Prepare
    const body = bodyWith({ maxAttempts });

    // Act
    const decoded = decodeEnvelope(body);

    // Assess
    expect(decoded).toEqual({ ok: false, reason: "field 'maxAttempts' is not a positive integer" });
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['an object', { queue: 'x' }],
  ])("names field 'replyTo' when it is %s", (_label, replyTo) => {
    // Prepare
    const body = bodyWith({ replyTo });

    // Act
    const decoded = decodeEnvelope(body);

    // Assess
    expect(decoded).toEqual({ ok: false, reason: "field 'replyTo' is not a string" });
  });

  it('accepts maxAttempts 1, the smallest positive integer', () => {
    // Prepare
    const body = bodyWith({ maxAttempts: 1 });

    // Act
    const decoded = decodeEnvelope(body);

    // Assess
    expect(decoded.ok && decoded.envelope.maxAttempts).toBe(1);
  });
});

describe('Function: decodeEnvelope (the rules of send)', () => {
  it('normalises an upper-case commandId to the lower-case form every lookup uses', () => {
    // Prepare
    const body = bodyWith({ commandId: ENVELOPE.commandId.toUpperCase() });

    // Act
    const decoded = decodeEnvelope(body);

    // Assess
    expect(decoded.ok && decoded.envelope.commandId).toBe(ENVELOPE.commandId);
  });

  it.each([
    ['a commandId that is not a UUID', { commandId: 'order-17' }, /^field 'commandId': must be a UUID string/],
    ['data the command item cannot hold', { data: { n: 1e300 } }, /^field 'data\.n': is 1e\+300, beyond/],
    ['maxAttempts above the allowed maximum', { maxAttempts: 99 }, /^field 'maxAttempts': must be an integer from 1 to 25/],
    ['a domain that cannot name a queue', { domain: 'no spaces' }, /^field 'domain': must be 1-40 letters/],
    ['a replyTo that is a URL', { replyTo: 'https://evil.example/queue' }, /^field 'replyTo': must be an SQS queue name/],
    ['a sentAt that is not a timestamp', { sentAt: 'yesterday' }, /^field 'sentAt': must be an ISO-8601 UTC timestamp/],
    ['a commandType with control characters', { commandType: 'a\u0001b' }, /^field 'commandType': must not contain control characters/],
  ])('refuses %s, naming the field', (_label, changes, reason) => {
    // Prepare
    const body = bodyWith(changes);

    // Act
    const decoded = decodeEnvelope(body);

    // Assess
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toMatch(reason);
  });
});

describe('Function: decodeEnvelope (values as parsed)', () => {
  it("refuses data with a '__proto__' key instead of silently dropping it", () => {
    // Prepare: JSON.parse keeps __proto__ as an own key; a copy into a plain object would lose it
    const body = bodyWith({}).replace('"data":{', '"data":{"__proto__":{"admin":true},');

    // Act
    const decoded = decodeEnvelope(body);

    // Assess
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toMatch(/^field 'data\.__proto__': has the key '__proto__'/);
  });
});
