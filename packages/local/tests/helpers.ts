/** Test helpers for the local stack: TCP probes, a stand-in DynamoDB, process checks, CLI runs. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** True if something accepts TCP connections on host:port (false on refusal or after timeoutMs). */
export function accepts(port: number, host = '127.0.0.1', timeoutMs = 3_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** This machine's addresses other than loopback and link-local (which needs a scope to dial). */
export function nonLoopbackAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && !a.address.toLowerCase().startsWith('fe80'))
    .map((a) => a!.address);
}

/** Proof that `host` is dialable from here at all: a throwaway listener on it accepts a connection. */
export async function reachable(host: string): Promise<boolean> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  try {
    return await accepts((server.address() as AddressInfo).port, host);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Another process's "DynamoDB" on a port: answers every request as ListTables would. Whoever
 * mistakes it for their own DynamoDB Local reports ready.
 */
export async function startImpostorDynamoDb(host = '127.0.0.1', port = 0): Promise<{ port: number; server: HttpServer; close(): Promise<void> }> {
  const server = createHttpServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end('{"TableNames":[]}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Linux: pids of DynamoDB Local JVMs started with `-port <port>` (any launcher). */
export function dynamoDbJvmsOnPort(port: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    const i = args.indexOf('-port');
    if (i > 0 && args[i + 1] === String(port) && args.some((a) => a.includes('DynamoDBLocal'))) pids.push(Number(entry));
  }
  return pids;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `<script> ...args` under tsx, as one process (`node --import tsx`, not the tsx CLI, whose
 * extra parent would orphan the script if a timeout killed it), from the repository root with
 * this Node. Resolves when it exits;
 * `onOutput` sees the output so far and may act (e.g. send SIGTERM once it is up). Killed after
 * timeoutMs, which fails the run.
 */
export function runScript(
  script: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onOutput?: (run: CliRun, signal: (s: NodeJS.Signals) => void) => void } = {},
): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    env: { ...process.env, COMMANDBUS_DEBUG: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: CliRun = { code: null, signal: null, stdout: '', stderr: '' };
  const signal = (s: NodeJS.Signals): void => void child.kill(s);
  const seen = (): void => options.onOutput?.(run, signal);
  child.stdout.on('data', (chunk: Buffer) => {
    run.stdout += chunk.toString();
    seen();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString();
    seen();
  });
  const timeoutMs = options.timeoutMs ?? 45_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} still running after ${timeoutMs} ms\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      run.code = code;
      run.signal = sig;
      resolve(run);
    });
  });
}

/** A stack trace's frames, as Node prints them. */
export const STACK_FRAME = /^\s+at\s/m;
