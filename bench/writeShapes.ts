/**
 * `npx tsx bench/writeShapes.ts`: what one UpdateItem costs DynamoDB Local, by shape — the floor's
 * plain SET against the bus's COMPLETED write (a three-term condition, a list_append of an audit
 * event, ReturnValuesOnConditionCheckFailure) and the steps between. Each variant writes MN (4000)
 * pre-created items, CONC (32) at a time, in MR (3) rounds of alternating order; prints the median
 * writes/s and JVM CPU ms per write. A diagnostic for where the bus's extra DynamoDB Local CPU per
 * command comes from (see the README's Benchmark note); not part of `npm run bench`.
 */
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createClients, startLocalStack } from '@commandbus/local';
import { findJvmPids, startCpuMeter } from './cpu.ts';

const N = Number(process.env.MN ?? 4000);
const CONC = Number(process.env.CONC ?? 32);
const ROUNDS = Number(process.env.MR ?? 3);

interface Variant {
  condition: boolean;
  appendEvent: boolean;
  returnOld: boolean;
}

const VARIANTS: [string, Variant][] = [
  ['plain SET (floor)', { condition: false, appendEvent: false, returnOld: false }],
  ['+ condition', { condition: true, appendEvent: false, returnOld: false }],
  ['+ list_append event', { condition: false, appendEvent: true, returnOld: false }],
  ['+ condition + append', { condition: true, appendEvent: true, returnOld: false }],
  ['+ both + ReturnValues (bus)', { condition: true, appendEvent: true, returnOld: true }],
];

const stack = await startLocalStack();
try {
  const { table } = await stack.provision('write-shapes', ['bench']);
  const clients = createClients(stack);
  const doc = DynamoDBDocumentClient.from(clients.dynamodb);
  const jvm = findJvmPids();
  const now = () => new Date().toISOString();

  /** Items as the bus leaves them after the receive write: IN_PROGRESS, attempt 1, two events. */
  const seed = async (): Promise<string[]> => {
    const ids = Array.from({ length: N }, () => crypto.randomUUID());
    let next = 0;
    await Promise.all(
      Array.from({ length: CONC }, async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          const t = now();
          await doc.send(
            new PutCommand({
              TableName: table,
              Item: {
                pk: id,
                sk: 'bench',
                commandType: 'Bench',
                maxAttempts: 3,
                token: 'token',
                correlationId: id,
                createdAt: t,
                status: 'IN_PROGRESS',
                attempts: 1,
                updatedAt: t,
                events: [
                  { e: 'SENT', t, a: 0 },
                  { e: 'RECEIVED', t, a: 1 },
                ],
                gsi1pk: 'bench#3',
                gsi1sk: `${t}#${id}`,
              },
            }),
          );
        }
      }),
    );
    return ids;
  };

  const write = (id: string, variant: Variant) => {
    const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt', '#result': 'result' };
    const values: Record<string, unknown> = { ':status': 'COMPLETED', ':updatedAt': now(), ':result': { ok: true } };
    let update = 'SET #status = :status, #updatedAt = :updatedAt, #result = :result';
    if (variant.appendEvent) {
      names['#events'] = 'events';
      values[':events'] = [{ e: 'COMPLETED', t: now(), a: 1 }];
      update += ', #events = list_append(#events, :events)';
    }
    let condition: string | undefined;
    if (variant.condition) {
      Object.assign(names, { '#token': 'token', '#attempts': 'attempts' });
      Object.assign(values, { ':expectToken': 'token', ':expectStatus': 'IN_PROGRESS', ':expectAttempts': 1 });
      condition = '#token = :expectToken AND #status = :expectStatus AND #attempts = :expectAttempts';
    }
    return doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: id, sk: 'bench' },
        UpdateExpression: update,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ...(condition ? { ConditionExpression: condition } : {}),
        ...(variant.returnOld ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
      }),
    );
  };

  const measure = async (variant: Variant) => {
    const ids = await seed();
    let next = 0;
    const stop = startCpuMeter(jvm);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONC }, async () => {
        while (next < ids.length) await write(ids[next++]!, variant);
      }),
    );
    const elapsed = performance.now() - started;
    const cpu = stop();
    return { perSecond: N / (elapsed / 1000), jvmMsPerWrite: cpu.jvmMs === undefined ? Number.NaN : cpu.jvmMs / N };
  };

  await measure(VARIANTS[0]![1]); // warm-up
  const results = new Map<string, { perSecond: number[]; jvm: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, variant] of round % 2 ? [...VARIANTS].reverse() : VARIANTS) {
      const { perSecond, jvmMsPerWrite } = await measure(variant);
      const into = results.get(name) ?? { perSecond: [], jvm: [] };
      into.perSecond.push(perSecond);
      into.jvm.push(jvmMsPerWrite);
      results.set(name, into);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(`UpdateItem shapes, ${N} writes each, ${CONC} in flight, median of ${ROUNDS} round(s):`);
  for (const [name, { perSecond, jvm: ms }] of results) {
    console.log(
      `  ${name.padEnd(30)} ${median(perSecond).toFixed(0).padStart(6)} writes/s   JVM ${median(ms).toFixed(3)} ms/write (${ms.map((v) => v.toFixed(2)).join('/')})`,
    );
  }
  clients.dynamodb.destroy();
  clients.sqs.destroy();
} finally {
  await stack.stop();
}
