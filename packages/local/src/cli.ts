/**
 * Run the local stack in the foreground:
 *
 *   tsx packages/local/src/cli.ts [--namespace commandbus] [--domains a,b] [--region us-east-1]
 *                                 [--dynamodb-port 0] [--sqs-port 0]
 *
 * Prints `export K=V` lines for the AWS SDK (so `eval "$(...)"`-style use works; progress goes to
 * stderr) and stays up until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startLocalStack } from './index.ts';

const { values } = parseArgs({
  options: {
    namespace: { type: 'string', default: 'commandbus' },
    domains: { type: 'string', default: 'test' },
    region: { type: 'string', default: 'us-east-1' },
    'dynamodb-port': { type: 'string', default: '0' },
    'sqs-port': { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(
    'usage: commandbus-local [--namespace ns] [--domains a,b] [--region r] [--dynamodb-port n] [--sqs-port n]\n',
  );
  process.exit(0);
}

const domains = values.domains
  .split(',')
  .map((d) => d.trim())
  .filter(Boolean);
const log = { info: (msg: string) => process.stderr.write(`[commandbus-local] ${msg}\n`) };

const stack = await startLocalStack({
  region: values.region,
  dynamodbPort: Number(values['dynamodb-port']),
  sqsPort: Number(values['sqs-port']),
  logger: log,
});

const { queueUrls } = await stack.provision(values.namespace, domains);
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
    (err: unknown) => {
      log.info(`stop failed: ${String(err)}`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
