/**
 * DynamoDB Local supervision: the readiness check proves it is talking to our own JVM, and the
 * JVM listens on 127.0.0.1 only, whichever launcher runs it (with the loud plain-jar fallback).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal, type RunningDynamoDb } from '../src/dynamoDbLocal.ts';
import { resolveLauncher } from '../src/loopbackLauncher.ts';
import { PortInUseError } from '../src/ports.ts';
import { dynamoDbLocalDir } from '../src/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { accepts, dynamoDbJvmsOnPort, nonLoopbackAddresses, reachable, runScript, startImpostorDynamoDb } from './helpers.ts';

const linux = process.platform === 'linux';
const external = nonLoopbackAddresses();
const jar = path.join(dynamoDbLocalDir(), 'DynamoDBLocal.jar');
/** Said in the test names, so a machine without other addresses cannot pass these silently. */
const checked = external.length ? `checked on ${external.join(', ')}` : 'NO non-loopback address on this machine: only 127.0.0.1 checked';

/** Asserts DynamoDB Local answers on 127.0.0.1 and is (or is not) reachable on every other address. */
async function expectExposure(ddb: RunningDynamoDb, exposed: boolean): Promise<void> {
  expect(await accepts(ddb.port, '127.0.0.1')).toBe(true);
  for (const address of external) {
    expect(await reachable(address), `${address} must be dialable from here for this check to mean anything`).toBe(true);
    expect(await accepts(ddb.port, address), `DynamoDB Local on ${address}:${ddb.port}`).toBe(exposed);
  }
}

describe('readiness proves it is our JVM', () => {
  it.runIf(linux)('another DynamoDB answering on the port (taken after the free-port check) is a PortInUseError, and our JVM is gone', async () => {
    const other = await startImpostorDynamoDb();
    try {
      // checkPortFree: false simulates losing the race between the check and the JVM's bind.
      const start = startDynamoDbLocal({ port: other.port, region: 'us-east-1', checkPortFree: false });
      await expect(start).rejects.toBeInstanceOf(PortInUseError);
      await expect(start).rejects.toThrow(`DynamoDB Local port ${other.port} is already in use on 127.0.0.1`);
      expect(dynamoDbJvmsOnPort(other.port)).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

describe('watchdog', () => {
  it.runIf(linux)('a JVM left SIGSTOPped (fault injection) still dies when its Node process is SIGKILLed', async () => {
    let jvm: { pid: number; port: number } | undefined;
    const run = await runScript('packages/local/tests/fixtures/holdStack.ts', [], {
      onOutput: (soFar, signal) => {
        const line = /^\{.*\}$/m.exec(soFar.stdout);
        if (!line || jvm) return;
        jvm = JSON.parse(line[0]) as { pid: number; port: number };
        process.kill(jvm.pid, 'SIGSTOP');
        signal('SIGKILL'); // no exit handler runs: only the watchdog can clean up
      },
    });
    expect(run.signal).toBe('SIGKILL');
    expect(jvm?.pid).toEqual(expect.any(Number));
    const deadline = Date.now() + 15_000;
    while (dynamoDbJvmsOnPort(jvm!.port).length > 0 && Date.now() < deadline) await sleep(100);
    const left = dynamoDbJvmsOnPort(jvm!.port);
    for (const pid of left) process.kill(pid, 'SIGKILL'); // never leave one behind, even on failure
    expect(left).toEqual([]);
  });
});

describe('launchers', () => {
  const started: RunningDynamoDb[] = [];
  const scratch = mkdtempSync(path.join(tmpdir(), 'commandbus-launcher-'));
  afterAll(async () => {
    await Promise.all(started.map((ddb) => ddb.stop()));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('compiles the launcher once into the cache and reuses it', async () => {
    const cacheDirs = [path.join(scratch, 'cache')];
    const first = await resolveLauncher(jar, { cacheDirs });
    expect(first).toEqual({ mode: 'compiled', classDir: expect.stringContaining(cacheDirs[0]!) });
    // A fresh resolution (other options object) finds the class without compiling again.
    const again = await resolveLauncher(jar, { cacheDirs, sourceLauncher: true });
    expect(again).toEqual(first);
  });

  it(`falls back to the single-file source launcher without javac, still on 127.0.0.1 only (${checked})`, async () => {
    const launcher = { javac: false as const }; // as if javac were missing and nothing cached
    expect(await resolveLauncher(jar, launcher)).toMatchObject({ mode: 'source' });
    const t0 = performance.now();
    const ddb = await startDynamoDbLocal({ port: 0, region: 'us-east-1', launcher });
    started.push(ddb);
    console.info(`source-launcher start: ${Math.round(performance.now() - t0)} ms`);
    expect(ddb.loopbackOnly).toBe(true);
    await expectExposure(ddb, false);
  });

  it(`with neither javac nor jdk.compiler: the plain jar on every interface, with a warning naming the port and the fix (${checked})`, async () => {
    const warnings: string[] = [];
    const ddb = await startDynamoDbLocal({
      port: 0,
      region: 'us-east-1',
      launcher: { javac: false, sourceLauncher: false },
      warn: (message) => warnings.push(message),
    });
    started.push(ddb);
    expect(ddb.loopbackOnly).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/listens on ALL network interfaces/);
    expect(warnings[0]).toMatch(new RegExp(`port ${ddb.port}\\b`));
    expect(warnings[0]).toMatch(/apt-get install openjdk-17-jdk-headless/);
    // The exposure the loopback launcher prevents, seen by the same check the loopback tests use.
    await expectExposure(ddb, true);
  });

  it.runIf(linux)('the plain jar also refuses a port another DynamoDB answers on', async () => {
    const other = await startImpostorDynamoDb();
    try {
      const start = startDynamoDbLocal({
        port: other.port,
        region: 'us-east-1',
        launcher: { javac: false, sourceLauncher: false },
        checkPortFree: false,
        warn: () => {},
      });
      await expect(start).rejects.toBeInstanceOf(PortInUseError);
      expect(dynamoDbJvmsOnPort(other.port)).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
