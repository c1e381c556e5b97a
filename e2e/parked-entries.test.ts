/**
 * Invariant 8: whatever reaches the TSQ — a hand-made message, a foreign id, a message of another
 * domain, one SQS dead-lettered itself — an operator can see it and resolve it, and the TSQ queue's
 * depth returns to zero once everything is resolved.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandBus, CommandStatus, InvalidOperationError, TroubleshootingQueue, type Command } from '@commandbus/core';
import { createScenario, waitFor, type Scenario } from './support/fixtures.ts';

let s: Scenario;
beforeAll(async () => {
  s = await createScenario({ concurrency: 2 });
});
afterAll(async () => {
  await s.cleanup();
});

const envelope = (overrides: Record<string, unknown> = {}) => ({
  v: 1,
  domain: 'test',
  commandType: 'TestCommand',
  commandId: crypto.randomUUID(),
  data: { from: 'another producer' },
  maxAttempts: 3,
  correlationId: 'corr-hand-made',
  token: crypto.randomUUID(),
  sentAt: new Date().toISOString(),
  ...overrides,
});

async function queueUrl(scenario: Scenario, name: string): Promise<string> {
  const { QueueUrl } = await scenario.clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  return QueueUrl!;
}

async function sendRaw(scenario: Scenario, body: string): Promise<string> {
  const { MessageId } = await scenario.clients.sqs.send(
    new SendMessageCommand({ QueueUrl: await queueUrl(scenario, scenario.names.commandsQueue('test')), MessageBody: body }),
  );
  return MessageId!;
}

/** Messages in the domain's TSQ queue, visible, in flight or delayed. */
async function tsqDepth(scenario: Scenario): Promise<number> {
  const { Attributes = {} } = await scenario.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await queueUrl(scenario, scenario.names.tsqQueue('test')),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return Object.values(Attributes).reduce((sum, count) => sum + Number(count), 0);
}

/** The malformed record parked for a raw message, found in the TSQ listing by its raw body. */
async function parkedFor(scenario: Scenario, rawBody: string): Promise<Command> {
  return waitFor(`the malformed message to be listed`, async () => {
    const page = await scenario.tsq.list({ domain: 'test', limit: 100 });
    return page.items.find((item) => item.data?.rawBody === rawBody);
  });
}

