import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_DATA_BYTES,
  assertJson,
  validateDomain,
  validateJsonObject,
  validateMaxAttempts,
  validateName,
  validateSendRequest,
  validateUuid,
} from '../../../src/domain/validation.ts';
import { ValidationError } from '../../../src/errors.ts';
import { MAX_ALLOWED_ATTEMPTS } from '../../../src/resources.ts';
import type { SendCommandRequest } from '../../../src/types.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const COMMAND_ID = '6f1c2a4e-8b7d-4c3a-9e5f-0a1b2c3d4e5f';

/** The ValidationError that `act` throws (fails the test if it throws nothing or something else). */
function validationErrorOf(act: () => unknown): ValidationError {
  try {
    act();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw new Error(`expected a ValidationError, got ${String(error)}`);
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

function request(overrides: Partial<SendCommandRequest> = {}): SendCommandRequest {
  return { domain: 'payments', commandType: 'DebitAccount', commandId: COMMAND_ID, data: { amount: 42 }, ...overrides };
}

describe('Function: validateUuid', () => {
  it('returns the UUID in lower case', () => {
    // Prepare
    const upper = '6F1C2A4E-8B7D-4C3A-9E5F-0A1B2C3D4E5F';

    // Act
    const lower = validateUuid('commandId', upper);
    const same = validateUuid('commandId', COMMAND_ID);

    // Assess
    expect(lower).toBe(COMMAND_ID);
    expect(same).toBe(COMMAND_ID);
  });

  it.each([
    ['not-a-uuid', 'commandId: must be a UUID string (got "not-a-uuid")'],
    ['6f1c2a4e8b7d4c3a9e5f0a1b2c3d4e5f', 'commandId: must be a UUID string (got "6f1c2a4e8b7d4c3a9e5f0a1b2c3d4e5f")'],
    [`${COMMAND_ID}0`, `commandId: must be a UUID string (got "${COMMAND_ID}0")`],
    [' 6f1c2a4e-8b7d-4c3a-9e5f-0a1b2c3d4e5f', 'commandId: must be a UUID string (got " 6f1c2a4e-8b7d-4c3a-9e5f-0a1b2c3d4e5f")'],
    ['6f1c2a4e-8b7d-4c3a-9e5f-0a1b2c3d4e5g', 'commandId: must be a UUID string (got "6f1c2a4e-8b7d-4c3a-9e5f-0a1b2c3d4e5g")'],
    [123, 'commandId: must be a UUID string (got number 123)'],
    [undefined, 'commandId: must be a UUID string (got undefined undefined)'],
    [null, 'commandId: must be a UUID string (got null)'],
  ])('rejects %j naming the field', (value, message) => {
    // Prepare: the value

    // Act
    const error = validationErrorOf(() => validateUuid('commandId', value));

    // Assess
    expect(error.field).toBe('commandId');
    expect(error.message).toBe(message);
  });
});

describe('Function: validateDomain', () => {
  it.each(['payments', 'a', '9', 'Orders_2', 'order-events', 'd'.repeat(40)])('accepts %s', (domain) => {
    // Prepare: the domain

    // Act
    const validated = validateDomain(domain);

    // Assess
    expect(validated).toBe(domain);
  });

  it.each(['d'.repeat(41), '-payments', '_payments', 'pay ments', 'pay.ments', 'pay/ments', 'päyments'])(
    'rejects %s as not matching the queue-name pattern',
    (domain) => {
      // Prepare: the domain

      // Act
      const error = validationErrorOf(() => validateDomain(domain));

      // Assess
      expect(error.field).toBe('domain');
      expect(error.message).toBe(`domain: must be 1-40 letters, digits, '-' or '_', starting with a letter or digit (got ${JSON.stringify(domain)})`);
    },
  );

  it.each([
    ['', 'domain: must be a non-empty string (got "")'],
    [42, 'domain: must be a non-empty string (got number 42)'],
    [['payments'], 'domain: must be a non-empty string (got an array)'],
  ])('rejects %j as not a non-empty string', (domain, message) => {
    // Prepare: the domain

    // Act
    const error = validationErrorOf(() => validateDomain(domain));

    // Assess
    expect(error.message).toBe(message);
  });

  it('names a custom field', () => {
    // Prepare
    const field = 'options.domain';

    // Act
    const error = validationErrorOf(() => validateDomain('bad domain', field));

    // Assess
    expect(error.field).toBe('options.domain');
  });
});

describe('Function: validateName', () => {
  it('accepts a name of up to 128 characters', () => {
    // Prepare
    const longest = 'C'.repeat(128);

    // Act
    const validated = validateName('commandType', longest);

    // Assess
    expect(validated).toBe(longest);
  });

  it.each([
    ['', 'commandType: must be a non-empty string (got "")'],
    ['   ', 'commandType: must be a non-empty string (got "   ")'],
    [7, 'commandType: must be a non-empty string (got number 7)'],
    [{}, 'commandType: must be a non-empty string (got an object)'],
    ['C'.repeat(129), 'commandType: must be at most 128 characters (got 129)'],
    ['Debit\nAccount', 'commandType: must not contain control characters'],
    ['Debit\u0000', 'commandType: must not contain control characters'],
    ['Debit\u007f', 'commandType: must not contain control characters'],
  ])('rejects %j naming the field', (value, message) => {
    // Prepare: the value

    // Act
    const error = validationErrorOf(() => validateName('commandType', value));

    // Assess
    expect(error.field).toBe('commandType');
    expect(error.message).toBe(message);
  });
});

describe('Function: validateMaxAttempts', () => {
  it('defaults to 3 when absent', () => {
    // Prepare: nothing

    // Act
    const validated = validateMaxAttempts(undefined);

    // Assess
    expect(validated).toBe(3);
    expect(DEFAULT_MAX_ATTEMPTS).toBe(3);
  });

  it('accepts 1 and MAX_ALLOWED_ATTEMPTS', () => {
    // Prepare
    const bounds = [1, MAX_ALLOWED_ATTEMPTS];

    // Act
    const validated = bounds.map((value) => validateMaxAttempts(value));

    // Assess
    expect(validated).toEqual([1, 25]);
  });

  it.each([0, -1, MAX_ALLOWED_ATTEMPTS + 1, 2.5, Number.NaN, '3', null])('rejects %j naming maxAttempts and the range', (value) => {
    // Prepare: the value

    // Act
    const error = validationErrorOf(() => validateMaxAttempts(value));

    // Assess
    expect(error.field).toBe('maxAttempts');
    expect(error.message).toMatch(/^maxAttempts: must be an integer from 1 to 25 \(got .+\)$/);
  });

  it('says what it got', () => {
    // Prepare
    const value = MAX_ALLOWED_ATTEMPTS + 1;

    // Act
    const error = validationErrorOf(() => validateMaxAttempts(value));

    // Assess
    expect(error.message).toBe('maxAttempts: must be an integer from 1 to 25 (got number 26)');
  });
});

describe('Function: assertJson', () => {
  it('accepts nested plain JSON, null-prototype objects and shared (non-circular) references', () => {
    // Prepare
    const shared = { id: 1 };
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: 'v' });
    const value = { a: [1, 'two', true, null, { b: -0.5 }], shared, again: shared, list: [shared, shared], bare };

    // Act
    const act = () => assertJson('data', value);

    // Assess
    expect(act).not.toThrow();
  });

  it.each([
    ['a Date', { when: new Date(0) }, 'data.when', 'is a Date, not a plain JSON object'],
    ['undefined', { x: undefined }, 'data.x', 'is undefined, which is not JSON'],
    ['NaN', { x: Number.NaN }, 'data.x', 'is NaN, which JSON cannot represent'],
    ['Infinity', { x: Number.NEGATIVE_INFINITY }, 'data.x', 'is -Infinity, which JSON cannot represent'],
    ['a function', { x: () => 1 }, 'data.x', 'is a function, which is not JSON'],
    ['a bigint', { x: 1n }, 'data.x', 'is a bigint, which is not JSON'],
    ['a symbol', { x: Symbol('s') }, 'data.x', 'is a symbol, which is not JSON'],
    ['a Map', { x: new Map() }, 'data.x', 'is a Map, not a plain JSON object'],
    ['a nested array element', { items: [{ price: 1 }, { price: Number.NaN }] }, 'data.items[1].price', 'is NaN, which JSON cannot represent'],
    ['a deep key', { a: { b: { c: undefined } } }, 'data.a.b.c', 'is undefined, which is not JSON'],
  ])('names the path of %s', (_label, value, path, message) => {
    // Prepare: the value

    // Act
    const error = validationErrorOf(() => assertJson('data', value));

    // Assess
    expect(error.field).toBe(path);
    expect(error.message).toBe(`${path}: ${message}`);
  });

  it('names the first offender in key order', () => {
    // Prepare
    const value = { ok: 1, first: undefined, second: new Date(0) };

    // Act
    const error = validationErrorOf(() => assertJson('data', value));

    // Assess
    expect(error.field).toBe('data.first');
  });

  it('reports a circular reference at the path that closes the loop', () => {
    // Prepare
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const viaArray: Record<string, unknown> = {};
    viaArray.list = [1, { back: viaArray }];

    // Act
    const direct = validationErrorOf(() => assertJson('data', { loop }));
    const throughArray = validationErrorOf(() => assertJson('data', viaArray));

    // Assess
    expect(direct.message).toBe('data.loop.self: is a circular reference');
    expect(throughArray.message).toBe('data.list[1].back: is a circular reference');
  });

  it('rejects a top-level non-JSON value under the field name itself', () => {
    // Prepare
    const value = undefined;

    // Act
    const error = validationErrorOf(() => assertJson('result', value));

    // Assess
    expect(error.message).toBe('result: is undefined, which is not JSON');
  });
});

