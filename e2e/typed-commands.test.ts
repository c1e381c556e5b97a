/**
 * Typed commands on the embedded target (DynamoDB Local + the SQS emulator): a handler registered
 * with a schema. A send that does not match is refused with nothing enqueued; a message whose
 * payload does not match (sent by a bus without the schemas) is parked as INVALID_PAYLOAD without
 * the handler running; a matching one reaches the handler as the schema's output.
 */
import { ReceiveMessageCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { CommandBus, CommandStatus, TroubleshootingQueue, ValidationError } from '@commandbus/core';
import { TEST_DOMAIN } from '@commandbus/testapp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createScenario, type Scenario } from './support/fixtures.ts';

const Charge = z.object({ amount: z.coerce.number().positive(), currency: z.string().default('EUR') });
const CHARGE = 'Charge';

let s: Scenario;
let typedBus: CommandBus;
const handled: { commandId: string; data: unknown }[] = [];
beforeAll(async () => {
  s = await createScenario({ startWorker: false });
  s.registry.register(
    TEST_DOMAIN,
    CHARGE,
    (command) => {
      handled.push({ commandId: command.commandId, data: command.data });
      return { charged: command.data.amount, currency: command.data.currency };
    },
    { schema: Charge },
  );
  typedBus = new CommandBus({ ...s.config, schemas: s.registry });
});
afterAll(async () => {
  await s.cleanup();
});

const charge = (data: Record<string, unknown>) => ({ domain: TEST_DOMAIN, commandType: CHARGE, commandId: crypto.randomUUID(), data: data as never });

describe('Typed commands (embedded)', () => {
  it('refuses a send whose data does not match the schema: nothing enqueued, nothing recorded', async () => {
    // Prepare: no worker runs yet, so anything enqueued would still be on the queue
    const request = charge({ amount: 'ten' });

    // Act
    const refusal = typedBus.send(request);

    // Assess
    await expect(refusal).rejects.toBeInstanceOf(ValidationError);
    await expect(refusal).rejects.toMatchObject({ field: 'data.amount' });
    expect(await s.bus.getCommand(TEST_DOMAIN, request.commandId)).toBeUndefined();
    const { QueueUrl } = await s.clients.sqs.send(new GetQueueUrlCommand({ QueueName: s.names.commandsQueue(TEST_DOMAIN) }));
    const { Messages = [] } = await s.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 0 }),
    );
    expect(Messages).toEqual([]);
  });

  it('parks a payload that does not match (sent without the schemas) as PERMANENT INVALID_PAYLOAD at the first attempt; the handler never runs', async () => {
    // Prepare: the scenario's bus has no schemas
    s.startWorker();
    const request = charge({ amount: -4, currency: 7 });
    await s.bus.send({ ...request, maxAttempts: 5 });

    // Act
    const parked = await s.waitForStatus(request.commandId, CommandStatus.IN_TSQ);

    // Assess
    expect(parked).toMatchObject({ attempts: 1, data: { amount: -4, currency: 7 } });
    expect(parked.lastError).toMatchObject({
      type: 'PERMANENT',
      code: 'INVALID_PAYLOAD',
      message: expect.stringMatching(/^data does not match the schema of Charge: data\.amount: .*; data\.currency: /),
      details: { issues: [{ path: 'data.amount' }, { path: 'data.currency' }] },
    });
    expect(await s.auditTypes(request.commandId)).toEqual(['SENT', 'RECEIVED', 'MOVED_TO_TSQ']);
    expect(await s.findInTsq(request.commandId)).toMatchObject({ lastError: { code: 'INVALID_PAYLOAD' } });
    expect(handled.filter(({ commandId }) => commandId === request.commandId)).toEqual([]);
  });

  it('hands a matching payload to the handler as the schema’s output (coerced, defaults filled in)', async () => {
    // Prepare
    const request = charge({ amount: '12.5' });

    // Act
    await typedBus.send(request);
    const completed = await s.waitForCompletion(request.commandId);

    // Assess
    expect(handled.filter(({ commandId }) => commandId === request.commandId)).toEqual([
      { commandId: request.commandId, data: { amount: 12.5, currency: 'EUR' } },
    ]);
    expect(completed.result).toEqual({ charged: 12.5, currency: 'EUR' });
  });

  it('refuses an operator’s corrected payload that does not match; a matching one is retried and completes', async () => {
    // Prepare: parked as INVALID_PAYLOAD
    const request = charge({ amount: 0 });
    await s.bus.send(request);
    await s.waitForStatus(request.commandId, CommandStatus.IN_TSQ);
    const tsq = new TroubleshootingQueue({ ...s.config, schemas: s.registry });
    const edit = (data: Record<string, unknown>) =>
      tsq.operatorEditAndRetry({ domain: TEST_DOMAIN, commandId: request.commandId, operator: 'alice', data: data as never });

    // Act and assess
    await expect(edit({ amount: 'zero' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', field: 'data.amount' });
    expect(await s.getCommand(request.commandId)).toMatchObject({ status: CommandStatus.IN_TSQ });
    expect((await tsq.getCommandHistory({ domain: TEST_DOMAIN, commandId: request.commandId })).items).toEqual([]);
    await edit({ amount: 3, currency: 'USD' });
    expect(await s.waitForCompletion(request.commandId)).toMatchObject({ edits: 1, result: { charged: 3, currency: 'USD' } });
  });
});
