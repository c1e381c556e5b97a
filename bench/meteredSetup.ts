/**
 * What both systems under test start from: a fresh namespace, and producer and consumer clients
 * whose every request is counted on the wire, and `onCompleted` to timestamp COMPLETED writes.
 */
import { createClients, type LocalStack } from '@commandbus/local';
import { CompletionTracker } from './completion.ts';
import { ConsumerProbe } from './consumerProbe.ts';
import { WireMeter } from './wireMeter.ts';

export const BENCH_DOMAIN = 'bench';
export const BENCH_COMMAND = 'Bench';

export async function meteredSetup(stack: LocalStack, namespace: string, label: string) {
  const { table, queueUrls } = await stack.provision(namespace, [BENCH_DOMAIN]);
  const queueUrl = Object.entries(queueUrls).find(([name]) => name.endsWith(`-${BENCH_DOMAIN}-commands`))?.[1];
  if (!queueUrl) throw new Error(`no commands queue provisioned for ${namespace}`);
  const meter = new WireMeter(label);
  const tracker = new CompletionTracker();
  const producer = createClients(stack);
  const consumer = createClients(stack);
  for (const clients of [producer, consumer]) {
    meter.attachSqs(clients.sqs);
    meter.attachDynamo(clients.dynamodb);
  }
  const probe = new ConsumerProbe();
  probe.attach(consumer.sqs);
  probe.attachDynamo(consumer.dynamodb);
  const onCompleted = (commandId: string) => {
    probe.completed();
    tracker.markCompleted(commandId);
  };
  return { table, queueUrls, queueUrl, meter, tracker, probe, producer, consumer, onCompleted };
}
