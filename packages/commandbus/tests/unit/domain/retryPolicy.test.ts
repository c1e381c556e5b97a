import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, backoffSeconds, resolveRetryPolicy, type RetryPolicy } from '../../../src/domain/retryPolicy.ts';
import { ValidationError } from '../../../src/errors.ts';

const policy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({ baseDelaySeconds: 1, maxDelaySeconds: 300, jitter: false, ...overrides });

function thrownBy(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('Function: backoffSeconds', () => {
  it('doubles the delay for each failed attempt, starting at baseDelaySeconds', () => {
    // Prepare
    const attempts = [1, 2, 3, 4, 5, 6];

    // Act
    const fromOne = attempts.map((attempt) => backoffSeconds(attempt, policy({ baseDelaySeconds: 1 })));
    const fromThree = attempts.map((attempt) => backoffSeconds(attempt, policy({ baseDelaySeconds: 3 })));

    // Assess
    expect(fromOne).toEqual([1, 2, 4, 8, 16, 32]);
    expect(fromThree).toEqual([3, 6, 12, 24, 48, 96]);
  });

  it('caps the delay at maxDelaySeconds', () => {
    // Prepare
    const capped = policy({ baseDelaySeconds: 1, maxDelaySeconds: 10 });

    // Act
    const delays = [4, 5, 6, 25, 100].map((attempt) => backoffSeconds(attempt, capped));

    // Assess
    expect(delays).toEqual([8, 10, 10, 10, 10]);
  });

  it('treats attempt 0 like attempt 1', () => {
    // Prepare
    const base = policy({ baseDelaySeconds: 5 });

    // Act
    const delay = backoffSeconds(0, base);

    // Assess
    expect(delay).toBe(5);
  });

  it('with jitter and random 0 waits half the delay, rounded up to a whole second', () => {
    // Prepare
    const jittered = policy({ jitter: true });

    // Act
    const delays = [1, 2, 3, 4].map((attempt) => backoffSeconds(attempt, jittered, () => 0));

    // Assess
    expect(delays).toEqual([1, 1, 2, 4]);
  });

  it('with jitter and random just below 1 waits the full delay', () => {
    // Prepare
    const jittered = policy({ jitter: true });

    // Act
    const delays = [1, 2, 3, 4].map((attempt) => backoffSeconds(attempt, jittered, () => 0.999_999));

    // Assess
    expect(delays).toEqual([1, 2, 4, 8]);
  });

  it('with jitter scales linearly between half and full delay', () => {
    // Prepare
    const jittered = policy({ baseDelaySeconds: 100, maxDelaySeconds: 1000, jitter: true });

    // Act
    const delay = backoffSeconds(1, jittered, () => 0.5);

    // Assess
    expect(delay).toBe(75);
  });

  it('keeps jittered delays whole and within [ceil(d/2), d] over the whole random range', () => {
    // Prepare
    const jittered = policy({ baseDelaySeconds: 1, maxDelaySeconds: 300, jitter: true });
    const randoms = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const outOfBounds: string[] = [];

    // Act
    for (let attempt = 1; attempt <= 12; attempt++) {
      const full = Math.min(300, 2 ** (attempt - 1));
      for (const r of randoms) {
        const delay = backoffSeconds(attempt, jittered, () => r);
        if (!Number.isInteger(delay) || delay < Math.ceil(full / 2) || delay > full) {
          outOfBounds.push(`attempt ${attempt}, random ${r}: ${delay}`);
        }
      }
    }

    // Assess
    expect(outOfBounds).toEqual([]);
  });

  it('applies jitter to the capped delay and never exceeds the cap', () => {
    // Prepare
    const jittered = policy({ baseDelaySeconds: 1, maxDelaySeconds: 300, jitter: true });

    // Act
    const low = backoffSeconds(20, jittered, () => 0);
    const high = backoffSeconds(20, jittered, () => 0.999_999);

    // Assess
    expect(low).toBe(150);
    expect(high).toBe(300);
  });

  it('does not call random when jitter is off', () => {
    // Prepare
    let calls = 0;
    const random = () => {
      calls++;
      return 0;
    };

    // Act
    const delay = backoffSeconds(3, policy({ jitter: false }), random);

    // Assess
    expect(delay).toBe(4);
    expect(calls).toBe(0);
  });

  it('rounds a fractional base delay up to whole seconds', () => {
    // Prepare
    const fractional = policy({ baseDelaySeconds: 0.3 });

    // Act
    const delays = [1, 2, 3, 4].map((attempt) => backoffSeconds(attempt, fractional));

    // Assess
    expect(delays).toEqual([1, 1, 2, 3]);
  });

  it('returns 0 for a zero base delay, with or without jitter', () => {
    // Prepare
    const zero = policy({ baseDelaySeconds: 0, maxDelaySeconds: 0 });

    // Act
    const plain = backoffSeconds(5, zero);
    const jittered = backoffSeconds(5, { ...zero, jitter: true }, () => 0.7);

    // Assess
    expect(plain).toBe(0);
    expect(jittered).toBe(0);
  });

  it('returns whole seconds even for a hand-made policy with a fractional cap', () => {
    // Prepare: resolveRetryPolicy refuses 1.5, but backoffSeconds must stay safe for SQS on its own.
    const handMade = { baseDelaySeconds: 1, maxDelaySeconds: 1.5, jitter: false };

    // Act
    const delay = backoffSeconds(2, handMade);

    // Assess
    expect(delay).toBe(1);
  });

  it('is rejected by resolveRetryPolicy when a delay is not a whole number of seconds', () => {
    // Act
    const act = () => resolveRetryPolicy({ baseDelaySeconds: 1, maxDelaySeconds: 1.5 });

    // Assess
    expect(act).toThrow(/^retryPolicy\.maxDelaySeconds: must be a whole number of seconds/);
  });
});

describe('Function: resolveRetryPolicy', () => {
  it('returns the defaults (1 s base, 300 s cap, jitter) when given nothing', () => {
    // Prepare
    const expected = { baseDelaySeconds: 1, maxDelaySeconds: 300, jitter: true };

    // Act
    const resolved = resolveRetryPolicy();
    const resolvedFromEmpty = resolveRetryPolicy({});

    // Assess
    expect(resolved).toEqual(expected);
    expect(resolvedFromEmpty).toEqual(expected);
    expect(resolved).not.toBe(DEFAULT_RETRY_POLICY);
  });

  it('overrides only the given fields', () => {
    // Prepare
    const options = { maxDelaySeconds: 60, jitter: false };

    // Act
    const resolved = resolveRetryPolicy(options);

    // Assess
    expect(resolved).toEqual({ baseDelaySeconds: 1, maxDelaySeconds: 60, jitter: false });
  });

  it('accepts the boundaries: base 0, cap equal to base, cap 43200', () => {
    // Prepare
    const boundaries = [
      { baseDelaySeconds: 0, maxDelaySeconds: 0 },
      { baseDelaySeconds: 7, maxDelaySeconds: 7 },
      { baseDelaySeconds: 1, maxDelaySeconds: 43_200 },
    ];

    // Act
    const resolved = boundaries.map((options) => resolveRetryPolicy(options));

    // Assess
    expect(resolved.map((p) => [p.baseDelaySeconds, p.maxDelaySeconds])).toEqual([
      [0, 0],
      [7, 7],
      [1, 43_200],
    ]);
  });

  it.each([
    [-1, 'retryPolicy.baseDelaySeconds: must be a whole number of seconds >= 0 (got -1)'],
    [Number.NaN, 'retryPolicy.baseDelaySeconds: must be a whole number of seconds >= 0 (got NaN)'],
    [Number.POSITIVE_INFINITY, 'retryPolicy.baseDelaySeconds: must be a whole number of seconds >= 0 (got Infinity)'],
  ])('rejects baseDelaySeconds %s with a ValidationError naming the field', (baseDelaySeconds, message) => {
    // Prepare
    const options = { baseDelaySeconds };

    // Act
    const error = thrownBy(() => resolveRetryPolicy(options));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('retryPolicy.baseDelaySeconds');
    expect((error as ValidationError).message).toBe(message);
  });

  it.each([
    [{ baseDelaySeconds: 10, maxDelaySeconds: 9 }, 'got 9'],
    [{ maxDelaySeconds: 43_201 }, 'got 43201'],
    [{ maxDelaySeconds: Number.NaN }, 'got NaN'],
    [{ baseDelaySeconds: 400 }, 'got 300'],
  ])('rejects %o with a ValidationError naming maxDelaySeconds', (options, got) => {
    // Prepare
    const expectedMessage = `retryPolicy.maxDelaySeconds: must be a whole number of seconds from baseDelaySeconds to 43200 (${got})`;

    // Act
    const error = thrownBy(() => resolveRetryPolicy(options));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('retryPolicy.maxDelaySeconds');
    expect((error as ValidationError).message).toBe(expectedMessage);
  });

  it('treats an explicitly undefined option as absent and uses its default', () => {
    // Prepare: Partial<RetryPolicy> allows undefined values (exactOptionalPropertyTypes is off), e.g. from optional config.
    const options: Partial<RetryPolicy> = { baseDelaySeconds: undefined, maxDelaySeconds: undefined, jitter: undefined };

    // Act
    const act = () => resolveRetryPolicy(options);

    // Assess
    expect(act).not.toThrow();
    expect(act()).toEqual({ baseDelaySeconds: 1, maxDelaySeconds: 300, jitter: true });
  });
});
