import { ValidationError } from '../errors.ts';

/** Exponential backoff with jitter, applied by delaying the redelivery (never by sleeping). */
export interface RetryPolicy {
  /** Delay before the 2nd attempt; doubles for each later attempt. SQS counts whole seconds. Default 1. */
  baseDelaySeconds: number;
  /** Upper bound for one delay. Default 300 (SQS allows up to 43,200). */
  maxDelaySeconds: number;
  /** Spread delays over [d/2, d] so failures from one outage do not return in lockstep. Default true. */
  jitter: boolean;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelaySeconds: 1, maxDelaySeconds: 300, jitter: true };

export function resolveRetryPolicy(options: Partial<RetryPolicy> = {}): RetryPolicy {
  // An option given as undefined means "the default", as everywhere else.
  const policy: RetryPolicy = {
    baseDelaySeconds: options.baseDelaySeconds ?? DEFAULT_RETRY_POLICY.baseDelaySeconds,
    maxDelaySeconds: options.maxDelaySeconds ?? DEFAULT_RETRY_POLICY.maxDelaySeconds,
    jitter: options.jitter ?? DEFAULT_RETRY_POLICY.jitter,
  };
  // SQS visibility is set in whole seconds.
  if (!Number.isInteger(policy.baseDelaySeconds) || policy.baseDelaySeconds < 0) {
    throw new ValidationError('retryPolicy.baseDelaySeconds', `must be a whole number of seconds >= 0 (got ${policy.baseDelaySeconds})`);
  }
  if (!Number.isInteger(policy.maxDelaySeconds) || policy.maxDelaySeconds < policy.baseDelaySeconds || policy.maxDelaySeconds > 43_200) {
    throw new ValidationError(
      'retryPolicy.maxDelaySeconds',
      `must be a whole number of seconds from baseDelaySeconds to 43200 (got ${policy.maxDelaySeconds})`,
    );
  }
  return policy;
}

/** Whole seconds to wait before the attempt after `failedAttempt` (1-based). */
export function backoffSeconds(failedAttempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = policy.baseDelaySeconds * 2 ** Math.max(0, failedAttempt - 1);
  const capped = Math.min(policy.maxDelaySeconds, exponential);
  const delay = policy.jitter ? capped / 2 + random() * (capped / 2) : capped;
  return Math.min(Math.floor(policy.maxDelaySeconds), Math.ceil(delay));
}
