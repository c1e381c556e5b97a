/**
 * What the CLI talks to. In order: a deployed stack named by --stack (its ApiUrl output, calls
 * signed with SigV4 from the standard credential chain), an API named by --url (a `serve` here or
 * elsewhere, with --token), else the local runtime `commandbus serve` recorded when it started.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CommandBusClient } from '@commandbus/client';
import { DISCOVERY_OUTPUT_PREFIX, readEnvironment, resourceNames, type BusDiscovery } from '@commandbus/core';
import type { RuntimeRecord } from '@commandbus/runtime/registry';
import { CliError, ExitCode, isMissingPackage } from './output.ts';

export interface TargetOptions {
  stack?: string;
  url?: string;
  token?: string;
  /** With --url: sign every call with SigV4 (standard credential chain) instead of a bearer token. */
  sigv4?: boolean;
  region?: string;
}

/** How to reach the SQS queues behind the API, for the native redrive (which the API does not offer). */
export interface QueueAccess {
  region: string;
  /** The embedded SQS, with its fixed credentials; absent for AWS (the standard credential chain). */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Queue ARNs by domain, when the stack's outputs list them. */
  queueArns?: Record<string, { commands: string; tsq: string }>;
  namespace?: string;
}

export interface Target {
  client: CommandBusClient;
  /** One line naming the target, for messages. */
  description: string;
  queues?: QueueAccess;
  /** The domains it serves, when known (the local runtime's, the stack's queues). */
  domains?: string[];
  /** A local runtime on this machine: its process, and its wire meter when started with --meter. */
  local?: { pid: number; token: string; meterUrl?: string };
}

export async function resolveTarget(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const fromEnv = readEnvironment(env, ['url', 'token', 'stack']);
  const stack = options.stack ?? (options.url ? undefined : fromEnv.stack);
  if (stack !== undefined) return stackTarget(stack, options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION);

  const url = options.url ?? fromEnv.url;
  const token = options.token ?? fromEnv.token;
  const runtimes = await localRuntimes(env);
  if (url !== undefined && options.sigv4) {
    const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (region === undefined) throw new CliError('--sigv4 needs a region: pass --region or set AWS_REGION', ExitCode.Usage);
    return { client: new CommandBusClient({ baseUrl: url, auth: { type: 'sigv4', region } }), description: `${url} (SigV4, ${region})` };
  }
  if (url !== undefined) {
    const runtime = runtimes.find((candidate) => sameUrl(candidate.apiUrl, url));
    const bearer = token ?? runtime?.token;
    if (bearer === undefined) {
      throw new CliError(`--url ${url} needs a token: pass --token (or COMMANDBUS_TOKEN), the one \`commandbus serve\` printed`, ExitCode.Usage);
    }
    return {
      client: new CommandBusClient({ baseUrl: url, auth: { type: 'bearer', token: bearer } }),
      description: url,
      ...(runtime ? { queues: localQueues(runtime), local: localProcess(runtime), domains: runtime.domains } : {}),
    };
  }
  if (runtimes.length === 0) {
    throw new CliError(
      'no commandbus to talk to: start one with `commandbus serve` (the embedded stack), or pass --url and --token, or --stack <name> for a deployed stack',
      ExitCode.NoTarget,
    );
  }
  if (runtimes.length > 1) {
    throw new CliError(
      `${runtimes.length} local runtimes are running (${runtimes.map((runtime) => runtime.apiUrl).join(', ')}): choose one with --url`,
      ExitCode.Usage,
    );
  }
  const runtime = runtimes[0]!;
  return {
    client: new CommandBusClient({ baseUrl: runtime.apiUrl, auth: { type: 'bearer', token: token ?? runtime.token } }),
    description: `the local runtime at ${runtime.apiUrl}`,
    queues: localQueues(runtime),
    local: localProcess(runtime),
    domains: runtime.domains,
  };
}

function localProcess(runtime: RuntimeRecord): NonNullable<Target['local']> {
  return { pid: runtime.pid, token: runtime.token, ...(runtime.meterUrl ? { meterUrl: runtime.meterUrl } : {}) };
}

function localQueues(runtime: { region: string; sqsEndpoint: string; namespace: string }): QueueAccess {
  // The embedded SQS takes any credentials; these are the ones the embedded stack hands its clients.
  return {
    region: runtime.region,
    endpoint: runtime.sqsEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    namespace: runtime.namespace,
  };
}

