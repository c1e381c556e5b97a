/**
 * The `commandbus` CLI as people run it: the real executable in a child process, against the
 * deployed shape's HTTP API (--url and --token), its output read as a script would (--json, --ids)
 * and as a person would (tables), its exit codes checked.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CommandStatus, type Command } from '@commandbus/core';
import { registerRuntime } from '@commandbus/runtime/registry';
import { createScenario, target, type Scenario } from '../support/fixtures.ts';

const where = target();
const bin = new URL('../../packages/cli/bin/commandbus.mjs', import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

if (where.kind !== 'api' || where.auth.type !== 'bearer') {
  it.skip(`NOT RUN: the CLI suite needs the local runtime's bearer token (target: ${where.kind === 'api' ? where.where : where.kind})`, () => {});
} else {
  const { apiUrl, auth } = where;
  const viewerToken = where.scoped?.viewer.auth.type === 'bearer' ? where.scoped.viewer.auth.token : undefined;
  let home: string;
  const cli = (args: string[], options: { stdin?: string; token?: string; env?: Record<string, string> } = {}): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [bin, ...args],
        {
          env: { ...process.env, COMMANDBUS_HOME: home, COMMANDBUS_URL: apiUrl, COMMANDBUS_TOKEN: options.token ?? auth.token, NO_COLOR: '1', ...options.env },
          timeout: 60_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(options.stdin ?? '');
    });
  const json = <T>(run: Run): T => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as T;
  };

  let s: Scenario;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'commandbus-cli-'));
    s = await createScenario();
  });
  afterAll(async () => {
    await s.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  describe('commandbus CLI', () => {
    it('documents every subcommand in --help, and answers a wrong command line with exit code 2 and one line', async () => {
      const help = await cli(['--help']);
      expect(help.code).toBe(0);
      for (const subcommand of [
        'local',
        'serve',
        'console',
        'send',
        'get',
        'audit',
        'history',
        'ls',
        'counts',
        'stats',
        'shards',
        'tsq',
        'retry',
        'cancel',
        'complete',
        'edit',
        'redrive',
        'load',
      ]) {
        expect(help.stdout).toMatch(new RegExp(`^  ${subcommand}\\b`, 'm'));
      }
      expect(help.stdout).toContain('Exit codes');

      const missing = await cli(['send', 'test']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("missing required argument 'commandType'");
      expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^commandbus: .* \(see --help\)$/)]);

      const badJson = await cli(['send', 'test', 'TestCommand', '{not json']);
      expect(badJson.code).toBe(2);
      expect(badJson.stderr).toMatch(/data is not JSON/);
    });

    it('sends a command and shows it, its audit trail and its place in the listing', async () => {
      const commandId = randomUUID();
      const sent = json<{ commandId: string; status: string }>(await cli(['--json', 'send', 'test', 'TestCommand', '{"n":1}', '--id', commandId]));
      expect(sent.commandId).toBe(commandId);
      await s.waitForCompletion(commandId);

      const shown = json<Command>(await cli(['get', 'test', commandId, '--json']));
      expect(shown.status).toBe(CommandStatus.COMPLETED);
      const table = await cli(['get', 'test', commandId]);
      expect(table.stdout).toMatch(/^status\s+COMPLETED$/m);

      const audit = json<{ eventType: string }[]>(await cli(['--json', 'audit', 'test', commandId]));
      expect(audit.map((event) => event.eventType)).toEqual(['SENT', 'RECEIVED', 'COMPLETED']);

      const listed = await cli(['ls', 'test', '--limit', '200', '--ids']);
      expect(listed.code).toBe(0);
      expect(listed.stdout.split('\n')).toContain(commandId);

      // A correlation's commands, newest first; the stream's aggregates; the shard settings.
      const correlationId = `cli-${randomUUID()}`;
      const pair = [randomUUID(), randomUUID()];
      for (const id of pair) json(await cli(['send', 'test', 'TestCommand', '{}', '--id', id, '--correlation-id', correlationId, '--json']));
      const correlated = await cli([
        'ls',
        'test',
        '--correlation-id',
        correlationId,
        '--from',
        new Date(Date.now() - 600_000).toISOString(),
        '--limit',
        '10',
        '--ids',
      ]);
      expect(correlated.stdout.trim().split('\n')).toEqual([...pair].reverse());
      await expect
        .poll(
          async () =>
            json<{ totals: { sent: number } }>(await cli(['--json', 'stats', 'test', '--from', new Date(Date.now() - 600_000).toISOString()])).totals.sent,
          { timeout: 30_000 },
        )
        .toBeGreaterThanOrEqual(3);
      expect(json<{ writeShards: number; readShards: number }>(await cli(['--json', 'shards', 'get', 'test']))).toMatchObject({
        writeShards: expect.any(Number),
        readShards: expect.any(Number),
      });
    });

    it('finds parked commands by error code and retries them in bulk from stdin, cancels one with a reason', async () => {
      const errorCode = `CLI_${randomUUID().slice(0, 8).toUpperCase()}`;
      const sent = json<{ commandId: string }[]>(
        await cli(['send', 'test', 'TestCommand', JSON.stringify({ behavior: { type: 'fail_permanent', error_code: errorCode } }), '--count', '3', '--json']),
      );
      const ids = sent.map((result) => result.commandId);
      await Promise.all(ids.map((commandId) => s.waitForStatus(commandId, CommandStatus.IN_TSQ)));

      const parked = await cli(['tsq', 'ls', 'test', '--error-code', errorCode, '--ids']);
      expect(parked.stdout.trim().split('\n').sort()).toEqual([...ids].sort());
      const groups = json<{ errorCode: string; count: number }[]>(await cli(['--json', 'tsq', 'groups', 'test']));
      expect(groups.find((group) => group.errorCode === errorCode)?.count).toBe(3);

      const retried = await cli(['retry', 'test', '-'], { stdin: parked.stdout });
      expect(retried.code).toBe(0);
      expect(retried.stdout).toContain('retry: 3 done, 0 skipped, 0 failed of 3');
      // The payload still asks for a permanent failure: each is parked again.
      for (const commandId of ids) {
        await expect.poll(async () => (await s.auditTypes(commandId)).filter((type) => type === 'MOVED_TO_TSQ').length, { timeout: 30_000 }).toBe(2);
      }

      const cancelled = json<Command>(await cli(['--json', 'cancel', 'test', ids[0]!, '--reason', 'duplicate order']));
      expect(cancelled.status).toBe(CommandStatus.CANCELLED);
      const trail = json<{ eventType: string; details: Record<string, unknown> }[]>(await cli(['--json', 'audit', 'test', ids[0]!]));
      expect(trail.at(-1)).toMatchObject({ eventType: 'OPERATOR_CANCEL', details: { reason: 'duplicate order' } });

      // Retrying the cancelled one again is refused: exit 1 (bulk: something not done).
      const again = await cli(['retry', 'test', ids[0]!, ids[1]!]);
      expect(again.code).toBe(1);
      expect(again.stdout).toContain('1 done, 1 skipped');
    });

    it('acts on a whole filter as an operator job: a dry run first, then at a rate with progress; jobs ls|show|cancel', async () => {
      const errorCode = `CLI_JOB_${randomUUID().slice(0, 8).toUpperCase()}`;
      const sent = json<{ commandId: string }[]>(
        await cli(['send', 'test', 'TestCommand', JSON.stringify({ behavior: { type: 'fail_permanent', error_code: errorCode } }), '--count', '4', '--json']),
      );
      await Promise.all(sent.map(({ commandId }) => s.waitForStatus(commandId, CommandStatus.IN_TSQ)));

      const draft = json<{ jobId: string; status: string; dryRun: { count: number; exact: boolean; sample: { commandId: string }[] } }>(
        await cli(['--json', 'retry', 'test', '--error-code', errorCode, '--dry-run']),
      );
      expect(draft).toMatchObject({ status: 'DRAFT', dryRun: { count: 4, exact: true } });
      expect(draft.dryRun.sample.map((entry) => entry.commandId).sort()).toEqual(sent.map((result) => result.commandId).sort());
      expect(json<{ status: string }>(await cli(['--json', 'jobs', 'cancel', 'test', draft.jobId])).status).toBe('CANCELLED');

      const job = json<{ jobId: string; status: string; progress: { matched: number; done: number; skipped: number; failed: number } }>(
        await cli(['--json', 'cancel', 'test', '--error-code', errorCode, '--reason', 'bad batch', '--rate', '20']),
      );
      expect(job).toMatchObject({ status: 'COMPLETED', progress: { matched: 4, done: 4, skipped: 0, failed: 0 } });
      for (const { commandId } of sent) {
        const trail = json<{ eventType: string; details: Record<string, unknown> }[]>(await cli(['--json', 'audit', 'test', commandId]));
        expect(trail.at(-1)).toMatchObject({ eventType: 'OPERATOR_CANCEL', details: { reason: 'bad batch', jobId: job.jobId } });
      }
      const listed = json<{ items: { jobId: string }[] }>(await cli(['--json', 'jobs', 'ls', 'test']));
      expect(listed.items.map((item) => item.jobId)).toEqual(expect.arrayContaining([job.jobId, draft.jobId]));
      const shown = await cli(['jobs', 'show', 'test', job.jobId]);
      expect(shown.stdout).toMatch(/progress\s+4 listed: 4 done, 0 skipped, 0 failed/);

      const both = await cli(['retry', 'test', sent[0]!.commandId, '--error-code', errorCode]);
      expect(both.code).toBe(2);
    });

    it('edits a parked payload and retries it (history shows before and after), and completes another with a result', async () => {
      const own = { behavior: { type: 'fail_permanent', error_code: 'CLI_EDIT' } };
      const [edited, completed] = json<{ commandId: string }[]>(await cli(['send', 'test', 'TestCommand', JSON.stringify(own), '--count', '2', '--json']));
      await s.waitForStatus(edited!.commandId, CommandStatus.IN_TSQ);
      await s.waitForStatus(completed!.commandId, CommandStatus.IN_TSQ);

      json(await cli(['--json', 'edit', 'test', edited!.commandId, '{"amount":5}']));
      await s.waitForCompletion(edited!.commandId);
      const history = json<{ editNumber: number; before: unknown; after: unknown; operator: string }[]>(
        await cli(['--json', 'history', 'test', edited!.commandId]),
      );
      expect(history).toMatchObject([{ editNumber: 1, before: own, after: { amount: 5 } }]);

      const done = json<{ status: string; result: unknown }>(await cli(['--json', 'complete', 'test', completed!.commandId, '--result', '{"refunded":true}']));
      expect(done).toMatchObject({ status: 'COMPLETED', result: { refunded: true } });
      const badResult = await cli(['complete', 'test', completed!.commandId, '--result', '{oops']);
      expect(badResult.code).toBe(2);
    });

    it('says "not found" with exit code 4, and a refusal of the viewer with exit code 1', async () => {
      const unknown = await cli(['get', 'test', randomUUID()]);
      expect(unknown.code).toBe(4);
      expect(unknown.stderr.trim().split('\n')).toHaveLength(1);

      if (viewerToken) {
        const refused = await cli(['cancel', 'test', randomUUID(), '--reason', 'x'], { token: viewerToken });
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/403.*may not do this/);
      }
    });

    it('load: sends a mix, waits until each command has ended as its behaviour says, and reports it; exit 0 only when all are accounted for', async () => {
      // Transient failures in concurrent batches: each retried message must stay in the queue (a
      // shared batch processor once let one invocation's answer delete another's retried message).
      const run = await cli([
        'load',
        '--count',
        '80',
        '--concurrency',
        '16',
        '--mix',
        'success=50,fail_transient_then_succeed=40,fail_permanent=10',
        '--stall-timeout',
        '60',
        '--no-report',
        '--json',
      ]);
      const report = json<{
        ok: boolean;
        sent: number;
        finalStatus: { counts: Record<string, number>; expected: Record<string, number>; unaccountedCount: number };
        retries: number;
        latencyMs: { all: { count: number; p50: number; p99: number } };
        memoryMb: { load: { maxMb: number } };
      }>(run);
      expect(report).toMatchObject({
        ok: true,
        sent: 80,
        finalStatus: { counts: { COMPLETED: 72, IN_TSQ: 8 }, expected: { COMPLETED: 72, IN_TSQ: 8 }, unaccountedCount: 0 },
      });
      expect(report.retries).toBe(32);
      expect(report.latencyMs.all.count).toBe(80);
      expect(report.latencyMs.all.p99).toBeGreaterThanOrEqual(report.latencyMs.all.p50);
      expect(report.memoryMb.load.maxMb).toBeGreaterThan(0);

      const bad = await cli(['load', '--mix', 'success=50,explode=1']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('"explode" is not a behaviour of the test app');
    });

    it('signs with SigV4 from the standard credential chain (the --stack path): the audit records the signing identity; a wrong secret is refused', async () => {
      const signer = where.signer;
      expect(signer, 'the local runtime of e2e-api accepts one SigV4 key pair').toBeDefined();
      const env = { AWS_ACCESS_KEY_ID: signer!.accessKeyId, AWS_SECRET_ACCESS_KEY: signer!.secretAccessKey, AWS_REGION: signer!.region, COMMANDBUS_TOKEN: '' };
      const errorCode = `CLI_SIGNED_${randomUUID().slice(0, 8).toUpperCase()}`;
      const sent = json<{ commandId: string }>(
        await cli(
          [
            '--url',
            apiUrl,
            '--sigv4',
            '--json',
            'send',
            'test',
            'TestCommand',
            JSON.stringify({ behavior: { type: 'fail_permanent', error_code: errorCode } }),
          ],
          { env },
        ),
      );
      await s.waitForStatus(sent.commandId, CommandStatus.IN_TSQ);
      json(await cli(['--url', apiUrl, '--sigv4', '--json', 'cancel', 'test', sent.commandId, '--reason', 'signed'], { env }));
      const trail = json<{ eventType: string; details: Record<string, unknown> }[]>(await cli(['--json', 'audit', 'test', sent.commandId]));
      expect(trail.at(-1)).toMatchObject({ eventType: 'OPERATOR_CANCEL', details: { operator: signer!.operator, reason: 'signed' } });

      const forged = await cli(['--url', apiUrl, '--sigv4', 'get', 'test', sent.commandId], { env: { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
      expect(forged.code).toBe(1);
      expect(forged.stderr).toMatch(/403.*signature does not match/);
    });

    it('serve: starts the embedded stack, is found without flags while it runs, and is forgotten when it stops; console: prints a one-time link', async () => {
      const env = { ...process.env, COMMANDBUS_HOME: home, COMMANDBUS_URL: '', COMMANDBUS_TOKEN: '', NO_COLOR: '1' };
      const serve = spawn(process.execPath, [bin, 'serve', '--port', '0', '--namespace', `cli-${randomUUID().slice(0, 6)}`, '--domains', 'test'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let printed = '';
      serve.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      serve.stderr.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      try {
        await expect.poll(() => printed, { timeout: 90_000 }).toContain('Ctrl-C stops everything');
        const commandId = randomUUID();
        json(await cli(['--json', 'send', 'test', 'TestCommand', '{"via":"serve"}', '--id', commandId], { env: { COMMANDBUS_URL: '', COMMANDBUS_TOKEN: '' } }));
        await expect
          .poll(async () => (await cli(['--json', 'get', 'test', commandId], { env: { COMMANDBUS_URL: '', COMMANDBUS_TOKEN: '' } })).stdout, {
            timeout: 30_000,
          })
          .toContain('"COMPLETED"');

        // The native redrive: the TSQ queue's copy goes back to the commands queue, and the worker
        // takes it as an operator retry by `sqs-redrive`.
        const own = { env: { COMMANDBUS_URL: '', COMMANDBUS_TOKEN: '' } };
        const parkedId = randomUUID();
        json(
          await cli(
            ['--json', 'send', 'test', 'TestCommand', JSON.stringify({ behavior: { type: 'fail_permanent', error_code: 'CLI_REDRIVE' } }), '--id', parkedId],
            own,
          ),
        );
        await expect.poll(async () => (await cli(['--json', 'get', 'test', parkedId], own)).stdout, { timeout: 30_000 }).toContain('"IN_TSQ"');
        expect(json<{ taskHandle: string }>(await cli(['--json', 'redrive', 'test'], own)).taskHandle).toEqual(expect.any(String));
        await expect
          .poll(
            async () =>
              json<{ eventType: string; details: Record<string, unknown> }[]>(await cli(['--json', 'audit', 'test', parkedId], own)).some(
                (event) => event.eventType === 'OPERATOR_RETRY' && event.details.operator === 'sqs-redrive',
              ),
            { timeout: 60_000 },
          )
          .toBe(true);
        expect(json<unknown[]>(await cli(['--json', 'redrive', 'test', '--status'], own)).length).toBeGreaterThan(0);

        const consoleProcess = spawn(process.execPath, [bin, 'console'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let consoleOut = '';
        consoleProcess.stdout.on('data', (chunk: Buffer) => (consoleOut += chunk.toString()));
        try {
          await expect.poll(() => consoleOut, { timeout: 60_000 }).toMatch(/open http:\/\/127\.0\.0\.1:\d+\/\?session=\S+/);
          const link = /open (http:\/\/127\.0\.0\.1:\d+\/\?session=\S+)/.exec(consoleOut)![1]!;
          const first = await fetch(link, { redirect: 'manual' });
          expect(first.status).toBe(302);
          expect(first.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
          expect((await fetch(link, { redirect: 'manual' })).status).toBe(403);
        } finally {
          consoleProcess.kill('SIGINT');
        }
      } finally {
        serve.kill('SIGINT');
        await new Promise((resolve) => serve.once('exit', resolve));
      }
      const after = await cli(['ls', 'test'], { env: { COMMANDBUS_URL: '', COMMANDBUS_TOKEN: '' } });
      expect(after.code).toBe(3);
    });

    it('finds the local runtime without flags, and says clearly when there is none', async () => {
      const none = await cli(['ls', 'test'], { env: { COMMANDBUS_URL: '', COMMANDBUS_TOKEN: '' } });
      expect(none.code).toBe(3);
      expect(none.stderr).toContain('commandbus serve');

      const awsEnv = inject('awsEnv');
      const unregister = registerRuntime(
        {
          apiUrl,
          token: auth.token,
          namespace: where.namespace,
          domains: ['test'],
          region: awsEnv.AWS_REGION ?? 'us-east-1',
          sqsEndpoint: awsEnv.AWS_ENDPOINT_URL_SQS ?? '',
          dynamodbEndpoint: awsEnv.AWS_ENDPOINT_URL_DYNAMODB ?? '',
          pid: process.pid,
          startedAt: new Date().toISOString(),
        },
        { COMMANDBUS_HOME: home },
      );
      try {
        const found = await cli(['counts', 'test', '--json'], { env: { COMMANDBUS_URL: '', COMMANDBUS_TOKEN: '' } });
        expect(json<{ domain: string }>(found).domain).toBe('test');
        // The native redrive goes to SQS itself; its status is read from the TSQ queue of the domain.
        const status = await cli(['redrive', 'test', '--status', '--json'], { env: { COMMANDBUS_URL: '', COMMANDBUS_TOKEN: '' } });
        expect(Array.isArray(json<unknown[]>(status))).toBe(true);
        const noQueue = await cli(['redrive', 'nosuchdomain', '--status'], { env: { COMMANDBUS_URL: '', COMMANDBUS_TOKEN: '' } });
        expect(noQueue.code).toBe(4);
      } finally {
        unregister();
      }
    });
  });
}