describe('Messages not made by send', () => {
  it('parks an envelope whose commandId is not a UUID as malformed, under an id every operator action accepts', async () => {
    const body = JSON.stringify(envelope({ commandId: 'order-17' }));
    await sendRaw(s, body);

    const parked = await parkedFor(s, body);

    expect(parked.commandId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(parked.lastError).toMatchObject({
      code: 'MALFORMED_MESSAGE',
      message: expect.stringMatching(/field 'commandId': must be a UUID string \(got "order-17"\)/),
    });
    await expect(s.tsq.operatorRetry({ domain: 'test', commandId: parked.commandId, operator: 'ops' })).rejects.toThrow(InvalidOperationError);
    await expect(s.tsq.operatorRetry({ domain: 'test', commandId: parked.commandId, operator: 'ops' })).rejects.toThrow(
      /cannot be retried — cancel or complete it/,
    );
    await s.tsq.operatorCancel({ domain: 'test', commandId: parked.commandId, operator: 'ops', reason: 'foreign producer fixed' });
    expect((await s.getCommand(parked.commandId))?.status).toBe(CommandStatus.CANCELLED);
  });

  it('accepts an upper-case UUID and records the command under its lower-case form', async () => {
    const commandId = crypto.randomUUID();
    await sendRaw(s, JSON.stringify(envelope({ commandId: commandId.toUpperCase() })));

    const command = await s.waitForCompletion(commandId);

    expect(command.commandId).toBe(commandId);
    expect(command.result).toMatchObject({ received: { from: 'another producer' } });
  });

  it("parks an envelope that claims another domain than its queue's as malformed, and touches nothing there", async () => {
    const commandId = crypto.randomUUID();
    const body = JSON.stringify(envelope({ commandId, domain: 'billing' }));
    await sendRaw(s, body);

    const parked = await parkedFor(s, body);

    expect(parked.lastError?.message).toMatch(/claims domain 'billing' but arrived on the queue of domain 'test'/);
    expect(await new CommandBus(s.config).getCommand('billing', commandId)).toBeUndefined();
  });

  it('parks a malformed message close to the size limit: the TSQ queue has room for the extra attributes', async () => {
    const body = `not a command ${'x'.repeat(255 * 1024)}`;
    await sendRaw(s, body);

    const parked = await parkedFor(s, body);

    expect(parked.lastError?.code).toBe('MALFORMED_MESSAGE');
  });
});

describe('The TSQ queue empties once everything is resolved', () => {
  it("sweeps a malformed message's parked copy after the operator resolved its record", async () => {
    const scoped = await createScenario({ concurrency: 1 });
    try {
      const body = 'this is not a command';
      await sendRaw(scoped, body);
      const parked = await parkedFor(scoped, body);
      await waitFor('the parked copy', async () => ((await tsqDepth(scoped)) === 1 ? true : undefined));
      const tsq = new TroubleshootingQueue(scoped.config);
      expect(await tsq.sweep('test')).toMatchObject({ examined: 1, removed: 0, kept: 1 });

      await scoped.tsq.operatorComplete({ domain: 'test', commandId: parked.commandId, operator: 'ops', resultData: { handled: 'by hand' } });
      const swept = await tsq.sweep('test');

      expect(swept).toMatchObject({ examined: 1, removed: 1, kept: 0 });
      expect(await tsqDepth(scoped)).toBe(0);
    } finally {
      await scoped.cleanup();
    }
  });
});

describe('Messages SQS dead-lettered itself', () => {
  /** What a worker that dies before writing anything looks like to SQS: receives without deletes. */
  async function deadLetter(scenario: Scenario): Promise<void> {
    const commandsUrl = await queueUrl(scenario, scenario.names.commandsQueue('test'));
    const { Attributes } = await scenario.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: await queueUrl(scenario, scenario.names.tsqQueue('test')), AttributeNames: ['QueueArn'] }),
    );
    await scenario.clients.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: commandsUrl,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: 1 }) },
      }),
    );
    await waitFor('SQS to move every message to the TSQ queue', async () => {
      await scenario.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: commandsUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0 }));
      const { Attributes = {} } = await scenario.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: commandsUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      return Object.values(Attributes).every((count) => count === '0') && (await tsqDepth(scenario)) > 0 ? true : undefined;
    });
  }

  it('records a dead-lettered command IN_TSQ as DEAD_LETTERED; the operator retries it and it completes; the queue empties', async () => {
    const scoped = await createScenario({ startWorker: false });
    try {
      const commandId = await scoped.send({ data: { survived: 'the outage' } });
      await deadLetter(scoped);
      const tsq = new TroubleshootingQueue(scoped.config);

      const swept = await tsq.sweep('test');

      expect(swept).toMatchObject({ adopted: 1 });
      const parked = await scoped.getCommand(commandId);
      expect(parked).toMatchObject({ status: CommandStatus.IN_TSQ, attempts: 0, data: { survived: 'the outage' }, lastError: { code: 'DEAD_LETTERED' } });
      expect(await scoped.findInTsq(commandId)).toBeDefined();
      expect(await scoped.auditTypes(commandId)).toEqual(['SENT', 'MOVED_TO_TSQ']);

      await scoped.tsq.operatorRetry({ domain: 'test', commandId, operator: 'ops' });
      scoped.startWorker();
      await scoped.waitForCompletion(commandId);
      await tsq.sweep('test');
      expect(await tsqDepth(scoped)).toBe(0);
    } finally {
      await scoped.cleanup();
    }
  });

  it('is adopted by a running Worker on its own sweep schedule, with nobody calling sweep', async () => {
    const scoped = await createScenario({ startWorker: false });
    try {
      const commandId = await scoped.send({ data: { n: 2 } });
      await deadLetter(scoped);

      scoped.startWorker({ sweepIntervalSeconds: 1 });
      const parked = await scoped.waitForStatus(commandId, CommandStatus.IN_TSQ);

      expect(parked.lastError?.code).toBe('DEAD_LETTERED');
    } finally {
      await scoped.cleanup();
    }
  });

  it('records a dead-lettered command that was never recorded (its producer died too), and removes a stale dead-lettered copy', async () => {
    const scoped = await createScenario({ startWorker: false });
    try {
      // A message no producer recorded, and an old copy of a command that has been enqueued since.
      const orphan = envelope({ data: { n: 1 } });
      await sendRaw(scoped, JSON.stringify(orphan));
      const sentId = await scoped.send();
      await sendRaw(scoped, JSON.stringify(envelope({ commandId: sentId, token: 'an-old-token' })));
      await deadLetter(scoped);

      const swept = await new TroubleshootingQueue(scoped.config).sweep('test');

      expect(swept).toMatchObject({ adopted: 2, removed: 1 });
      expect(await scoped.getCommand(orphan.commandId)).toMatchObject({ status: CommandStatus.IN_TSQ, lastError: { code: 'DEAD_LETTERED' } });
      expect(await scoped.auditTypes(orphan.commandId)).toEqual(['SENT', 'MOVED_TO_TSQ']);
      await scoped.tsq.operatorCancel({ domain: 'test', commandId: orphan.commandId, operator: 'ops', reason: 'duplicate order' });
      expect((await scoped.getCommand(orphan.commandId))?.status).toBe(CommandStatus.CANCELLED);
    } finally {
      await scoped.cleanup();
    }
  });
});