async function stackTarget(stackName: string, region: string | undefined): Promise<Target> {
  if (region === undefined) throw new CliError(`--stack ${stackName} needs a region: pass --region or set AWS_REGION`, ExitCode.Usage);
  const cloudFormation = new CloudFormationClient({ region });
  let stackOutputs: StackOutput[];
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    stackOutputs = (Stacks?.[0]?.Outputs ?? []).map((output) => ({
      key: output.OutputKey ?? '',
      value: output.OutputValue ?? '',
      ...(output.Description === undefined ? {} : { description: output.Description }),
    }));
  } catch (error) {
    throw new CliError(`cannot read stack ${stackName} in ${region}: ${(error as Error).message}`, ExitCode.NoTarget);
  } finally {
    cloudFormation.destroy();
  }
  const bus = busInStack(stackOutputs, `stack ${stackName} in ${region}`);
  return {
    client: new CommandBusClient({ baseUrl: bus.apiUrl, auth: { type: 'sigv4', region } }),
    description: `stack ${stackName} (${region})`,
    queues: { region, queueArns: bus.queueArns, ...(bus.namespace ? { namespace: bus.namespace } : {}) },
    domains: Object.keys(bus.queueArns),
  };
}

export interface StackOutput {
  key: string;
  value: string;
  description?: string;
}

/**
 * The bus a stack holds: from the output the CommandBus construct writes (its description starts
 * with DISCOVERY_OUTPUT_PREFIX, its value a BusDiscovery), in any stack of yours; else from the
 * repository app's outputs (ApiUrl, Namespace, CommandsQueueArn…/TsqQueueArn…).
 */
export function busInStack(
  outputs: StackOutput[],
  where: string,
): { apiUrl: string; namespace?: string; queueArns: Record<string, { commands: string; tsq: string }> } {
  const discoveries = outputs.filter((output) => output.description?.startsWith(`${DISCOVERY_OUTPUT_PREFIX} `));
  if (discoveries.length > 1) {
    const paths = discoveries.map((output) => output.description!.slice(DISCOVERY_OUTPUT_PREFIX.length + 1)).join(', ');
    throw new CliError(
      `${where} holds ${discoveries.length} commandbus buses (${paths}): pass the one you mean with --url <its API URL> --sigv4`,
      ExitCode.Usage,
    );
  }
  if (discoveries.length === 1) {
    let bus: BusDiscovery;
    try {
      bus = JSON.parse(discoveries[0]!.value) as BusDiscovery;
    } catch {
      throw new CliError(`${where}: output ${discoveries[0]!.key} is not a commandbus bus description (JSON)`, ExitCode.NoTarget);
    }
    const arn = (queue: string) => `arn:${bus.partition}:sqs:${bus.region}:${bus.account}:${queue}`;
    const names = resourceNames(bus.namespace);
    return {
      apiUrl: bus.apiUrl,
      namespace: bus.namespace,
      queueArns: Object.fromEntries(bus.domains.map((domain) => [domain, { commands: arn(names.commandsQueue(domain)), tsq: arn(names.tsqQueue(domain)) }])),
    };
  }
  const byKey = Object.fromEntries(outputs.map((output) => [output.key, output.value]));
  if (!byKey.ApiUrl) throw new CliError(`${where} has no commandbus bus (no CommandBus construct output, no ApiUrl output)`, ExitCode.NoTarget);
  return { apiUrl: byKey.ApiUrl, ...(byKey.Namespace ? { namespace: byKey.Namespace } : {}), queueArns: stackQueueArns(byKey) };
}

/** `CommandsQueueArn<key>` / `TsqQueueArn<key>` outputs, keyed by the domain read from the queue name. */
export function stackQueueArns(outputs: Record<string, string>): Record<string, { commands: string; tsq: string }> {
  const namespace = outputs.Namespace;
  const arns: Record<string, { commands: string; tsq: string }> = {};
  if (!namespace) return arns;
  for (const [key, arn] of Object.entries(outputs)) {
    if (!key.startsWith('CommandsQueueArn')) continue;
    const queueName = arn.slice(arn.lastIndexOf(':') + 1);
    const domain = queueName.slice(namespace.length + 1, -'-commands'.length);
    const tsq = outputs[`TsqQueueArn${key.slice('CommandsQueueArn'.length)}`];
    if (domain && tsq) arns[domain] = { commands: arn, tsq };
  }
  return arns;
}

/**
 * The local runtimes `commandbus serve` recorded on this machine. @commandbus/runtime is an optional
 * peer (an operator of a deployed stack needs neither it nor the embedded AWS): without it, none.
 */
async function localRuntimes(env: NodeJS.ProcessEnv): Promise<RuntimeRecord[]> {
  let registry: typeof import('@commandbus/runtime/registry');
  try {
    registry = await import('@commandbus/runtime/registry');
  } catch (error) {
    if (isMissingPackage(error, '@commandbus/runtime')) return [];
    throw error;
  }
  return registry.runningRuntimes(env);
}

function sameUrl(a: string, b: string): boolean {
  const strip = (url: string) => url.replace(/\/+$/, '');
  return strip(a) === strip(b);
}
