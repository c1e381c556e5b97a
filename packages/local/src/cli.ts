/**
 * `commandbus local` (and the repository's `npm run local`): run the local stack in the foreground:
 *
 *   tsx packages/local/src/cli.ts [--namespace commandbus] [--domains a,b] [--region us-east-1]
 *                                 [--dynamodb-port 0] [--sqs-port 0]
 *
 * Prints `export K=V` lines for the AWS SDK (so `eval "$(...)"`-style use works; progress goes to
 * stderr) and stays up until SIGINT/SIGTERM. A failure is one line on stderr and exit code 1.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listOption, portOption, runCli } from './cliSupport.ts';
import { DEFAULT_NAMESPACE } from '@commandbus/core/resources';
import { startLocalStack } from './index.ts';

const PROGRAM = 'commandbus local';
const usage = (invocation: string) => `usage: ${invocation} [options]

Starts the embedded AWS (DynamoDB Local on 127.0.0.1, fauxqs SQS), creates the table and queues,
prints \`export AWS_...\` lines for the AWS SDK on stdout and runs until Ctrl-C.

options:
  --namespace <ns>       resource name prefix (default commandbus)
  --domains <a,b>        domains to create queues for (default test)
  --region <region>      AWS region the clients use (default us-east-1)
  --dynamodb-port <n>    DynamoDB Local port on 127.0.0.1 (default 0: any free port)
  --sqs-port <n>         SQS port on 127.0.0.1 (default 0: any free port)
  -h, --help             show this help
`;

/** Runs until SIGINT/SIGTERM (then exits 0); a failure is one line on stderr and exit 1. */
export async function localCli(argv: string[], options: { invocation?: string } = {}): Promise<void> {
  await runCli(
    PROGRAM,
    async () => {
      const { values } = parseArgs({
        args: argv,
        options: {
          namespace: { type: 'string', default: DEFAULT_NAMESPACE },
          domains: { type: 'string', default: 'test' },
          region: { type: 'string', default: 'us-east-1' },
          'dynamodb-port': { type: 'string', default: '0' },
          'sqs-port': { type: 'string', default: '0' },
          help: { type: 'boolean', short: 'h', default: false },
        },
        strict: true,
      });
      if (values.help) {
        process.stdout.write(usage(options.invocation ?? PROGRAM));
        return;
      }
      const domains = listOption(values.domains, '--domains');
      const dynamodbPort = portOption(values['dynamodb-port'], '--dynamodb-port');
      const sqsPort = portOption(values['sqs-port'], '--sqs-port');
      const log = { info: (msg: string) => process.stderr.write(`[commandbus-local] ${msg}\n`) };

      // Stops whatever it started itself when it fails.
      const stack = await startLocalStack({ region: values.region, dynamodbPort, sqsPort, logger: log });
      let queueUrls: Record<string, string>;
      try {
        ({ queueUrls } = await stack.provision(values.namespace, domains));
      } catch (error) {
        await stack.stop();
        throw error;
      }
      for (const [key, value] of Object.entries(stack.env())) process.stdout.write(`export ${key}=${value}\n`);
      for (const [name, url] of Object.entries(queueUrls)) log.info(`queue ${name}: ${url}`);
      log.info('ready; Ctrl+C to stop');

      let stopping = false;
      const shutdown = (signal: NodeJS.Signals): void => {
        if (stopping) return;
        stopping = true;
        log.info(`${signal}: stopping`);
        stack.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            process.stderr.write(`${PROGRAM}: stop failed: ${error instanceof Error ? error.message : String(error)}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    },
    { dynamodb: '--dynamodb-port', sqs: '--sqs-port' },
  );
}

// Run as a script (`npm run local`): the arguments are this process's.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await localCli(process.argv.slice(2), { invocation: 'npm run local --' });
}
