/**
 * Where a running local runtime (`commandbus serve`) says how to reach it, so the CLI and the
 * console find it without flags: one JSON file per runtime in `<home>/runtimes/`, readable by the
 * user only (it holds the bearer token), removed when the runtime stops. A file whose process is
 * gone (killed with SIGKILL) is ignored and cleaned up by the next reader.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readEnvironment } from '@commandbus/core';

export interface RuntimeRecord {
  /** The HTTP API's base URL (127.0.0.1). */
  apiUrl: string;
  /** Full-access bearer token. */
  token: string;
  namespace: string;
  domains: string[];
  region: string;
  /** The embedded AWS endpoints, for what the API does not offer (the native SQS redrive). */
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  /** With `serve --meter`: where the wire meter's counts are read (same bearer token). */
  meterUrl?: string;
  pid: number;
  startedAt: string;
}

/** `COMMANDBUS_HOME`, else `~/.commandbus`. */
export function commandbusHome(env: NodeJS.ProcessEnv = process.env): string {
  return readEnvironment(env, ['home']).home ?? join(homedir(), '.commandbus');
}

function runtimesDir(env: NodeJS.ProcessEnv): string {
  return join(commandbusHome(env), 'runtimes');
}

/** Records a runtime; returns a function that removes the record again. */
export function registerRuntime(record: RuntimeRecord, env: NodeJS.ProcessEnv = process.env): () => void {
  const dir = runtimesDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${record.pid}.json`);
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/** The runtimes that are still running, newest first. */
export function runningRuntimes(env: NodeJS.ProcessEnv = process.env): RuntimeRecord[] {
  const dir = runtimesDir(env);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const records: RuntimeRecord[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let record: RuntimeRecord;
    try {
      record = JSON.parse(readFileSync(file, 'utf8')) as RuntimeRecord;
    } catch {
      continue; // being written, or not ours
    }
    if (isAlive(record.pid)) records.push(record);
    else rmSync(file, { force: true });
  }
  return records.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
