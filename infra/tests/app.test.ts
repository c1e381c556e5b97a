/** The repository's CDK app (infra/bin/app.ts): the worker comes from context, and a wrong context is one line. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs the app as `cdk synth` would (context through CDK_CONTEXT_JSON), bundling skipped. */
function runApp(context: Record<string, string>) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-app-'));
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'infra/bin/app.ts'], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_CONTEXT_JSON: JSON.stringify({ ...context, 'aws:cdk:bundling-stacks': [] }),
      CDK_OUTDIR: outdir,
    },
  });
  return { status: result.status, stderr: result.stderr.trim(), outdir };
}

describe('the CDK app', () => {
  it('needs your worker: no workerEntry is one line naming the context key, exit 1', () => {
    const { status, stderr } = runApp({ domains: 'orders' });

    expect(status).toBe(1);
    expect(stderr).toBe('cdk app: context workerEntry is required: npx cdk deploy -c workerEntry=src/worker.ts (README, "Deploying to AWS")');
  });

  it('says which file is missing, and what the construct refuses, in one line', () => {
    expect(runApp({ domains: 'orders', workerEntry: 'src/nope.ts' }).stderr).toBe('cdk app: context workerEntry: no file at src/nope.ts');
    const refused = runApp({ domains: 'or ders', workerEntry: 'functions/testWorker.ts' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe('cdk app: CommandBus: domain "or ders": a name is 1–64 letters, digits, "_" or "-"');
    expect(runApp({ domains: 'orders', workerEntry: 'functions/testWorker.ts', apiKind: 'grpc' }).stderr).toBe(
      'cdk app: context apiKind must be "http" or "rest" (got grpc)',
    );
  });

  it('synthesizes with the worker and domains it is given', () => {
    const { status, stderr, outdir } = runApp({ domains: 'orders,payments', workerEntry: 'functions/testWorker.ts' });

    expect(stderr).not.toMatch(/error/i);
    expect(status).toBe(0);
    const template = JSON.parse(readFileSync(path.join(outdir, 'CommandBus.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { QueueName?: string } }>;
    };
    const queues = Object.values(template.Resources).flatMap((resource) => (resource.Type === 'AWS::SQS::Queue' ? [resource.Properties.QueueName] : []));
    expect(queues).toEqual(expect.arrayContaining(['commandbus-orders-commands', 'commandbus-payments-tsq']));
  }, 60_000);
});
