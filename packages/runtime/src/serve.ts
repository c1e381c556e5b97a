/**
 * `commandbus serve` (and the repository's `npm run serve`): the deployed shape on this machine — the
 * embedded AWS, the worker Lambda behind SQS event source mappings, and the API Lambda behind an HTTP
 * API on 127.0.0.1 (token required). The worker runs your HandlerRegistry (--worker); in the
 * repository, by default, the E2E test app. A failure is one line on stderr and exit code 1, with
 * nothing left running.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { HandlerRegistry } from '@commandbus/core';
import type { Scope } from '@commandbus/core/scopes';
import { PortInUseError, assertPortFree, startLocalStack } from '@commandbus/local';
import { CliUsageError, listOption, portOption, runCli } from '@commandbus/local/cli-support';
import { DEFAULT_NAMESPACE } from '@commandbus/core/resources';

const usage = (invocation: string) => `usage: ${invocation} [options]

Runs the embedded AWS, the worker Lambda behind SQS event source mappings and the API Lambda
behind an HTTP API on 127.0.0.1, until Ctrl-C.

options:
  --port <n>             HTTP API port on 127.0.0.1 (default 3000; 0: any free port)
  --namespace <ns>       resource name prefix (default commandbus)
  --domains <a,b>        domains to create queues and workers for (default test)
  --worker <module>      your worker: a module (.js; .ts under tsx) whose export \`registry\` is a
                         HandlerRegistry, run by createWorkerHandler of @commandbus/lambda (default,
                         in the commandbus repository only: the E2E test app)
  --token <token>        bearer token the API requires (default: a random one, printed); full access
  --viewer-token <token> also accept this token, read-only on every domain (403 on send and operator actions)
  --tokens <file.json>   also accept the tokens of this file: [{ "token", "operator", "scope" }], a scope
                         as { "read": ["payments"] | "*", "send": …, "operate": { "domains": …,
                         "actions": ["retry","cancel","complete","edit-and-retry","bulk"] | "*" } } (README, "Who may do what")
  --meter                count every AWS request the functions and the event source mappings make, priced
                         as AWS bills them (\`commandbus load\` reports it); adds a local proxy hop
  --dynamodb-port <n>    DynamoDB Local port on 127.0.0.1 (default 0: any free port)
  --sqs-port <n>         SQS port on 127.0.0.1 (default 0: any free port)
  -h, --help             show this help
`;

export interface ServeOptions {
  /** How the usage line names the command (default `commandbus serve`). */
  invocation?: string;
}

/**
 * `commandbus serve [options]`: runs until SIGINT/SIGTERM (then exits 0); a failure is one line on
 * stderr and exit 1, a missing worker exit 2, with nothing left running.
 */
export async function serve(argv: string[], options: ServeOptions = {}): Promise<void> {
  await runCli(
    'commandbus serve',
    async () => {
      const { values } = parseArgs({
        args: argv,
        options: {
          port: { type: 'string', default: '3000' },
          namespace: { type: 'string', default: DEFAULT_NAMESPACE },
          domains: { type: 'string', default: 'test' },
          worker: { type: 'string' },
          token: { type: 'string' },
          'viewer-token': { type: 'string' },
          tokens: { type: 'string' },
          meter: { type: 'boolean', default: false },
          'dynamodb-port': { type: 'string', default: '0' },
          'sqs-port': { type: 'string', default: '0' },
          help: { type: 'boolean', short: 'h', default: false },
        },
        strict: true,
      });
      if (values.help) {
        process.stdout.write(usage(options.invocation ?? 'commandbus serve'));
        return;
      }
      const port = portOption(values.port, '--port');
      const domains = listOption(values.domains, '--domains');
      const dynamodbPort = portOption(values['dynamodb-port'], '--dynamodb-port');
      const sqsPort = portOption(values['sqs-port'], '--sqs-port');
      if (values.token !== undefined && values.token.trim() === '') throw new CliUsageError('--token must not be empty');
      const tokens = scopedTokens(values['viewer-token'], values.tokens);
      // Loaded after parsing so --help and bad flags answer at once.
      const { startLocalRuntime, testWorkerAvailable } = await import('./startLocalRuntime.ts');
      const registry = values.worker === undefined ? undefined : await loadWorker(values.worker);
      if (registry === undefined && !testWorkerAvailable()) {
        process.stderr.write('commandbus serve: --worker <module> is needed: a module whose export `registry` is your HandlerRegistry\n');
        process.exit(2);
      }
      // Before starting a JVM: the HTTP API binds last, so a busy port would otherwise fail late.
      if (port) await assertPortFree(port, ['127.0.0.1'], 'http');

      // Started here, not by the runtime, so that a failure below can still stop it.
      const stack = await startLocalStack({ dynamodbPort, sqsPort });
      let runtime: Awaited<ReturnType<typeof startLocalRuntime>>;
      try {
        runtime = await startLocalRuntime({
          stack,
          port,
          namespace: values.namespace,
          domains,
          ...(registry ? { registry } : {}),
          ...(values.token ? { token: values.token } : {}),
          ...(tokens.length > 0 ? { tokens } : {}),
          meter: values.meter,
          onError: (error) => console.error('worker:', error),
        });
      } catch (error) {
        await stack.stop();
        // The HTTP API binds last: its port can still be lost to a race after the check above.
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(port, '127.0.0.1', 'http');
        throw error;
      }
      const url = runtime.apiUrl;
      // How the CLI and the console find this runtime without flags (removed again on stop).
      const { registerRuntime } = await import('./registry.ts');
      const meterUrl = runtime.meter ? await runtime.meter.serveSnapshots(runtime.token) : undefined;
      const unregister = registerRuntime({
        apiUrl: url,
        token: runtime.token,
        namespace: runtime.namespace,
        domains,
        region: stack.region,
        sqsEndpoint: runtime.env.AWS_ENDPOINT_URL_SQS!,
        dynamodbEndpoint: runtime.env.AWS_ENDPOINT_URL_DYNAMODB!,
        ...(meterUrl ? { meterUrl } : {}),
        pid: process.pid,
        startedAt: new Date().toISOString(),
      });
      console.log(`commandbus local runtime — namespace ${runtime.namespace}, domains ${domains.join(',')}
  HTTP API      ${url}   (every route needs: Authorization: Bearer ${runtime.token})
${tokens.map(({ token, operator, scope }) => `  scoped token  ${token}   as ${operator}: ${JSON.stringify(scope)}\n`).join('')}  OpenAPI       ${url}/openapi.json
  DynamoDB      ${runtime.env.AWS_ENDPOINT_URL_DYNAMODB}
  SQS           ${runtime.env.AWS_ENDPOINT_URL_SQS}

try:
  curl -s -H 'Authorization: Bearer ${runtime.token}' -H 'content-type: application/json' \\
       -d '{"domain":"${domains[0]}","commandType":"${registry ? 'YourCommand' : 'TestCommand'}","commandId":"'$(uuidgen 2>/dev/null || cat /proc/sys/kernel/random/uuid)'","data":{"hello":"world"}}' ${url}/commands
  curl -s -H 'Authorization: Bearer ${runtime.token}' '${url}/commands?domain=${domains[0]}'

Ctrl-C stops everything.`);

      let stopping = false;
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.on(signal, () => {
          if (stopping) return;
          stopping = true;
          unregister();
          // The runtime does not stop a stack it was given.
          void runtime
            .stop()
            .then(() => stack.stop())
            .then(
              () => process.exit(0),
              (error: unknown) => {
                console.error(`commandbus serve: stop failed: ${error instanceof Error ? error.message : String(error)}`);
                process.exit(1);
              },
            );
        });
      }
    },
    { http: '--port', dynamodb: '--dynamodb-port', sqs: '--sqs-port' },
  );
}

