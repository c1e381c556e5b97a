/** S024 — a handler that outlives its time limit / the visibility timeout is redelivered. */
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus } from '@commandbus/core';
import { createScenario, type Scenario } from './support/fixtures.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

describe('Timeout', () => {
  it('times out, becomes visible again, is picked up again, and ends in the TSQ', async () => {
    s = await createScenario({ concurrency: 1, visibilityTimeout: 2 });
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'timeout', timeout_ms: 5000 });

    await s.send({ commandId, maxAttempts: 2 });
    const command = await s.waitForStatus(commandId, CommandStatus.IN_TSQ, 30_000);

    expect(command.attempts).toBe(2);
    expect(command.lastError?.type).toBe('TIMEOUT');
    const events = await s.bus.getAuditTrail(commandId);
    expect(events.filter((event) => event.eventType === 'RECEIVED').map((event) => event.attempt)).toEqual([1, 2]);
    expect(events.filter((event) => event.eventType === 'FAILED').every((event) => event.details.errorType === 'TIMEOUT')).toBe(true);
    expect(events.map((event) => event.eventType)).toContain('RETRY_EXHAUSTED');
  });

  it('completes when the redelivered attempt succeeds (the seed: one transient failure, then success)', async () => {
    s = await createScenario({ concurrency: 1, visibilityTimeout: 2 });
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_transient_then_succeed', transient_failures: 1, delay_ms: 100 });

    await s.send({ commandId, maxAttempts: 5 });
    const command = await s.waitForCompletion(commandId, 30_000);

    expect(command.status).toBe(CommandStatus.COMPLETED);
    expect(command.attempts).toBe(2);
  });

  it('redelivers after the visibility timeout when the handler limit is longer, and the late attempt changes nothing', async () => {
    // Handler limit 10 s, visibility 1 s: SQS hands the message out again while attempt 1 still runs.
    s = await createScenario({ concurrency: 2, visibilityTimeout: 1, handlerTimeoutMs: 10_000 });
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'timeout', timeout_ms: 2500 });

    await s.send({ commandId, maxAttempts: 2 });
    const command = await s.waitForStatus(commandId, CommandStatus.IN_TSQ, 30_000);

    // Attempts 1 and 2 were each overtaken by a redelivery; the third receive found no attempts left.
    expect(command.attempts).toBe(2);
    expect(command.lastError?.code).toBe('VISIBILITY_TIMEOUT');
    const types = (await s.bus.getAuditTrail(commandId)).map((event) => event.eventType);
    expect(types).toEqual(['SENT', 'RECEIVED', 'RECEIVED', 'FAILED', 'RETRY_EXHAUSTED', 'MOVED_TO_TSQ']);
  });
});
