/**
 * `npm run serve`: the deployed shape on this machine — the embedded AWS, the worker Lambda behind
 * SQS event source mappings, and the API Lambda behind an HTTP API on 127.0.0.1 (token required).
 * A failure is one line on stderr and exit code 1, with nothing left running.
 */
import { parseArgs } from 'node:util';
import { PortInUseError, assertPortFree, startLocalStack } from '@commandbus/local';
import { CliUsageError, listOption, portOption, runCli } from '@commandbus/local/cli-support';
import { DEFAULT_NAMESPACE } from '@commandbus/core/resources';

const USAGE = `usage: npm run serve -- [options]

Runs the embedded AWS, the worker Lambda behind SQS event source mappings and the API Lambda
behind an HTTP API on 127.0.0.1, until Ctrl-C.

options:
  --port <n>             HTTP API port on 127.0.0.1 (default 3000; 0: any free port)
  --namespace <ns>       resource name prefix (default commandbus)
  --domains <a,b>        domains to create queues and workers for (default test)
  --token <token>        bearer token the API requires (default: a random one, printed)
  --dynamodb-port <n>    DynamoDB Local port on 127.0.0.1 (default 0: any free port)
  --sqs-port <n>         SQS port on 127.0.0.1 (default 0: any free port)
  -h, --help             show this help
`;

await runCli(
  'commandbus serve',
  async () => {
    const { values } = parseArgs({
      options: {
        port: { type: 'string', default: '3000' },
        namespace: { type: 'string', default: DEFAULT_NAMESPACE },
        domains: { type: 'string', default: 'test' },
        token: { type: 'string' },
        'dynamodb-port': { type: 'string', default: '0' },
        'sqs-port': { type: 'string', default: '0' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return;
    }
    const port = portOption(values.port, '--port');
    const domains = listOption(values.domains, '--domains');
    const dynamodbPort = portOption(values['dynamodb-port'], '--dynamodb-port');
    const sqsPort = portOption(values['sqs-port'], '--sqs-port');
    if (values.token !== undefined && values.token.trim() === '') throw new CliUsageError('--token must not be empty');
    // Before starting a JVM: the HTTP API binds last, so a busy port would otherwise fail late.
    if (port) await assertPortFree(port, ['127.0.0.1'], 'http');

    // Loaded after parsing so --help and bad flags answer at once.
    const { startLocalRuntime } = await import('@commandbus/runtime');
    // Started here, not by the runtime, so that a failure below can still stop it.
    const stack = await startLocalStack({ dynamodbPort, sqsPort });
    let runtime: Awaited<ReturnType<typeof startLocalRuntime>>;
    try {
      runtime = await startLocalRuntime({
        stack,
        port,
        namespace: values.namespace,
        domains,
        ...(values.token ? { token: values.token } : {}),
        onError: (error) => console.error('worker:', error),
      });
    } catch (error) {
      await stack.stop();
      // The HTTP API binds last: its port can still be lost to a race after the check above.
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(port, '127.0.0.1', 'http');
      throw error;
    }
    const url = runtime.apiUrl;
    console.log(`commandbus local runtime — namespace ${runtime.namespace}, domains ${domains.join(',')}
  HTTP API      ${url}   (every route needs: Authorization: Bearer ${runtime.token})
  OpenAPI       ${url}/openapi.json
  DynamoDB      ${runtime.env.AWS_ENDPOINT_URL_DYNAMODB}
  SQS           ${runtime.env.AWS_ENDPOINT_URL_SQS}

try:
  curl -s -H 'Authorization: Bearer ${runtime.token}' -H 'content-type: application/json' \\
       -d '{"domain":"test","commandType":"TestCommand","commandId":"'$(uuidgen 2>/dev/null || cat /proc/sys/kernel/random/uuid)'","data":{"hello":"world"}}' ${url}/commands
  curl -s -H 'Authorization: Bearer ${runtime.token}' '${url}/commands?domain=test'

Ctrl-C stops everything.`);

    let stopping = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (stopping) return;
        stopping = true;
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
