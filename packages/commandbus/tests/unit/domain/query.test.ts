import { describe, expect, it } from 'vitest';
import { parseTimestamp, validateQuery } from '../../../src/domain/query.ts';
import { ValidationError } from '../../../src/errors.ts';

describe('Function: parseTimestamp', () => {
  it.each([
    ['2026-01-31', '2026-01-31T00:00:00.000Z'],
    ['2026-01-31T12:00Z', '2026-01-31T12:00:00.000Z'],
    ['2026-01-31T12:00:00+01:00', '2026-01-31T11:00:00.000Z'],
    ['2024-02-29T00:00:00.123456Z', '2024-02-29T00:00:00.123Z'],
    ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ])('takes %s as %s', (value, expected) => {
    expect(parseTimestamp('from', value)).toBe(expected);
  });

  it.each([
    'now',
    '',
    '2026-01-31T12:00:00',
    '2026-02-30',
    '2026-01-31T24:00:00Z',
    '+275760-09-13T00:00:00.000Z',
    '-000001-01-01T00:00:00Z',
    '0000-01-01T00:00:00+01:00',
    '1/2/2026',
  ])('refuses %j, naming the field', (value) => {
    expect(() => parseTimestamp('to', value)).toThrow(ValidationError);
    expect(() => parseTimestamp('to', value)).toThrow(/^to: must be an ISO-8601 timestamp/);
  });
});

describe('Function: validateQuery', () => {
  it('normalises the time bounds, and refuses from later than to', () => {
    expect(validateQuery({ domain: 'test', from: '2026-01-01', to: '2026-01-02T00:00:00+00:00' })).toEqual({
      domain: 'test',
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-01-02T00:00:00.000Z',
    });
    expect(() => validateQuery({ domain: 'test', from: '2026-01-02', to: '2026-01-01' })).toThrow(/^from: must not be later than to/);
  });

  it('checks a correlation id as send does: a non-empty name of at most 128 characters, no control characters', () => {
    expect(validateQuery({ domain: 'test', correlationId: 'order-7' })).toEqual({ domain: 'test', correlationId: 'order-7' });
    expect(() => validateQuery({ domain: 'test', correlationId: ' ' })).toThrow(/^correlationId: must be a non-empty string/);
    expect(() => validateQuery({ domain: 'test', correlationId: 'x'.repeat(129) })).toThrow(ValidationError);
    expect(() => validateQuery({ domain: 'test', correlationId: 'a\nb' })).toThrow(/^correlationId: /);
    expect(() => validateQuery({ domain: 'test', correlationId: 7 as unknown as string })).toThrow(/^correlationId: /);
  });
});

describe('Function: validateQuery, TSQ filters', () => {
  it('takes an error code and each error type, unchanged', () => {
    for (const errorType of ['TRANSIENT', 'PERMANENT', 'TIMEOUT'] as const) {
      expect(validateQuery({ domain: 'test', errorCode: 'DEAD_LETTERED', errorType })).toEqual({ domain: 'test', errorCode: 'DEAD_LETTERED', errorType });
    }
  });

  it.each([
    ['an empty error code', { errorCode: '' }, /^errorCode: must be a non-empty string/],
    ['a blank error code', { errorCode: '   ' }, /^errorCode: must be a non-empty string/],
    ['an error code over 128 characters', { errorCode: 'E'.repeat(129) }, /^errorCode: must be at most 128 characters/],
    ['an error code with a control character', { errorCode: 'A\nB' }, /^errorCode: must not contain control characters/],
    ['an error code that is not a string', { errorCode: 7 as unknown as string }, /^errorCode: must be a non-empty string/],
    ['an unknown error type', { errorType: 'FATAL' as 'PERMANENT' }, /^errorType: must be one of TRANSIENT, PERMANENT, TIMEOUT \(got "FATAL"\)/],
    ['an error type in lower case', { errorType: 'permanent' as 'PERMANENT' }, /^errorType: must be one of TRANSIENT, PERMANENT, TIMEOUT/],
    ['an empty error type', { errorType: '' as 'PERMANENT' }, /^errorType: must be one of/],
  ])('refuses %s with a ValidationError naming the field', (_, filters, message) => {
    const attempt = () => validateQuery({ domain: 'test', ...filters });
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(message);
  });

  it('checks the time window with the filters, normalised', () => {
    expect(validateQuery({ domain: 'test', errorType: 'TIMEOUT', from: '2026-01-01', to: '2026-01-01T01:00:00+01:00' })).toEqual({
      domain: 'test',
      errorType: 'TIMEOUT',
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-01-01T00:00:00.000Z',
    });
  });
});
