/**
 * Per-domain retry settings (the CDK construct's `retryPolicy`, COMMANDBUS_RETRY_POLICIES): a send
 * that names no maxAttempts gets its domain's, a send that names one keeps it; a malformed variable
 * is refused with its name.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CommandBus } from '../../../src/CommandBus.ts';
import { readEnvironment } from '../../../src/environment.ts';
import { createWorld, DOMAIN } from './support.ts';

afterEach(() => vi.unstubAllEnvs());

const send = (bus: CommandBus, maxAttempts?: number) =>
  bus.send({ domain: DOMAIN, commandType: 'Charge', commandId: randomUUID(), data: {}, ...(maxAttempts === undefined ? {} : { maxAttempts }) });

describe('per-domain default maxAttempts', () => {
  it("gives a send that names none its domain's default, from the environment", async () => {
    vi.stubEnv('COMMANDBUS_RETRY_POLICIES', JSON.stringify({ [DOMAIN]: { maxAttempts: 7 }, other: { maxAttempts: 2 } }));
    const world = createWorld();
    const bus = new CommandBus(world.config);

    const { commandId } = await send(bus);
    const named = await send(bus, 4);

    expect((await bus.getCommand(DOMAIN, commandId))?.maxAttempts).toBe(7);
    expect((await bus.getCommand(DOMAIN, named.commandId))?.maxAttempts).toBe(4);
  });

  it('takes code over the environment, one number for every domain or per domain (others: 3)', async () => {
    vi.stubEnv('COMMANDBUS_RETRY_POLICIES', JSON.stringify({ [DOMAIN]: { maxAttempts: 7 } }));
    const world = createWorld();

    const everywhere = new CommandBus({ ...world.config, defaultMaxAttempts: 5 });
    const elsewhere = new CommandBus({ ...world.config, defaultMaxAttempts: { billing: 9 } });

    expect((await everywhere.getCommand(DOMAIN, (await send(everywhere)).commandId))?.maxAttempts).toBe(5);
    expect((await elsewhere.getCommand(DOMAIN, (await send(elsewhere)).commandId))?.maxAttempts).toBe(3);
  });

  it('still refuses a default outside 1–25 at send, naming maxAttempts', async () => {
    const world = createWorld();
    const bus = new CommandBus({ ...world.config, defaultMaxAttempts: 40 });

    await expect(send(bus)).rejects.toThrow(/maxAttempts/);
  });
});

describe('COMMANDBUS_RETRY_POLICIES', () => {
  it('reads each domain’s settings', () => {
    const policies = { orders: { maxAttempts: 5, baseDelaySeconds: 2, maxDelaySeconds: 600 } };
    expect(readEnvironment({ COMMANDBUS_RETRY_POLICIES: JSON.stringify(policies) }).retryPolicies).toEqual(policies);
  });

  it.each([['not json'], ['[]'], ['{"orders": 3}'], ['{"orders": {"retries": 3}}'], ['{"orders": {"maxAttempts": 2.5}}']])(
    'refuses %s, naming the variable',
    (value) => {
      expect(() => readEnvironment({ COMMANDBUS_RETRY_POLICIES: value })).toThrow(/^COMMANDBUS_RETRY_POLICIES must be a JSON object of domain/);
    },
  );
});
