import { startLocalStack, createClients } from '@commandbus/local';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
const stack = await startLocalStack();
try {
  const { table, queueUrls } = await stack.provision('probe', ['bench']);
  const c = createClients(stack);
  c.dynamodb.middlewareStack.add((next, ctx) => async (args: any) => {
    args.input.ReturnConsumedCapacity = 'INDEXES';
    console.log('init', ctx.commandName, JSON.stringify(args.input).slice(0, 300));
    try { const out: any = await next(args); console.log('out', JSON.stringify(out.output.ConsumedCapacity)); return out; }
    catch (e: any) { console.log('err', e.name, Object.keys(e), JSON.stringify(e.ConsumedCapacity)); throw e; }
  }, { step: 'initialize', name: 'probe', priority: 'low' });
  c.sqs.middlewareStack.add((next, ctx) => async (args: any) => {
    console.log('sqs', ctx.commandName, args.request.headers['x-amz-target'] ?? args.request.headers['content-type'], typeof args.request.body, String(args.request.body).length);
    return next(args);
  }, { step: 'deserialize', name: 'probe2' });
  const doc = DynamoDBDocumentClient.from(c.dynamodb);
  await doc.send(new PutCommand({ TableName: table, Item: { pk: 'a', sk: 'b', gsi1pk: 'x#1', gsi1sk: 't', commandType: 'T', status: 'PENDING' }, ConditionExpression: 'attribute_not_exists(pk)' }));
  await doc.send(new UpdateCommand({ TableName: table, Key: { pk: 'a', sk: 'b' }, UpdateExpression: 'SET #s = :status', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':status': 'COMPLETED' } }));
  await doc.send(new UpdateCommand({ TableName: table, Key: { pk: 'a', sk: 'b' }, UpdateExpression: 'SET commandType = :t', ExpressionAttributeValues: { ':t': 'U' } }));
  await doc.send(new PutCommand({ TableName: table, Item: { pk: 'a', sk: 'b', gsi1pk: 'x#1', gsi1sk: 't', commandType: 'T', status: 'PENDING' }, ConditionExpression: 'attribute_not_exists(pk)' , ReturnValuesOnConditionCheckFailure: 'ALL_OLD'})).catch(() => {});
  await c.sqs.send(new SendMessageCommand({ QueueUrl: queueUrls['probe-bench-commands'], MessageBody: 'x'.repeat(1000) }));
} finally { await stack.stop(); }
