import { describe, expect, it } from 'vitest';
import { FunctionTimeoutError, invoke } from '../../src/lambdaContext.ts';

const options = { functionName: 'fn', timeoutMs: 50, region: 'us-east-1' };

describe('Function: invoke', () => {
  it('returns what the handler returns, with a context counting down from the timeout', async () => {
    // Act
    const result = await invoke(async (event: number, context) => ({ doubled: event * 2, remaining: context.getRemainingTimeInMillis() }), 21, options);

    // Assess
    expect(result.doubled).toBe(42);
    expect(result.remaining).toBeGreaterThan(0);
    expect(result.remaining).toBeLessThanOrEqual(50);
  });

  it('fails at the function timeout, and says when the handler that ran on has really stopped', async () => {
    // Prepare
    let finished = false;
    const slow = () =>
      new Promise<string>((resolve) =>
        setTimeout(() => {
          finished = true;
          resolve('late');
        }, 150),
      );

    // Act
    const error = await invoke(slow, undefined, options).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(FunctionTimeoutError);
    expect((error as Error).message).toBe('Task timed out after 0.05 seconds (fn)');
    expect(finished).toBe(false);
    await (error as FunctionTimeoutError).settled;
    expect(finished).toBe(true);
  });
});
