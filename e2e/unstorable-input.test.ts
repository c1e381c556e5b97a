/**
 * Invariant 8's door: what the command item could never hold is refused at `send` (and at operator
 * complete) with the path of the offending value; what it can hold — emoji, U+FFFE — travels through
 * SQS and DynamoDB intact, on the embedded stack as on AWS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus, DomainNotFoundError, ValidationError, type JsonObject } from '@commandbus/core';
import { createScenario, type Scenario } from './support/fixtures.ts';

let s: Scenario;
beforeAll(async () => {
  s = await createScenario({ concurrency: 2 });
});
afterAll(async () => {
  await s.cleanup();
});

const deep = (levels: number) => JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`) as JsonObject;

describe('Send: unstorable data', () => {
  it.each([
    ['nesting deeper than DynamoDB stores', { order: deep(40) }, /^data\.order(\.a)+: nests deeper than 28 levels/],
    ['an integer JSON cannot carry exactly', JSON.parse('{"amount": 12345678901234567890}'), /^data\.amount: is 12345678901234567000, beyond/],
    ['an empty map key', { lines: [{ '': 1 }] }, /^data\.lines\[0\]\[""\]: has an empty key/],
    ['a __proto__ key', JSON.parse('{"__proto__": {"admin": true}}'), /^data\.__proto__: has the key '__proto__'/],
    ['a lone surrogate', { name: 'x\ud800' }, /^data\.name: is not well-formed Unicode/],
    ['a number closer to 0 than 1e-130', { rate: 1e-200 }, /^data\.rate: is 1e-200, closer to 0/],
    ['data nested 6,000 levels', JSON.parse(`{"x":${'['.repeat(6000)}${']'.repeat(6000)}}`), /^data\.x(\[0\])+: nests deeper/],
  ])('refuses %s with the path, and records and enqueues nothing', async (_label, data, message) => {
    const commandId = crypto.randomUUID();

    const error = await s.bus.send({ domain: 'test', commandType: 'TestCommand', commandId, data }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
    expect(await s.getCommand(commandId)).toBeUndefined();
  });

  it('carries emoji and U+FFFE/U+FFFF through SQS and DynamoDB intact', async () => {
    const data = { text: 'party 🎉 rocket 🚀', odd: '\ufffe\uffff', 'key 😀': ['é', '✓'] };

    const commandId = await s.send({ data });
    const command = await s.waitForCompletion(commandId);

    expect(command.result).toMatchObject({ received: data });
  });

  it('refuses a domain that is not provisioned as DomainNotFoundError, not as a retryable failure', async () => {
    const commandId = crypto.randomUUID();

    const error = await s.bus.send({ domain: 'nowhere', commandType: 'TestCommand', commandId, data: {} }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(DomainNotFoundError);
    expect((error as Error).message).toMatch(/domain 'nowhere' is not provisioned/);
  });

  it.each(['commands', 'tsq'])("refuses a replyTo naming the bus's own %s queue", async (kind) => {
    const replyTo = kind === 'commands' ? s.names.commandsQueue('test') : s.names.tsqQueue('test');

    const error = await s.send({ replyTo }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('replyTo');
  });
});

describe('Operator complete: unstorable result data', () => {
  it.each([
    ['1e308', { total: 1e308 }, /^resultData\.total: is 1e\+308, beyond/],
    ['too deep', deep(30), /^resultData(\.a)+: nests deeper/],
    ['a 500 KB string', { notes: 'x'.repeat(500 * 1024) }, /^resultData: is \d+ bytes as JSON; the limit is 65536/],
  ])('refuses %s and leaves the command in the TSQ', async (_label, resultData, message) => {
    const commandId = crypto.randomUUID();
    await s.behaviours.create(commandId, { type: 'fail_permanent' });
    await s.send({ commandId });
    await s.waitForStatus(commandId, CommandStatus.IN_TSQ);

    const error = await s.tsq.operatorComplete({ domain: 'test', commandId, operator: 'ops', resultData }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
    expect((await s.getCommand(commandId))?.status).toBe(CommandStatus.IN_TSQ);
  });
});
