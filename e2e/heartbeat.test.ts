/** A handler allowed to run longer than the visibility timeout keeps its message hidden with a heartbeat. */
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus } from '@commandbus/core';
import { createScenario, type Scenario } from './support/fixtures.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

describe('Heartbeat', () => {
  it('keeps the message of a 5 s handler hidden under a 2 s visibility timeout: one receive, completed at attempt 1', async () => {
    // Prepare: without the heartbeat SQS would hand the message out again after 2 s (see timeout.test.ts)
    s = await createScenario({ concurrency: 2, visibilityTimeout: 2, heartbeatIntervalSeconds: 1, handlerTimeoutMs: 10_000 });
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'success', delay_ms: 5000 });

    // Act
    await s.send({ commandId, maxAttempts: 3 });
    const command = await s.waitForCompletion(commandId, 30_000);

    // Assess
    expect(command.status).toBe(CommandStatus.COMPLETED);
    expect(command.attempts).toBe(1);
    const types = (await s.bus.getAuditTrail(commandId)).map((event) => `${event.eventType}#${event.attempt}`);
    expect(types).toEqual(['SENT#0', 'RECEIVED#1', 'COMPLETED#1']);
  });
});
