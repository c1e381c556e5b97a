import { readFileSync } from 'node:fs';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INDEXES, TSQ_MAX_RECEIVE_COUNT, commandsTableDefinition, resourceNames } from '@commandbus/core/resources';
import { JavaNotFoundError, checkJava, createClients, startLocalStack, type LocalStack } from '../src/index.ts';
import { accepts, nonLoopbackAddresses, reachable } from './helpers.ts';

const NAMESPACE = 'localtest';
const names = resourceNames(NAMESPACE);

const external = nonLoopbackAddresses();

describe('startLocalStack', () => {
  let stack: LocalStack;
  let clients: ReturnType<typeof createClients>;
  let queueUrls: Record<string, string>;

  beforeAll(async () => {
    stack = await startLocalStack({ namespace: NAMESPACE, domains: ['orders'] });
    clients = createClients(stack);
    ({ queueUrls } = await stack.provision(NAMESPACE, ['orders', 'billing']));
  }, 60_000);

  afterAll(async () => {
    clients?.dynamodb.destroy();
    clients?.sqs.destroy();
    await stack?.stop();
  });

  it('exposes endpoints and AWS env vars', () => {
    expect(stack.endpoints.dynamodb).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.endpoints.sqs).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.env()).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
    });
  });

  it('creates the commands table with both GSIs', async () => {
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: names.table }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual([INDEXES.byTime.name, INDEXES.tsq.name].sort());
  });

  it("gives the table the stack's stream (the stats aggregator reads it), also a table made before it had one", async () => {
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: names.table }));
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    const old = resourceNames('streamless');
    const { StreamSpecification: _, ...withoutStream } = commandsTableDefinition(old.table);
    await clients.dynamodb.send(new CreateTableCommand(withoutStream));

    await stack.provision('streamless', []);

    const after = await clients.dynamodb.send(new DescribeTableCommand({ TableName: old.table }));
    expect(after.Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  it('points the commands queue at the TSQ by ARN', async () => {
    const tsq = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrls[names.tsqQueue('billing')], AttributeNames: ['QueueArn'] }));
    const commands = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrls[names.commandsQueue('billing')], AttributeNames: ['All'] }));
    expect(JSON.parse(commands.Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: tsq.Attributes?.QueueArn,
      maxReceiveCount: TSQ_MAX_RECEIVE_COUNT,
    });
    expect(Object.keys(queueUrls)).toContain(names.repliesQueue);
  });

  it('delivers a message sent to the commands queue', async () => {
    const QueueUrl = queueUrls[names.commandsQueue('orders')];
    await clients.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"hello":"world"}' }));
    const { Messages } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2 }));
    expect(Messages?.map((m) => m.Body)).toEqual(['{"hello":"world"}']);
  });

  it('provisions idempotently', async () => {
    const again = await stack.provision(NAMESPACE, ['orders', 'billing']);
    expect(again).toEqual({ table: names.table, queueUrls });
  });

  it.skipIf(external.length === 0)(
    external.length
      ? `DynamoDB Local refuses connections on this machine's non-loopback addresses (${external.join(', ')}) and accepts them on 127.0.0.1`
      : 'DynamoDB Local refuses non-loopback connections — SKIPPED: this machine has no non-loopback address to try',
    async () => {
      const port = Number(new URL(stack.endpoints.dynamodb).port);
      expect(await accepts(port, '127.0.0.1')).toBe(true);
      for (const address of external) {
        // Else "refused" could just mean the address is unreachable from here.
        expect(await reachable(address), `${address} must be dialable from here`).toBe(true);
        expect(await accepts(port, address), `DynamoDB Local on ${address}:${port}`).toBe(false);
      }
    },
  );

  it('dynamodbPid is the JVM: SIGSTOP stalls DynamoDB, SIGCONT resumes it', async () => {
    const pid = stack.dynamodbPid;
    expect(pid).toEqual(expect.any(Number));
    if (process.platform === 'linux') expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('java');
    const client = new DynamoDBClient({
      region: stack.region,
      endpoint: stack.endpoints.dynamodb,
      credentials: stack.credentials,
      maxAttempts: 1,
      // Recent @smithy/node-http-handler only warns past requestTimeout unless told to throw.
      requestHandler: { requestTimeout: 500, throwOnRequestTimeout: true },
    });
    try {
      process.kill(pid!, 'SIGSTOP');
      try {
        const t0 = performance.now();
        await expect(client.send(new ListTablesCommand({}))).rejects.toThrow(/timed? ?out/i);
        expect(performance.now() - t0).toBeLessThan(5_000);
      } finally {
        process.kill(pid!, 'SIGCONT');
      }
      const { TableNames } = await client.send(new ListTablesCommand({}));
      expect(TableNames).toContain(names.table);
    } finally {
      client.destroy();
    }
  });

  it('kills DynamoDB Local on stop()', async () => {
    const port = Number(new URL(stack.endpoints.dynamodb).port);
    const pid = stack.dynamodbPid!;
    expect(await accepts(port)).toBe(true);
    await stack.stop();
    expect(await accepts(port)).toBe(false);
    expect(await accepts(Number(new URL(stack.endpoints.sqs).port))).toBe(false);
    expect(stack.dynamodbPid).toBeUndefined();
    expect(() => process.kill(pid, 0)).toThrow(); // the JVM itself is gone, not just its shell
  });
});

describe('checkJava', () => {
  it('throws JavaNotFoundError when java is missing', async () => {
    await expect(checkJava('/nonexistent/java')).rejects.toBeInstanceOf(JavaNotFoundError);
    await expect(checkJava('/nonexistent/java')).rejects.toThrow(/Java 17 or newer.*openjdk-17-jdk-headless/s);
  });
});
