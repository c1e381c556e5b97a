import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MALFORMED_COMMAND_TYPE } from '../../../src/domain/lifecycle.ts';
import { PermanentCommandError, TransientCommandError } from '../../../src/errors.ts';
import type { CommandObserver } from '../../../src/ports/CommandObserver.ts';
import { COMMAND_TYPE, createWorld, DOMAIN, elapse, gate, recordingLogger, useFakeClock } from './support.ts';

beforeEach(() => useFakeClock());
afterEach(() => {
  vi.useRealTimers();
});

/** An observer that keeps what it is told, as `kind` plus the event. */
function recordingObserver(): CommandObserver & { events: Record<string, unknown>[] } {
  const events: Record<string, unknown>[] = [];
  const at = (kind: string) => (event: object) => void events.push({ kind, ...event });
  return {
    events,
    commandCompleted: at('completed'),
    commandFailed: at('failed'),
    commandRetried: at('retried'),
    commandParked: at('parked'),
  };
}

describe('Port: CommandObserver (told by the CommandProcessor)', () => {
  it('is told a completion with the handler run time and the latency from the send', async () => {
    // Prepare
    const observer = recordingObserver();
    const world = createWorld({ observer });
    world.handle(async () => {
      await new Promise((resolve) => setTimeout(resolve, 250));
      return 'ok';
    });
    const commandId = await world.send();
    await elapse(1_000); // waits in the queue

    // Act
    const delivering = world.deliver();
    await elapse(250);
    await delivering;

    // Assess
    expect(observer.events).toEqual([
      {
        kind: 'completed',
        domain: DOMAIN,
        commandType: COMMAND_TYPE,
        commandId,
        correlationId: expect.any(String),
        attempt: 1,
        durationMs: expect.closeTo(250, -1),
        latencyMs: 1_250,
      },
    ]);
  });

  it('is told a failed attempt and its retry', async () => {
    // Prepare
    const observer = recordingObserver();
    const world = createWorld({ observer });
    world.handle(() => {
      throw new TransientCommandError('BUSY', 'try later');
    });
    const commandId = await world.send();

    // Act
    const { outcome } = await world.deliver();

    // Assess
    expect(outcome).toBe('release');
    expect(observer.events).toEqual([
      expect.objectContaining({ kind: 'failed', commandId, commandType: COMMAND_TYPE, attempt: 1, errorType: 'TRANSIENT', errorCode: 'BUSY' }),
      expect.objectContaining({ kind: 'retried', commandId, attempt: 1, delaySeconds: 4 }),
    ]);
  });

  it('is told a failed attempt and its parking when the failure is permanent', async () => {
    // Prepare
    const observer = recordingObserver();
    const world = createWorld({ observer });
    world.handle(() => {
      throw new PermanentCommandError('DECLINED', 'card declined');
    });
    const commandId = await world.send();

    // Act
    await world.deliver();

    // Assess
    expect(observer.events.map(({ kind }) => kind)).toEqual(['failed', 'parked']);
    expect(observer.events[1]).toEqual({
      kind: 'parked',
      domain: DOMAIN,
      commandType: COMMAND_TYPE,
      commandId,
      correlationId: expect.any(String),
      errorCode: 'DECLINED',
    });
  });

  it('is told a malformed message parked, under the malformed command type', async () => {
    // Prepare
    const observer = recordingObserver();
    const world = createWorld({ observer });
    await world.transport.sendCommand(DOMAIN, 'this is not a command');

    // Act
    await world.deliver();

    // Assess
    expect(observer.events).toEqual([
      { kind: 'parked', domain: DOMAIN, commandType: MALFORMED_COMMAND_TYPE, commandId: expect.any(String), errorCode: 'MALFORMED_MESSAGE' },
    ]);
  });

  it('is told nothing of a late attempt whose write the store refused', async () => {
    // Prepare
    const observer = recordingObserver();
    const world = createWorld({ observer, handlerTimeoutMs: 600_000 });
    const first = gate();
    world.handle(async (_, { attempt }) => {
      if (attempt === 1) await first.promise;
      return `attempt ${attempt}`;
    });
    await world.send();
    const late = world.processor.process(await world.receive(30));
    await elapse(30_000);
    await world.deliver(30);

    // Act
    first.open();
    const outcome = await late;

    // Assess
    expect(outcome).toBe('abandon');
    expect(observer.events).toEqual([expect.objectContaining({ kind: 'completed', attempt: 2 })]);
  });

  it('runs the handler through aroundHandler, told the command', async () => {
    // Prepare
    const wrapped: unknown[] = [];
    const observer: CommandObserver = {
      ...recordingObserver(),
      aroundHandler: (command, run) => {
        wrapped.push(command);
        return run();
      },
    };
    const world = createWorld({ observer });
    world.handle(() => 'ok');
    const commandId = await world.send();

    // Act
    await world.deliver();

    // Assess
    expect(wrapped).toEqual([{ domain: DOMAIN, commandType: COMMAND_TYPE, commandId, correlationId: expect.any(String), attempt: 1 }]);
  });
});

describe('Class: CommandProcessor (log lines of a command)', () => {
  it("adds the command's domain, type, id and correlation id to its lines and to its handler's", async () => {
    // Prepare
    const logger = recordingLogger();
    const world = createWorld({ logger });
    world.handle((_, context) => {
      context.logger.info('charging');
      throw new TransientCommandError('BUSY', 'try later');
    });
    const commandId = await world.send();

    // Act
    await world.deliver();

    // Assess
    const keys = { domain: DOMAIN, commandType: COMMAND_TYPE, commandId, correlationId: expect.any(String) };
    expect(logger.lines).toEqual(
      expect.arrayContaining([
        { level: 'info', message: 'charging', context: keys },
        { level: 'warn', message: 'command failed', context: expect.objectContaining({ ...keys, errorCode: 'BUSY' }) },
      ]),
    );
  });
});