/** The `registry` export of the user's worker module (a path, relative to the working directory). */
async function loadWorker(module: string): Promise<HandlerRegistry> {
  const file = path.resolve(module);
  if (!existsSync(file)) throw new CliUsageError(`--worker ${module}: no such file`);
  let exports: { registry?: unknown };
  try {
    exports = (await import(pathToFileURL(file).href)) as { registry?: unknown };
  } catch (error) {
    const hint = file.endsWith('.ts') ? ' (a .ts worker needs tsx: compile it, or run under tsx)' : '';
    throw new CliUsageError(`--worker ${module}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}${hint}`);
  }
  const registry = exports.registry as HandlerRegistry | undefined;
  if (typeof registry?.register !== 'function' || typeof registry.get !== 'function' || typeof registry.entries !== 'function') {
    throw new CliUsageError(
      `--worker ${module}: its export \`registry\` must be a HandlerRegistry (export const registry = new HandlerRegistry().register(…))`,
    );
  }
  return registry;
}

/** The scoped tokens of --viewer-token and --tokens, checked enough to fail at once on a typo. */
function scopedTokens(viewerToken: string | undefined, file: string | undefined): { token: string; operator: string; scope: Scope }[] {
  const tokens: { token: string; operator: string; scope: Scope }[] = [];
  if (viewerToken !== undefined) {
    if (viewerToken.trim() === '') throw new CliUsageError('--viewer-token must not be empty');
    tokens.push({ token: viewerToken, operator: 'arn:aws:iam::000000000000:user/local-viewer', scope: { read: '*' } });
  }
  if (file !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new CliUsageError(`--tokens ${file}: ${(error as Error).message}`);
    }
    const domains = (value: unknown) => value === undefined || value === '*' || (Array.isArray(value) && value.every((d) => typeof d === 'string'));
    if (!Array.isArray(parsed)) throw new CliUsageError(`--tokens ${file}: must hold a JSON array of { token, operator, scope }`);
    for (const [index, entry] of parsed.entries()) {
      const { token, operator, scope } = (entry ?? {}) as { token?: unknown; operator?: unknown; scope?: Scope };
      const valid =
        typeof token === 'string' &&
        token.trim() !== '' &&
        typeof operator === 'string' &&
        operator !== '' &&
        typeof scope === 'object' &&
        scope !== null &&
        domains(scope.read) &&
        domains(scope.send) &&
        domains(scope.admin) &&
        (scope.operate === undefined || (domains(scope.operate.domains) && (scope.operate.actions === '*' || Array.isArray(scope.operate.actions))));
      if (!valid)
        throw new CliUsageError(
          `--tokens ${file}: entry ${index} must be { "token": "…", "operator": "…", "scope": { "read"?, "send"?, "operate"?, "admin"? } }`,
        );
      tokens.push({ token, operator, scope: scope! });
    }
  }
  return tokens;
}
