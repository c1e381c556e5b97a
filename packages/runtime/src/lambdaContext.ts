import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** A Lambda Context whose remaining time counts down from the function timeout. */
export function lambdaContext(functionName: string, timeoutMs: number, region: string): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export class FunctionTimeoutError extends Error {
  /**
   * Settles when the timed-out handler really stops. Lambda would kill it; here it runs on, so a
   * caller that models one execution environment waits for this before reusing it.
   */
  readonly settled: Promise<unknown>;
  constructor(functionName: string, timeoutMs: number, settled: Promise<unknown>) {
    super(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds (${functionName})`);
    this.name = 'FunctionTimeoutError';
    this.settled = settled;
  }
}

/** Invokes `handler` as Lambda would: the invocation fails when it outlives the function timeout. */
export async function invoke<E, R>(
  handler: (event: E, context: Context) => Promise<R>,
  event: E,
  options: { functionName: string; timeoutMs: number; region: string },
): Promise<R> {
  const context = lambdaContext(options.functionName, options.timeoutMs, options.region);
  let timer: NodeJS.Timeout | undefined;
  const running = handler(event, context);
  const settled = running.then(
    () => undefined,
    () => undefined,
  );
  try {
    return await Promise.race([
      running,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new FunctionTimeoutError(options.functionName, options.timeoutMs, settled)), options.timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
