/**
 * The wire meter in front of the embedded AWS: what it counts is what AWS would bill, read from the
 * answers of the real emulators through the real SDK.
 */
import { ConditionalCheckFailedException, CreateTableCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, startLocalStack, WireMeter, WIRE_PRICES, type LocalStack } from '../src/index.ts';

describe('WireMeter', () => {
  let stack: LocalStack;
  let meter: WireMeter;
  let clients: ReturnType<typeof createClients>;
  let token: string;

  beforeAll(async () => {
    stack = await startLocalStack({});
    meter = new WireMeter();
    const endpoints = await meter.start(stack.endpoints);
    clients = createClients({ ...stack, endpoints });
    token = 'meter-test-token';
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: 'metered',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    await clients.sqs.send(new CreateQueueCommand({ QueueName: 'metered' }));
  }, 60_000);

  afterAll(async () => {
    clients?.dynamodb.destroy();
    clients?.sqs.destroy();
    await meter?.stop();
    await stack?.stop();
  });

  it('counts write units from DynamoDB’s answers (a refused condition as one), SQS requests by 64 KB chunk, and prices them', async () => {
    const before = meter.snapshot();
    await clients.dynamodb.send(new PutItemCommand({ TableName: 'metered', Item: { pk: { S: 'a' }, n: { N: '1' } } }));
    await clients.dynamodb.send(
      new UpdateItemCommand({ TableName: 'metered', Key: { pk: { S: 'a' } }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': { N: '2' } } }),
    );
    await expect(
      clients.dynamodb.send(new PutItemCommand({ TableName: 'metered', Item: { pk: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(pk)' })),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);

    // The queue URL names the meter, so the SDK keeps coming through it.
    const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: 'metered' }));
    expect(new URL(QueueUrl!).origin).not.toBe(new URL(stack.endpoints.sqs).origin);
    await clients.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(100 * 1024) }));
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: '1', MessageBody: 'a' },
          { Id: '2', MessageBody: 'b' },
        ],
      }),
    );
    const received = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(received.Messages?.length).toBeGreaterThan(0);

    const after = meter.snapshot();
    expect(after.dynamodb.writeUnits - before.dynamodb.writeUnits).toBe(3);
    // 100 KiB: two 64 KB chunks; the batch one; GetQueueUrl and ReceiveMessage one each.
    expect(after.sqs.billable - before.sqs.billable).toBe(2 + 1 + 1 + 1);
    expect(after.cost.dynamodbWrites - before.cost.dynamodbWrites).toBeCloseTo((3 * WIRE_PRICES.writeUnit) / 1e6, 12);
    expect(after.cost.sqs - before.cost.sqs).toBeCloseTo((5 * WIRE_PRICES.sqsRequest) / 1e6, 12);
  });

  it('serves its counts to the holder of its token only', async () => {
    const url = await meter.serveSnapshots(token);
    expect((await fetch(url)).status).toBe(403);
    const answer = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ dynamodb: { writeUnits: expect.any(Number) }, sqs: { billable: expect.any(Number) } });
  });
});
