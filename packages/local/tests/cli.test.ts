/**
 * The command-line entry points (`npm run local` → packages/local/src/cli.ts, `npm run serve` →
 * scripts/serve.ts), run as child processes: failures are one clear line and exit code 1, never a
 * stack trace, and leave nothing running.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_FRAME, accepts, dynamoDbJvmsOnPort, runScript, startImpostorDynamoDb, type CliRun } from './helpers.ts';

const LOCAL = 'packages/local/src/cli.ts';
const SERVE = 'scripts/serve.ts';

/** Exit 1 with exactly one line on stderr, no stack trace, nothing on stdout. */
function expectOneLineFailure(run: CliRun, program: string, message: RegExp): void {
  expect(run.stderr).not.toMatch(STACK_FRAME);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(new RegExp(`^${program}: `));
  expect(run.stderr).toMatch(message);
  expect(run.stdout).toBe('');
  expect(run.code).toBe(1);
}

describe('--help', () => {
  it.each([
    [SERVE, /usage: npm run serve[\s\S]*--port <n>[\s\S]*--dynamodb-port/],
    [LOCAL, /usage: npm run local[\s\S]*--dynamodb-port <n>[\s\S]*--sqs-port/],
  ])('%s --help prints usage and exits 0', async (script, usage) => {
    const run = await runScript(script, ['--help']);
    expect(run.stdout).toMatch(usage);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});

describe('bad flags', () => {
  it.each([
    [SERVE, ['--bogus'], 'commandbus serve', /Unknown option '--bogus' \(see --help\)/],
    [SERVE, ['--port', 'abc'], 'commandbus serve', /--port must be a port number from 0 to 65535.*"abc"/],
    [SERVE, ['--port', '70000'], 'commandbus serve', /--port must be a port number/],
    [SERVE, ['--domains', ' , '], 'commandbus serve', /--domains needs at least one name/],
    [SERVE, ['--worker', 'no-such-worker.js'], 'commandbus serve', /--worker no-such-worker\.js: no such file/],
    [SERVE, ['--worker', 'package.json'], 'commandbus serve', /--worker package\.json: .*/],
    [LOCAL, ['--nope'], 'commandbus local', /Unknown option '--nope'/],
    [LOCAL, ['--dynamodb-port', '-1'], 'commandbus local', /'--dynamodb-port' argument is ambiguous\..*\(see --help\)/],
    [LOCAL, ['--dynamodb-port=-1'], 'commandbus local', /--dynamodb-port must be a port number/],
    [LOCAL, ['--sqs-port', '1.5'], 'commandbus local', /--sqs-port must be a port number/],
  ])('%s %j: one line, exit 1', async (script, args, program, message) => {
    expectOneLineFailure(await runScript(script, args), program, message);
  });
});

describe('busy ports', () => {
  let blocker: Server;
  let busy: number;

  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    busy = (blocker.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  // serve's HTTP API defaults to port 3000, which may be taken on a shared machine: --port 0.
  it.each([
    [SERVE, '--port', [], 'commandbus serve', 'HTTP API'],
    [SERVE, '--sqs-port', ['--port', '0'], 'commandbus serve', 'SQS \\(fauxqs\\)'],
    [SERVE, '--dynamodb-port', ['--port', '0'], 'commandbus serve', 'DynamoDB Local'],
    [LOCAL, '--sqs-port', [], 'commandbus local', 'SQS \\(fauxqs\\)'],
  ])('%s %s <busy>: names the port and the flag, exit 1', async (script, flag, extra, program, service) => {
    const run = await runScript(script, [flag, String(busy), ...extra]);
    expectOneLineFailure(
      run,
      program,
      new RegExp(`${service} port ${busy} is already in use on 127\\.0\\.0\\.1 \\(choose another with ${flag}, or ${flag} 0 for any free port\\)`),
    );
  });

  it('local --dynamodb-port <port of another DynamoDB>: refuses instead of provisioning into it', async () => {
    // The outside testers' case: another process answers ListTables on the port, so a readiness
    // probe alone says "ready" while our own JVM failed to bind.
    const other = await startImpostorDynamoDb();
    try {
      const run = await runScript(LOCAL, ['--dynamodb-port', String(other.port)]);
      expect(run.stderr).not.toMatch(/ready;|provisioned/);
      expectOneLineFailure(run, 'commandbus local', new RegExp(`DynamoDB Local port ${other.port} is already in use on 127\\.0\\.0\\.1`));
      expect(dynamoDbJvmsOnPort(other.port)).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

describe('missing Java', () => {
  it.each([
    [LOCAL, [], 'commandbus local'],
    [SERVE, ['--port', '0'], 'commandbus serve'],
  ])('%s prints only the JavaNotFoundError message, exit 1', async (script, args, program) => {
    const run = await runScript(script, args, { env: { PATH: '/nonexistent' } });
    expectOneLineFailure(run, program, /DynamoDB Local needs Java 17 or newer on PATH \(found: no `java` executable on PATH\)\. Install a JDK/);
  });
});

describe('a failure after the stack is up', () => {
  it('stops DynamoDB Local and fauxqs, prints one line and exits 1', async () => {
    // An invalid table name: DynamoDB Local rejects CreateTable after both emulators started.
    const run = await runScript(LOCAL, ['--namespace', 'bad name!']);
    const up = /DynamoDB Local http:\/\/127\.0\.0\.1:(\d+) ready in \d+ ms.*fauxqs http:\/\/127\.0\.0\.1:(\d+)\)/.exec(run.stderr);
    expect(up, run.stderr).not.toBeNull();
    const failure = run.stderr.split('\n').filter((line) => line && !line.startsWith('[commandbus-local]'));
    expect(failure).toEqual([expect.stringMatching(/^commandbus local: ValidationException: Invalid table\/index name/)]);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(run.code).toBe(1);
    const [ddbPort, sqsPort] = [Number(up![1]), Number(up![2])];
    expect(await accepts(ddbPort)).toBe(false);
    expect(await accepts(sqsPort)).toBe(false);
    expect(dynamoDbJvmsOnPort(ddbPort)).toEqual([]);
  });
});

describe('serve, when it works', () => {
  it('serves the HTTP API and stops everything on SIGTERM with exit 0', async () => {
    let api: { url: string; token: string; dynamodb: string } | undefined;
    let checked: Promise<number> | undefined;
    const run = await runScript(SERVE, ['--port', '0'], {
      timeoutMs: 60_000,
      onOutput: (soFar, signal) => {
        const url = /HTTP API\s+(http:\/\/127\.0\.0\.1:\d+)\s+\(every route needs: Authorization: Bearer (\w+)\)/.exec(soFar.stdout);
        const ddb = /DynamoDB\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(soFar.stdout);
        if (!url || !ddb || checked !== undefined) return;
        api = { url: url[1]!, token: url[2]!, dynamodb: ddb[1]! };
        checked = fetch(`${api.url}/openapi.json`, { headers: { authorization: `Bearer ${api.token}` } })
          .then((response) => response.status)
          .finally(() => signal('SIGTERM'));
      },
    });
    expect(await checked).toBe(200);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(run.code).toBe(0);
    const ddbPort = Number(new URL(api!.dynamodb).port);
    expect(await accepts(ddbPort)).toBe(false);
    expect(dynamoDbJvmsOnPort(ddbPort)).toEqual([]);
  });
});
