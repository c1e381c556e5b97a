import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { HandlerRegistry } from '../../src/HandlerRegistry.ts';
import { resolveWorkerOptions, type WorkerOptions } from '../../src/Worker.ts';

const registry = new HandlerRegistry();

function options(overrides: Partial<WorkerOptions> = {}): WorkerOptions {
  return { domain: 'payments', registry, ...overrides };
}

function validationErrorOf(act: () => unknown): ValidationError {
  try {
    act();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw new Error(`expected a ValidationError, got ${String(error)}`);
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('Function: resolveWorkerOptions', () => {
  it('applies the defaults: concurrency 10, visibility 30 s, handler timeout 24 s, long poll 20 s', () => {
    // Prepare
    const input = options();

    // Act
    const resolved = resolveWorkerOptions(input);

    // Assess
    expect(resolved).toEqual({ concurrency: 10, visibilityTimeout: 30, handlerTimeoutMs: 24_000, waitTimeSeconds: 20, sweepIntervalSeconds: 300 });
  });

  it.each([
    [1, 800],
    [45, 36_000],
    [43_200, 34_560_000],
  ])('defaults handlerTimeoutMs to 80%% of a %i s visibility timeout (%i ms)', (visibilityTimeout, handlerTimeoutMs) => {
    // Prepare
    const input = options({ visibilityTimeout });

    // Act
    const resolved = resolveWorkerOptions(input);

    // Assess
    expect(resolved.handlerTimeoutMs).toBe(handlerTimeoutMs);
  });

  it('keeps explicit values, including an explicit handlerTimeoutMs', () => {
    // Prepare
    const input = options({ concurrency: 4, visibilityTimeout: 60, handlerTimeoutMs: 5_000, waitTimeSeconds: 5 });

    // Act
    const resolved = resolveWorkerOptions(input);

    // Assess
    expect(resolved).toMatchObject({ concurrency: 4, visibilityTimeout: 60, handlerTimeoutMs: 5_000, waitTimeSeconds: 5 });
  });

  it('accepts every boundary value', () => {
    // Prepare
    const lowest = options({ concurrency: 1, visibilityTimeout: 1, handlerTimeoutMs: 1, waitTimeSeconds: 1 });
    const highest = options({ concurrency: 1000, visibilityTimeout: 43_200, handlerTimeoutMs: 43_200_000, waitTimeSeconds: 20 });

    // Act
    const low = resolveWorkerOptions(lowest);
    const high = resolveWorkerOptions(highest);

    // Assess
    expect(low).toMatchObject({ concurrency: 1, visibilityTimeout: 1, handlerTimeoutMs: 1, waitTimeSeconds: 1 });
    expect(high).toMatchObject({ concurrency: 1000, visibilityTimeout: 43_200, handlerTimeoutMs: 43_200_000, waitTimeSeconds: 20 });
  });

  it.each([
    ['concurrency', 0, 'concurrency: must be an integer from 1 to 1000 (got 0)'],
    ['concurrency', 1001, 'concurrency: must be an integer from 1 to 1000 (got 1001)'],
    ['concurrency', 2.5, 'concurrency: must be an integer from 1 to 1000 (got 2.5)'],
    ['visibilityTimeout', 0, 'visibilityTimeout: must be an integer from 1 to 43200 (got 0)'],
    ['visibilityTimeout', 43_201, 'visibilityTimeout: must be an integer from 1 to 43200 (got 43201)'],
    ['visibilityTimeout', 1.5, 'visibilityTimeout: must be an integer from 1 to 43200 (got 1.5)'],
    ['handlerTimeoutMs', 0, 'handlerTimeoutMs: must be an integer from 1 to 43200000 (got 0)'],
    ['handlerTimeoutMs', 43_200_001, 'handlerTimeoutMs: must be an integer from 1 to 43200000 (got 43200001)'],
    ['waitTimeSeconds', 0, 'waitTimeSeconds: must be an integer from 1 to 20 (got 0)'],
    ['waitTimeSeconds', 21, 'waitTimeSeconds: must be an integer from 1 to 20 (got 21)'],
    ['waitTimeSeconds', Number.NaN, 'waitTimeSeconds: must be an integer from 1 to 20 (got NaN)'],
  ] as const)('rejects %s = %s with a message naming the option and its range', (name, value, message) => {
    // Prepare
    const input = options({ [name]: value });

    // Act
    const error = validationErrorOf(() => resolveWorkerOptions(input));

    // Assess
    expect(error.field).toBe(name);
    expect(error.message).toBe(message);
  });

  it('rejects an invalid domain, naming it', () => {
    // Prepare
    const input = options({ domain: 'pay ments' });

    // Act
    const error = validationErrorOf(() => resolveWorkerOptions(input));

    // Assess
    expect(error.field).toBe('domain');
  });

  it('requires a registry', () => {
    // Prepare
    const input = { domain: 'payments' } as unknown as WorkerOptions;

    // Act
    const error = validationErrorOf(() => resolveWorkerOptions(input));

    // Assess
    expect(error.field).toBe('registry');
    expect(error.message).toBe('registry: is required (a HandlerRegistry)');
  });
});
