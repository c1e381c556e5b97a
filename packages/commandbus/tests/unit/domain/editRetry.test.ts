import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../../src/domain/envelope.ts';
import { decideReceive, editRetryRequestTransition, type CommandState } from '../../../src/domain/lifecycle.ts';
import { InvalidOperationError } from '../../../src/errors.ts';
import { CommandStatus } from '../../../src/types.ts';

const DOMAIN = 'payments';
const COMMAND_ID = '6f1c2a4e-8b7d-4c3a-9e5f-0a1b2c3d4e5f';
const NOW = '2024-05-01T10:05:00.000Z';
const BEFORE = { accountId: 'A-1', amount: -42 };
const AFTER = { accountId: 'A-1', amount: 42 };

function parked(overrides: Partial<CommandState> = {}): CommandState {
  return {
    domain: DOMAIN,
    commandId: COMMAND_ID,
    commandType: 'DebitAccount',
    status: CommandStatus.IN_TSQ,
    attempts: 1,
    maxAttempts: 3,
    token: 'token-1',
    correlationId: 'corr-1',
    createdAt: '2024-05-01T10:00:00.000Z',
    updatedAt: '2024-05-01T10:00:01.000Z',
    data: BEFORE,
    ...overrides,
  };
}

describe('Function: editRetryRequestTransition', () => {
  it('replaces the payload and records the pending retry while the command stays IN_TSQ, fenced on the edit count', () => {
    // Act
    const transition = editRetryRequestTransition(parked(), 'alice', 'token-2', AFTER, NOW);

    // Assess
    expect(transition.expect).toEqual({ status: CommandStatus.IN_TSQ, token: 'token-1', attempts: 1, edits: 0 });
    expect(transition.set).toEqual({
      status: CommandStatus.IN_TSQ,
      updatedAt: '2024-05-01T10:00:01.000Z',
      data: AFTER,
      edits: 1,
      pendingRetry: { token: 'token-2', operator: 'alice', requestedAt: NOW, details: { edited: true, editNumber: 1 } },
    });
    expect(transition.events).toEqual([]);
  });

  it('keeps the payload before and after, the operator and the time in the history it writes with the transition', () => {
    // Act
    const transition = editRetryRequestTransition(parked({ edits: 4 }), 'bob', 'token-2', AFTER, NOW);

    // Assess
    expect(transition.history).toEqual({ domain: DOMAIN, commandId: COMMAND_ID, editNumber: 5, editedAt: NOW, operator: 'bob', before: BEFORE, after: AFTER });
    expect(transition.expect.edits).toBe(4);
    expect(transition.set.edits).toBe(5);
  });

  it('records no before when the command had no payload stored', () => {
    // Prepare
    const { data: _data, ...withoutData } = parked();

    // Act
    const transition = editRetryRequestTransition(withoutData, 'alice', 'token-2', AFTER, NOW);

    // Assess
    expect(transition.history).not.toHaveProperty('before');
    expect(transition.history?.after).toEqual(AFTER);
  });

  it.each([CommandStatus.PENDING, CommandStatus.IN_PROGRESS, CommandStatus.COMPLETED, CommandStatus.CANCELLED])('refuses a command that is %s', (status) => {
    // Act & Assess
    expect(() => editRetryRequestTransition(parked({ status }), 'alice', 'token-2', AFTER, NOW)).toThrow(InvalidOperationError);
  });

  it('lets a worker adopting the retry record the edit in its OPERATOR_RETRY event', () => {
    // Prepare
    const transition = editRetryRequestTransition(parked(), 'alice', 'token-2', AFTER, NOW);
    const requested = parked({ data: AFTER, edits: 1, pendingRetry: transition.set.pendingRetry! });
    const envelope: Envelope = {
      v: 1,
      domain: DOMAIN,
      commandType: 'DebitAccount',
      commandId: COMMAND_ID,
      data: AFTER,
      maxAttempts: 3,
      correlationId: 'corr-1',
      token: 'token-2',
      sentAt: '2024-05-01T10:00:00.000Z',
    };

    // Act
    const decision = decideReceive(requested, envelope, false, NOW, { lease: 'lease-2' });

    // Assess
    expect(decision.kind).toBe('process');
    if (decision.kind !== 'process') return;
    expect(decision.transition.set).toMatchObject({ status: CommandStatus.IN_PROGRESS, token: 'token-2', pendingRetry: null });
    expect(decision.transition.events[0]).toMatchObject({ eventType: 'OPERATOR_RETRY', details: { operator: 'alice', edited: true, editNumber: 1 } });
  });
});