describe('Function: validateJsonObject', () => {
  it('returns the object itself when it is valid and within the limit', () => {
    // Prepare
    const value = { amount: 42 };

    // Act
    const validated = validateJsonObject('data', value, 1024);

    // Assess
    expect(validated).toBe(value);
  });

  it.each([
    [[1, 2], 'data: must be a JSON object (got an array)'],
    [null, 'data: must be a JSON object (got null)'],
    ['{}', 'data: must be a JSON object (got "{}")'],
    [undefined, 'data: must be a JSON object (got undefined undefined)'],
  ])('rejects %j as not an object', (value, message) => {
    // Prepare: the value

    // Act
    const error = validationErrorOf(() => validateJsonObject('data', value, 1024));

    // Assess
    expect(error.field).toBe('data');
    expect(error.message).toBe(message);
  });

  it('accepts data of exactly the limit and rejects one byte more, saying both sizes', () => {
    // Prepare: {"a":"xxxxx"} is 13 bytes
    const value = { a: 'xxxxx' };

    // Act
    const atLimit = () => validateJsonObject('data', value, 13);
    const overLimit = validationErrorOf(() => validateJsonObject('data', value, 12));

    // Assess
    expect(atLimit).not.toThrow();
    expect(overLimit.field).toBe('data');
    expect(overLimit.message).toBe('data: is 13 bytes as JSON; the limit is 12 bytes (SQS message and DynamoDB item sizes)');
  });

  it('counts UTF-8 bytes, not characters', () => {
    // Prepare: {"a":"éé"} is 10 characters but 12 bytes
    const value = { a: 'éé' };

    // Act
    const error = validationErrorOf(() => validateJsonObject('data', value, 11));

    // Assess
    expect(error.message).toBe('data: is 12 bytes as JSON; the limit is 11 bytes (SQS message and DynamoDB item sizes)');
  });

  it('checks JSON before size, naming the offending path', () => {
    // Prepare
    const value = { when: new Date(0) };

    // Act
    const error = validationErrorOf(() => validateJsonObject('data', value, 1));

    // Assess
    expect(error.field).toBe('data.when');
  });
});

