/**
 * Typed commands over the in-memory twins: a schema registered with the handler is checked by send
 * (nothing enqueued on a mismatch), by the worker (an invalid payload parked as INVALID_PAYLOAD, the
 * handler never run; a valid one handed over as the schema's output) and by an operator's edit.
 */
import { randomUUID } from 'node:crypto';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { CommandBus } from '../../../src/CommandBus.ts';
import { CommandSchemas } from '../../../src/CommandSchemas.ts';
import { ValidationError } from '../../../src/errors.ts';
import { TroubleshootingQueue } from '../../../src/TroubleshootingQueue.ts';
import { CommandStatus } from '../../../src/types.ts';
import { COMMAND_TYPE, createWorld, DOMAIN, useFakeClock } from './support.ts';

beforeEach(() => useFakeClock());
afterEach(() => {
  vi.useRealTimers();
});

const Charge = z.object({ amount: z.coerce.number().positive(), currency: z.string().default('EUR') });

/** A world whose handler of COMMAND_TYPE is registered with the Charge schema, and a bus that knows it. */
function typedWorld() {
  const world = createWorld();
  const seen: unknown[] = [];
  world.registry.register(
    DOMAIN,
    COMMAND_TYPE,
    (command) => {
      seen.push(command.data);
      return { charged: command.data.amount * 2, currency: command.data.currency };
    },
    { schema: Charge },
  );
  const typedBus = new CommandBus({ ...world.config, schemas: world.registry });
  const send = (data: Record<string, unknown>, commandId = randomUUID()) =>
    typedBus.send({ domain: DOMAIN, commandType: COMMAND_TYPE, commandId, data: data as never }).then(() => commandId);
  return { world, seen, typedBus, send };
}

describe('Typed commands: send', () => {
  it('refuses data that does not match the schema, naming the path, with nothing enqueued or recorded', async () => {
    // Prepare
    const { world, send } = typedWorld();
    const commandId = randomUUID();

    // Act
    const refusal = send({ amount: -3 }, commandId);

    // Assess
    await expect(refusal).rejects.toBeInstanceOf(ValidationError);
    await expect(refusal).rejects.toMatchObject({ code: 'VALIDATION_ERROR', field: 'data.amount', message: expect.stringMatching(/^data\.amount: .*>0/) });
    expect(world.commandsQueue()).toEqual([]);
    expect(await world.store.get(DOMAIN, commandId)).toBeUndefined();
  });

  it('sends matching data as given (the worker applies the schema again), and types without a schema unchecked', async () => {
    // Prepare
    const { world, typedBus, send } = typedWorld();

    // Act
    await send({ amount: '5' });
    await typedBus.send({ domain: DOMAIN, commandType: 'Untyped', commandId: randomUUID(), data: { anything: true } });

    // Assess
    expect(world.commandsQueue().map((message) => JSON.parse(message.body).data)).toEqual([{ amount: '5' }, { anything: true }]);
  });

  it('takes the schemas from a CommandSchemas in a process without handlers, sync or async', async () => {
    // Prepare
    const world = createWorld();
    const asyncSchema: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'handmade',
        validate: async (value) => (value && (value as { ok?: unknown }).ok === true ? { value } : { issues: [{ message: 'must be ok', path: ['ok'] }] }),
      },
    };
    const bus = new CommandBus({ ...world.config, schemas: new CommandSchemas().define(DOMAIN, 'Async', asyncSchema) });
    const request = (data: Record<string, boolean>) => ({ domain: DOMAIN, commandType: 'Async', commandId: randomUUID(), data });

    // Act and assess
    await expect(bus.send(request({ ok: false }))).rejects.toMatchObject({ field: 'data.ok', message: 'data.ok: must be ok' });
    await expect(bus.send(request({ ok: true }))).resolves.toMatchObject({ status: CommandStatus.PENDING });
    expect(world.commandsQueue()).toHaveLength(1);
  });
});

describe('Typed commands: the worker', () => {
  it('hands the handler the schema’s output: coerced and with defaults', async () => {
    // Prepare
    const { world, seen, send } = typedWorld();
    const commandId = await send({ amount: '21' });

    // Act
    await world.deliver();

    // Assess
    expect(seen).toEqual([{ amount: 21, currency: 'EUR' }]);
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, result: { charged: 42, currency: 'EUR' } });
  });

  it('parks a payload that does not match (sent by a bus without schemas) as PERMANENT INVALID_PAYLOAD, at once, the handler never run', async () => {
    // Prepare: the world's own bus has no schemas
    const { world, seen } = typedWorld();
    const commandId = await world.send({ data: { amount: 'ten', currency: 7 }, maxAttempts: 5 });

    // Act
    const { outcome } = await world.deliver();

    // Assess
    expect(outcome).toBe('ack');
    expect(seen).toEqual([]);
    const state = await world.state(commandId);
    expect(state).toMatchObject({ status: CommandStatus.IN_TSQ, attempts: 1, data: { amount: 'ten', currency: 7 } });
    expect(state.lastError).toEqual({
      type: 'PERMANENT',
      code: 'INVALID_PAYLOAD',
      message: expect.stringMatching(/^data does not match the schema of Charge: data\.amount: .*; data\.currency: .*expected string/),
      details: {
        issues: [
          { path: 'data.amount', message: expect.any(String) },
          { path: 'data.currency', message: expect.any(String) },
        ],
      },
    });
    expect(await world.trail(commandId)).toEqual(['SENT#0', 'RECEIVED#1', 'MOVED_TO_TSQ#1']);
    expect(world.tsqQueue()).toHaveLength(1);
  });
});

describe('Typed commands: operatorEditAndRetry', () => {
  it('refuses a corrected payload that does not match, before anything is written; a matching one is retried and runs', async () => {
    // Prepare: parked as INVALID_PAYLOAD
    const { world, seen } = typedWorld();
    const commandId = await world.send({ data: { amount: 'ten' } });
    await world.deliver();
    const before = await world.state(commandId);
    const tsq = new TroubleshootingQueue({ ...world.config, schemas: world.registry });
    const edit = (data: Record<string, unknown>) => tsq.operatorEditAndRetry({ domain: DOMAIN, commandId, operator: 'alice', data: data as never });

    // Act
    const refusal = edit({ amount: 0 });

    // Assess
    await expect(refusal).rejects.toMatchObject({ code: 'VALIDATION_ERROR', field: 'data.amount' });
    expect(await world.state(commandId)).toEqual(before);
    expect((await tsq.getCommandHistory({ domain: DOMAIN, commandId })).items).toEqual([]);
    expect(world.commandsQueue()).toEqual([]);

    // Act: a matching edit
    await edit({ amount: 3 });
    await world.deliver();

    // Assess
    expect(seen).toEqual([{ amount: 3, currency: 'EUR' }]);
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.COMPLETED, edits: 1 });
  });

  it('without schemas, takes any JSON payload as before', async () => {
    // Prepare
    const { world } = typedWorld();
    const commandId = await world.send({ data: { amount: 'ten' } });
    await world.deliver();

    // Act
    await world.tsq.operatorEditAndRetry({ domain: DOMAIN, commandId, operator: 'alice', data: { amount: 'still ten' } });

    // Assess
    expect(await world.state(commandId)).toMatchObject({ status: CommandStatus.PENDING, edits: 1 });
  });
});
