import { CommandBus, HandlerRegistry, silentLogger, Worker, SqsTransport, resourceNames, type CommandTransport } from '@commandbus/core';
import { createClients, startLocalStack, type LocalStack } from '@commandbus/local';
import { attachCompletionProbe, CompletionTracker } from './completion.ts';
import { benchData } from './config.ts';
import { runPhase, mergeResults, type BenchSystem } from './phase.ts';
import { WireMeter } from './wireMeter.ts';
import { findJvmPids } from './cpu.ts';

async function make(stack: LocalStack, ns: string, detached: boolean): Promise<BenchSystem> {
  const { queueUrls } = await stack.provision(ns, ['bench']);
  const meter = new WireMeter(ns); const tracker = new CompletionTracker();
  const p = createClients(stack), c = createClients(stack);
  for (const x of [p, c]) { meter.attachSqs(x.sqs); meter.attachDynamo(x.dynamodb); }
  attachCompletionProbe(c.dynamodb, (id) => tracker.markCompleted(id));
  const common = { namespace: ns, queueUrls, logger: silentLogger };
  const bus = new CommandBus({ ...common, dynamodb: p.dynamodb, sqs: p.sqs });
  let transport: CommandTransport = new SqsTransport(c.sqs, { names: resourceNames(ns), queueUrls });
  if (detached) {
    const inner = transport;
    transport = new Proxy(inner, { get: (t, k) => k === 'ack' ? (d: string, r: string) => { void inner.ack(d, r).catch(() => {}); return Promise.resolve(); } : (t as any)[k].bind(t) });
  }
  const worker = new Worker({ ...common, dynamodb: c.dynamodb, sqs: c.sqs, transport, domain: 'bench', registry: new HandlerRegistry().register('bench', 'Bench', () => ({ ok: true })), concurrency: 32, waitTimeSeconds: 20 });
  void worker.run();
  const data = benchData(1024);
  return { label: ns, meter, tracker, send: async (id) => { await bus.send({ domain: 'bench', commandType: 'Bench', commandId: id, data }); }, verify: async () => [], stop: () => worker.stop() };
}
const stack = await startLocalStack();
const a = await make(stack, 'held', false), b = await make(stack, 'detached', true);
const opts = { stallTimeoutMs: 30000, jvmPids: findJvmPids() };
const load = { kind: 'max', inFlight: 64 } as const;
await runPhase(a, 'w', 200, load, opts); await runPhase(b, 'w', 200, load, opts);
const res: Record<string, any[]> = { held: [], detached: [] };
for (let r = 0; r < 4; r++) for (const s of r % 2 ? [b, a] : [a, b]) res[s.label]!.push(await runPhase(s, 'l', 500, load, opts));
for (const [k, v] of Object.entries(res)) { const m = mergeResults(v, k); console.log(k, 'thr', m.throughput.toFixed(1), m.sliceThroughputs.map((x) => x.toFixed(0)).join('/'), 'p50', m.latency.p50.toFixed(0), 'recv', m.cost.sqsRequestsByAction.ReceiveMessage?.toFixed(3), 'del', m.cost.sqsRequestsByAction.DeleteMessageBatch?.toFixed(3), '$', m.cost.dollarsPerMillion.total.toFixed(3)); }
await a.stop(); await b.stop(); await stack.stop(); process.exit(0);