describe('Function: validateSendRequest', () => {
  it('normalizes a minimal request: lower-case commandId, default maxAttempts, generated correlationId', () => {
    // Prepare
    const input = request({ commandId: COMMAND_ID.toUpperCase() });

    // Act
    const normalized = validateSendRequest(input);

    // Assess
    expect(normalized).toEqual({
      domain: 'payments',
      commandType: 'DebitAccount',
      commandId: COMMAND_ID,
      data: { amount: 42 },
      maxAttempts: 3,
      correlationId: expect.stringMatching(UUID_V4),
    });
    expect('replyTo' in normalized).toBe(false);
  });

  it('generates a new correlationId for each request without one', () => {
    // Prepare
    const input = request();

    // Act
    const first = validateSendRequest(input).correlationId;
    const second = validateSendRequest(input).correlationId;

    // Assess
    expect(first).toMatch(UUID_V4);
    expect(second).toMatch(UUID_V4);
    expect(first).not.toBe(second);
  });

  it('accepts standard and FIFO queue names for replyTo, never URLs', () => {
    expect(validateSendRequest(request({ replyTo: 'orders_replies-1' })).replyTo).toBe('orders_replies-1');
    expect(validateSendRequest(request({ replyTo: 'orders-replies.fifo' })).replyTo).toBe('orders-replies.fifo');
    expect(() => validateSendRequest(request({ replyTo: 'http://127.0.0.1:4566/000000000000/q' }))).toThrow(/^replyTo: must be an SQS queue name/);
  });

  it('keeps a given correlationId, replyTo and maxAttempts', () => {
    // Prepare
    const input = request({ correlationId: 'order-77', replyTo: 'billing-replies', maxAttempts: 5 });

    // Act
    const normalized = validateSendRequest(input);

    // Assess
    expect(normalized.correlationId).toBe('order-77');
    expect(normalized.replyTo).toBe('billing-replies');
    expect(normalized.maxAttempts).toBe(5);
  });

  it.each([
    ['domain', { domain: 'no spaces' }],
    ['commandType', { commandType: '' }],
    ['commandId', { commandId: 'abc' }],
    ['data', { data: [] as unknown as SendCommandRequest['data'] }],
    ['data.when', { data: { when: new Date(0) } as unknown as SendCommandRequest['data'] }],
    ['maxAttempts', { maxAttempts: 26 }],
    ['correlationId', { correlationId: '' }],
    ['replyTo', { replyTo: ' ' }],
    ['replyTo', { replyTo: 'https://attacker.example/queue' }],
    ['replyTo', { replyTo: 'x'.repeat(81) }],
  ])('names %s when it is invalid', (field, overrides) => {
    // Prepare
    const input = request(overrides);

    // Act
    const error = validationErrorOf(() => validateSendRequest(input));

    // Assess
    expect(error.field).toBe(field);
  });

  it.each([null, 'payments'])('rejects a request that is not an object (%j)', (input) => {
    // Prepare: the input

    // Act
    const error = validationErrorOf(() => validateSendRequest(input as unknown as SendCommandRequest));

    // Assess
    expect(error.message).toBe('request: must be an object');
  });

  it('applies the 128 KiB default data limit', () => {
    // Prepare: {"blob":"…"} has 11 bytes around the string
    const atLimit = request({ data: { blob: 'x'.repeat(DEFAULT_MAX_DATA_BYTES - 11) } });
    const overLimit = request({ data: { blob: 'x'.repeat(DEFAULT_MAX_DATA_BYTES - 10) } });

    // Act
    const accepted = () => validateSendRequest(atLimit);
    const error = validationErrorOf(() => validateSendRequest(overLimit));

    // Assess
    expect(DEFAULT_MAX_DATA_BYTES).toBe(131_072);
    expect(accepted).not.toThrow();
    expect(error.message).toBe('data: is 131073 bytes as JSON; the limit is 131072 bytes (SQS message and DynamoDB item sizes)');
  });

  it('applies a custom data limit', () => {
    // Prepare
    const input = request({ data: { amount: 42 } });

    // Act
    const error = validationErrorOf(() => validateSendRequest(input, 5));

    // Assess
    expect(error.message).toBe('data: is 13 bytes as JSON; the limit is 5 bytes (SQS message and DynamoDB item sizes)');
  });
});
