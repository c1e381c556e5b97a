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

/**
 * How the commandbus CLI and console find a bus in a deployed stack (`commandbus --stack <name>`):
 * the CDK construct writes one output per bus whose description starts with this, and whose value is
 * a BusDiscovery as JSON.
 */
export const DISCOVERY_OUTPUT_PREFIX = 'commandbus bus';

/** What the discovery output holds: enough to reach the API (signed) and name the queues. */
export interface BusDiscovery {
  v: 1;
  apiUrl: string;
  namespace: string;
  domains: string[];
  partition: string;
  region: string;
  account: string;
}
