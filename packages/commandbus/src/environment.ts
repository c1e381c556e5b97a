/**
 * Every COMMANDBUS_* variable the bus reads, read here and nowhere else. Code configuration always
 * wins; the environment fills in what code left open (and is how the stack configures its Lambdas).
 */
export interface CommandBusEnvironment {
  /** COMMANDBUS_NAMESPACE: prefix of table and queue names. */
  namespace?: string;
  /** COMMANDBUS_TABLE: the commands table's name, when it is not `<namespace>-commands`. */
  tableName?: string;
  /** COMMANDBUS_QUEUE_URLS: JSON object of queue name → URL (saves GetQueueUrl calls). */
  queueUrls?: Record<string, string>;
  /** COMMANDBUS_DOMAINS: comma-separated domains (the TSQ sweeper's). */
  domains?: string[];
  /** COMMANDBUS_RETRY_BASE_SECONDS / COMMANDBUS_RETRY_MAX_SECONDS: the retry policy. */
  retryBaseSeconds?: number;
  retryMaxSeconds?: number;
  /**
   * COMMANDBUS_RETRY_POLICIES: per domain, JSON `{ "<domain>": { "maxAttempts": 5, "baseDelaySeconds": 2,
   * "maxDelaySeconds": 600 } }` (each field optional; the CDK construct's per-domain retryPolicy). The
   * worker backs off by it; a send that names no maxAttempts gets the domain's.
   */
  retryPolicies?: Record<string, DomainRetrySettings>;
  /** COMMANDBUS_LOG_LEVEL: debug, info, warn (default) or error, for the console logger. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** COMMANDBUS_METRICS: `emf` makes a Worker print its metrics as EMF JSON lines on stdout (default: none). */
  metrics?: 'emf';
  /** COMMANDBUS_DEBUG: the command-line tools print stack traces. */
  debug?: boolean;
  /** COMMANDBUS_HOME: where local runtimes record how to reach them (default ~/.commandbus). */
  home?: string;
  /** COMMANDBUS_URL / COMMANDBUS_TOKEN: the CLI's target API and its bearer token. */
  url?: string;
  token?: string;
  /** COMMANDBUS_STACK: the CLI's target, a deployed stack's CloudFormation name. */
  stack?: string;
  /**
   * COMMANDBUS_UNVERIFIED_CALLER=sigv4-access-key: the API Lambda behind LocalStack's free image only
   * (which names no caller) records the access key a request's signature claims, marked unverified
   * (functions/restEvent.ts; the stack's `unverifiedCaller`).
   */
  unverifiedCaller?: 'sigv4-access-key';
}

/** One domain's retry settings, as COMMANDBUS_RETRY_POLICIES gives them. */
export interface DomainRetrySettings {
  maxAttempts?: number;
  baseDelaySeconds?: number;
  maxDelaySeconds?: number;
}

/** Reads the variables (`only` those asked for, so a malformed one nobody needs cannot fail a start). */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env, only?: readonly (keyof CommandBusEnvironment)[]): CommandBusEnvironment {
  const wanted = (key: keyof CommandBusEnvironment) => only === undefined || only.includes(key);
  const text = (name: string) => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const number = (name: string) => {
    const value = text(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new Error(`${name} must be a number (got ${JSON.stringify(value)})`);
    return parsed;
  };
  const result: CommandBusEnvironment = {};
  const namespace = text('COMMANDBUS_NAMESPACE');
  if (namespace !== undefined) result.namespace = namespace;
  const tableName = text('COMMANDBUS_TABLE');
  if (tableName !== undefined) result.tableName = tableName;
  const queueUrls = wanted('queueUrls') ? text('COMMANDBUS_QUEUE_URLS') : undefined;
  if (queueUrls !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(queueUrls);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((url) => typeof url === 'string')) {
      throw new Error('COMMANDBUS_QUEUE_URLS must be a JSON object of queue name → URL');
    }
    result.queueUrls = parsed as Record<string, string>;
  }
  const domains = text('COMMANDBUS_DOMAINS');
  if (domains !== undefined)
    result.domains = domains
      .split(',')
      .map((domain) => domain.trim())
      .filter(Boolean);
  const retryBaseSeconds = wanted('retryBaseSeconds') ? number('COMMANDBUS_RETRY_BASE_SECONDS') : undefined;
  if (retryBaseSeconds !== undefined) result.retryBaseSeconds = retryBaseSeconds;
  const retryMaxSeconds = wanted('retryMaxSeconds') ? number('COMMANDBUS_RETRY_MAX_SECONDS') : undefined;
  if (retryMaxSeconds !== undefined) result.retryMaxSeconds = retryMaxSeconds;
  const retryPolicies = wanted('retryPolicies') ? text('COMMANDBUS_RETRY_POLICIES') : undefined;
  if (retryPolicies !== undefined) result.retryPolicies = parseRetryPolicies(retryPolicies);
  const logLevel = text('COMMANDBUS_LOG_LEVEL');
  if (logLevel === 'debug' || logLevel === 'info' || logLevel === 'warn' || logLevel === 'error') result.logLevel = logLevel;
  const metrics = text('COMMANDBUS_METRICS');
  if (metrics === 'emf') result.metrics = metrics;
  if (text('COMMANDBUS_DEBUG') !== undefined) result.debug = true;
  const unverifiedCaller = wanted('unverifiedCaller') ? text('COMMANDBUS_UNVERIFIED_CALLER') : undefined;
  if (unverifiedCaller !== undefined) {
    if (unverifiedCaller !== 'sigv4-access-key')
      throw new Error(`COMMANDBUS_UNVERIFIED_CALLER must be sigv4-access-key (got ${JSON.stringify(unverifiedCaller)})`);
    result.unverifiedCaller = unverifiedCaller;
  }
  for (const [key, name] of [
    ['home', 'COMMANDBUS_HOME'],
    ['url', 'COMMANDBUS_URL'],
    ['token', 'COMMANDBUS_TOKEN'],
    ['stack', 'COMMANDBUS_STACK'],
  ] as const) {
    const value = text(name);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

function parseRetryPolicies(text: string): Record<string, DomainRetrySettings> {
  const problem = 'COMMANDBUS_RETRY_POLICIES must be a JSON object of domain → { maxAttempts?, baseDelaySeconds?, maxDelaySeconds? } (whole numbers)';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(problem);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(problem);
  const fields = new Set(['maxAttempts', 'baseDelaySeconds', 'maxDelaySeconds']);
  for (const settings of Object.values(parsed)) {
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new Error(problem);
    for (const [field, value] of Object.entries(settings)) {
      if (!fields.has(field) || !Number.isInteger(value) || (value as number) < 0) throw new Error(`${problem}; got ${field}: ${JSON.stringify(value)}`);
    }
  }
  return parsed as Record<string, DomainRetrySettings>;
}
