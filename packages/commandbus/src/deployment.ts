/**
 * How the functions run, shared by the CDK stack and the local Lambda runtime so both behave alike.
 */
export const DEPLOYMENT_DEFAULTS = {
  workerTimeoutSeconds: 30,
  /** Each commands queue's visibility timeout is this many times the worker timeout. */
  visibilityTimeoutFactor: 6,
  batchSize: 10,
  batchingWindowSeconds: 1,
  /** Event source MaximumConcurrency per domain (AWS allows 2–1000). */
  maxConcurrency: 5,
  apiTimeoutSeconds: 10,
} as const;
