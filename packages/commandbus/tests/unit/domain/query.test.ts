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
});
