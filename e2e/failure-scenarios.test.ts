/**
 * S024 — failure scenarios: permanent failure, transient retries, exhaustion, operator actions and
 * error details. Runs on both targets: the library with an in-process worker, and the deployed shape
 * (HTTP API + worker Lambda under the local runtime).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus } from '@commandbus/core';
import { createScenario, type Scenario } from './support/fixtures.ts';

let s: Scenario;
beforeAll(async () => {
  s = await createScenario();
});
afterAll(async () => {
  await s.cleanup();
});

/** The statuses the audit trail says the command went through. */
const statusPath = (types: string[]) =>
  types.flatMap((type) => {
    switch (type) {
      case 'SENT':
      case 'OPERATOR_RETRY':
        return [CommandStatus.PENDING];
      case 'RECEIVED':
        return [CommandStatus.IN_PROGRESS];
      case 'MOVED_TO_TSQ':
        return [CommandStatus.IN_TSQ];
      case 'COMPLETED':
      case 'OPERATOR_COMPLETE':
        return [CommandStatus.COMPLETED];
      case 'OPERATOR_CANCEL':
        return [CommandStatus.CANCELLED];
      default:
        return [];
    }
  });

describe('Permanent failure', () => {
  it('moves the command straight to the TSQ with its error code', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: 'INVALID_ACCOUNT', error_message: 'Account does not exist' });

    await s.send({ commandId });
    const command = await s.waitForStatus(commandId, CommandStatus.IN_TSQ);

    expect(command.lastError?.code).toBe('INVALID_ACCOUNT');
    expect(command.attempts).toBe(1);
    const types = await s.auditTypes(commandId);
    expect(types).toContain('MOVED_TO_TSQ');
    expect(types).not.toContain('FAILED');
    expect(statusPath(types)).toEqual([CommandStatus.PENDING, CommandStatus.IN_PROGRESS, CommandStatus.IN_TSQ]);
    expect(await s.findInTsq(commandId)).toBeDefined();
  });
});

describe('Transient failure', () => {
  it('fails twice, then succeeds on attempt 3', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_transient_then_succeed', transient_failures: 2 });

    await s.send({ commandId, maxAttempts: 5 });
    const command = await s.waitForCompletion(commandId, 30_000);

    expect(command.status).toBe(CommandStatus.COMPLETED);
    expect(command.attempts).toBe(3);
    const types = await s.auditTypes(commandId);
    expect(types.filter((type) => type === 'FAILED')).toHaveLength(2);
    expect(types.filter((type) => type === 'COMPLETED')).toHaveLength(1);
    expect(types).toEqual(['SENT', 'RECEIVED', 'FAILED', 'RECEIVED', 'FAILED', 'RECEIVED', 'COMPLETED']);
  });

  it('exhausts max attempts and moves to the TSQ with RETRY_EXHAUSTED', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_transient', error_code: 'TIMEOUT' });

    await s.send({ commandId, maxAttempts: 3 });
    const command = await s.waitForStatus(commandId, CommandStatus.IN_TSQ, 60_000);

    expect(command.attempts).toBe(3);
    const types = await s.auditTypes(commandId);
    expect(types.filter((type) => type === 'FAILED')).toHaveLength(3);
    expect(types.slice(-3)).toEqual(['FAILED', 'RETRY_EXHAUSTED', 'MOVED_TO_TSQ']);
    expect((await s.behaviours.get(commandId))?.invocations).toBe(3);
  });

  it('delays each retry by the backoff, through the message visibility', async () => {
    const scoped = await createScenario({ retryPolicy: { baseDelaySeconds: 1, maxDelaySeconds: 1, jitter: false } });
    try {
      const commandId = crypto.randomUUID();
      await scoped.behaviours.create(commandId, { type: 'fail_transient_then_succeed', transient_failures: 1 });

      await scoped.send({ commandId });
      await scoped.waitForCompletion(commandId, 30_000);

      const events = await scoped.bus.getAuditTrail(commandId);
      const failed = events.find((event) => event.eventType === 'FAILED')!;
      const retried = events.filter((event) => event.eventType === 'RECEIVED')[1]!;
      expect(Date.parse(retried.timestamp) - Date.parse(failed.timestamp)).toBeGreaterThanOrEqual(900);
    } finally {
      await scoped.cleanup();
    }
  });
});

