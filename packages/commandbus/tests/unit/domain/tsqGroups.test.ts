import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../../src/domain/envelope.ts';
import {
  DEAD_LETTERED_ERROR,
  deadLetteredTransition,
  decideReceive,
  editRetryRequestTransition,
  failureTransition,
  operatorCancelTransition,
  operatorCompleteTransition,
  operatorRetryTransition,
  retryRequestTransition,
  successTransition,
  tsqGroupOf,
  withoutPayload,
  type CommandState,
} from '../../../src/domain/lifecycle.ts';
import { DEFAULT_RETRY_POLICY } from '../../../src/domain/retryPolicy.ts';
import { CommandStatus, type CommandError } from '../../../src/types.ts';

const DOMAIN = 'payments';
const COMMAND_ID = '6f1c2a4e-8b7d-4c3a-9e5f-0a1b2c3d4e5f';
const NOW = '2024-05-01T10:00:05.000Z';
const DATA = { accountId: 'A-1' };
const DECLINED: CommandError = { type: 'PERMANENT', code: 'CARD_DECLINED', message: 'card declined' };
const DECLINED_GROUP = { commandType: 'DebitAccount', errorType: 'PERMANENT', errorCode: 'CARD_DECLINED' };

const state = (overrides: Partial<CommandState> = {}): CommandState => ({
  domain: DOMAIN,
  commandId: COMMAND_ID,
  commandType: 'DebitAccount',
  status: CommandStatus.IN_PROGRESS,
  attempts: 1,
  maxAttempts: 3,
  token: 'token-1',
  correlationId: 'corr-1',
  createdAt: NOW,
  updatedAt: NOW,
  ...overrides,
});
const parked = (overrides: Partial<CommandState> = {}) => state({ status: CommandStatus.IN_TSQ, lastError: DECLINED, movedToTsqAt: NOW, ...overrides });
const envelope = (overrides: Partial<Envelope> = {}): Envelope => ({
  v: 1,
  domain: DOMAIN,
  commandType: 'DebitAccount',
  commandId: COMMAND_ID,
  data: DATA,
  maxAttempts: 3,
  correlationId: 'corr-1',
  token: 'token-1',
  sentAt: NOW,
  ...overrides,
});
const ref = { domain: DOMAIN, commandId: COMMAND_ID, commandType: 'DebitAccount', token: 'token-1', attempt: 1, maxAttempts: 3 };

describe('TSQ groups: a transition that parks names the group it enters', () => {
  it('a permanent failure enters (type, PERMANENT, its code)', () => {
    const decision = failureTransition(ref, DECLINED, DATA, DEFAULT_RETRY_POLICY, NOW);
    expect(decision.transition.set).toMatchObject({ tsq: 'enter', tsqGroup: DECLINED_GROUP });
  });

  it('a transient failure at maxAttempts enters the group of that last error; one with attempts left enters none', () => {
    const error: CommandError = { type: 'TRANSIENT', code: 'GATEWAY_DOWN', message: 'down' };
    const exhausted = failureTransition({ ...ref, attempt: 3 }, error, DATA, DEFAULT_RETRY_POLICY, NOW);
    const retried = failureTransition(ref, error, DATA, DEFAULT_RETRY_POLICY, NOW);
    expect(exhausted.transition.set.tsqGroup).toEqual({ commandType: 'DebitAccount', errorType: 'TRANSIENT', errorCode: 'GATEWAY_DOWN' });
    expect(retried.transition.set.tsq).toBeUndefined();
    expect(retried.transition.set.tsqGroup).toBeUndefined();
  });

  it('an attempt that outlived the visibility timeout enters (type, TIMEOUT, VISIBILITY_TIMEOUT), with the stored type', () => {
    const decision = decideReceive(state({ attempts: 3 }), envelope(), false, NOW);
    expect(decision.kind).toBe('exhaust');
    if (decision.kind !== 'exhaust') return;
    expect(decision.transition.set.tsqGroup).toEqual({ commandType: 'DebitAccount', errorType: 'TIMEOUT', errorCode: 'VISIBILITY_TIMEOUT' });
  });

  it('a dead-lettered command enters (type, TRANSIENT, DEAD_LETTERED)', () => {
    const transition = deadLetteredTransition(state({ status: CommandStatus.PENDING }), DATA, NOW);
    expect(transition.set).toMatchObject({
      tsq: 'enter',
      tsqGroup: { commandType: 'DebitAccount', errorType: 'TRANSIENT', errorCode: DEAD_LETTERED_ERROR.code },
    });
  });

  it('parking without the payload keeps the group (type and code are kept, only the message changes)', () => {
    const parking = failureTransition(ref, DECLINED, DATA, DEFAULT_RETRY_POLICY, NOW).transition;
    expect(withoutPayload(parking).set.tsqGroup).toEqual(DECLINED_GROUP);
  });
});

describe('TSQ groups: a transition that unparks names the group it leaves, from the stored state', () => {
  it.each([
    ['operator retry', (current: CommandState) => operatorRetryTransition(current, 'alice', 'token-2', NOW)],
    ['operator cancel', (current: CommandState) => operatorCancelTransition(current, 'alice', 'duplicate', NOW)],
    ['operator complete', (current: CommandState) => operatorCompleteTransition(current, 'alice', { manual: true }, NOW)],
  ])('%s leaves the group of the stored type and lastError', (_name, transition) => {
    const current = parked({ commandType: 'RefundOrder', lastError: { type: 'TRANSIENT', code: 'DEAD_LETTERED', message: 'x' } });
    expect(transition(current).set).toMatchObject({
      tsq: 'leave',
      tsqGroup: { commandType: 'RefundOrder', errorType: 'TRANSIENT', errorCode: 'DEAD_LETTERED' },
    });
  });

  it('a worker adopting a pending retry leaves the group', () => {
    const current = parked({ pendingRetry: { token: 'token-2', operator: 'alice', requestedAt: NOW } });
    const decision = decideReceive(current, envelope({ token: 'token-2' }), false, NOW);
    expect(decision.kind).toBe('process');
    if (decision.kind !== 'process') return;
    expect(decision.transition.set).toMatchObject({ tsq: 'leave', tsqGroup: DECLINED_GROUP });
  });

  it('a redrive request, a retry request and an edit request keep the command parked: no group moves', () => {
    const current = parked();
    expect(retryRequestTransition(current, 'alice', 'token-2', NOW).set.tsqGroup).toBeUndefined();
    expect(editRetryRequestTransition(current, 'alice', 'token-2', { accountId: 'A-2' }, NOW).set.tsqGroup).toBeUndefined();
    const redrive = decideReceive(current, envelope(), true, NOW);
    expect(redrive.kind === 'redrive' && redrive.transition.set.tsqGroup).toBeUndefined();
  });

  it('the happy path names no group', () => {
    expect(successTransition(ref, { ok: true }, NOW).set.tsqGroup).toBeUndefined();
  });

  it('a parked state without a recorded error leaves the (none) group the store counted it in', () => {
    const { lastError: _none, ...withoutError } = parked();
    expect(operatorCancelTransition(withoutError, 'alice', 'no', NOW).set.tsqGroup).toEqual(tsqGroupOf('DebitAccount', undefined));
    expect(tsqGroupOf('DebitAccount', undefined)).toEqual({ commandType: 'DebitAccount', errorType: 'PERMANENT', errorCode: '(none)' });
  });
});