describe('TSQ operator actions', () => {
  const parkPermanently = async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent' });
    await s.send({ commandId });
    await s.waitForStatus(commandId, CommandStatus.IN_TSQ);
    return commandId;
  };

  it('operator retry re-queues the command, which is then processed to COMPLETED', async () => {
    const commandId = await parkPermanently();
    await s.behaviours.update(commandId, { type: 'success' });

    await s.tsq.operatorRetry({ domain: 'test', commandId, operator: s.operator });
    const command = await s.waitForCompletion(commandId);

    expect(command.status).toBe(CommandStatus.COMPLETED);
    const events = await s.bus.getAuditTrail(commandId);
    const retry = events.find((event) => event.eventType === 'OPERATOR_RETRY');
    expect(retry?.details.operator).toEqual(s.operator);
    expect(statusPath(events.map((event) => event.eventType))).toEqual([
      CommandStatus.PENDING,
      CommandStatus.IN_PROGRESS,
      CommandStatus.IN_TSQ,
      CommandStatus.PENDING,
      CommandStatus.IN_PROGRESS,
      CommandStatus.COMPLETED,
    ]);
    expect(await s.findInTsq(commandId)).toBeUndefined();
  });

  it('operator cancel makes the command CANCELLED with OPERATOR_CANCEL', async () => {
    const commandId = await parkPermanently();

    await s.tsq.operatorCancel({ domain: 'test', commandId, operator: s.operator, reason: 'Test cancellation' });

    const command = await s.getCommand(commandId);
    expect(command?.status).toBe(CommandStatus.CANCELLED);
    const cancel = (await s.bus.getAuditTrail(commandId)).find((event) => event.eventType === 'OPERATOR_CANCEL');
    expect(cancel?.details).toEqual({ operator: s.operator, reason: 'Test cancellation' });
  });

  it('operator cancel sends one CANCELLED reply with the reason and the last error to replyTo', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: 'NO_STOCK', error_message: 'sold out' });
    await s.send({ commandId, replyTo: s.names.repliesQueue });
    await s.waitForStatus(commandId, CommandStatus.IN_TSQ);

    await s.tsq.operatorCancel({ domain: 'test', commandId, operator: s.operator, reason: 'customer gave up' });

    const replies = await s.collectReplies(commandId);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({
      commandId,
      outcome: 'CANCELLED',
      reason: 'customer gave up',
      error: { type: 'PERMANENT', code: 'NO_STOCK', message: 'sold out' },
    });
  });

  it('operator complete makes the command COMPLETED and records operator and result data', async () => {
    const commandId = await parkPermanently();
    const resultData = { manually_resolved: true, notes: 'Fixed manually' };

    await s.tsq.operatorComplete({ domain: 'test', commandId, operator: s.operator, resultData });

    const command = await s.getCommand(commandId);
    expect(command?.status).toBe(CommandStatus.COMPLETED);
    expect(command?.result).toEqual(resultData);
    const complete = (await s.bus.getAuditTrail(commandId)).find((event) => event.eventType === 'OPERATOR_COMPLETE');
    expect(complete?.details.operator).toEqual(s.operator);
    expect(complete?.details.resultData).toEqual(resultData);
  });
});

describe('Error details', () => {
  it('keeps type, code and message on the command and in the audit trail', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: 'CARD_DECLINED', error_message: 'Issuer said no' });

    await s.send({ commandId, data: { amount: 42 } });
    const command = await s.waitForStatus(commandId, CommandStatus.IN_TSQ);

    expect(command.lastError).toEqual({ type: 'PERMANENT', code: 'CARD_DECLINED', message: 'Issuer said no' });
    const moved = (await s.bus.getAuditTrail(commandId)).find((event) => event.eventType === 'MOVED_TO_TSQ');
    expect(moved?.details).toEqual({ errorType: 'PERMANENT', errorCode: 'CARD_DECLINED', errorMessage: 'Issuer said no' });
    const entry = await s.findInTsq(commandId);
    expect(entry?.lastError?.code).toBe('CARD_DECLINED');
    expect(entry?.data).toEqual({ amount: 42 });
  });

  it('keeps each transient failure in its FAILED event and the last one on the command', async () => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_transient', error_code: 'UPSTREAM_503', error_message: 'try later' });

    await s.send({ commandId, maxAttempts: 2 });
    const command = await s.waitForStatus(commandId, CommandStatus.IN_TSQ, 30_000);

    expect(command.lastError).toEqual({ type: 'TRANSIENT', code: 'UPSTREAM_503', message: 'try later' });
    const failed = (await s.bus.getAuditTrail(commandId)).filter((event) => event.eventType === 'FAILED');
    expect(failed.map((event) => [event.attempt, event.details.errorCode])).toEqual([
      [1, 'UPSTREAM_503'],
      [2, 'UPSTREAM_503'],
    ]);
  });
});
