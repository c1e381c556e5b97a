import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../../src/domain/envelope.ts';
import {
  assertInTsq,
  decideReceive,
  failureTransition,
  operatorCancelTransition,
  operatorCompleteTransition,
  operatorRetryTransition,
  retryRequestTransition,
  withoutPayload,
  pendingRecord,
  receivedRecord,
  receiveTransition,
  successTransition,
  type CommandState,
  type Transition,
} from '../../../src/domain/lifecycle.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../../src/domain/retryPolicy.ts';
import { InvalidOperationError } from '../../../src/errors.ts';
import { AuditEventType, CommandStatus, type CommandError } from '../../../src/types.ts';

const DOMAIN = 'payments';
const COMMAND_ID = '6f1c2a4e-8b7d-4c3a-9e5f-0a1b2c3d4e5f';
const TOKEN = 'token-1';
const LEASE = 'lease-1';
const SENT_AT = '2024-05-01T10:00:00.000Z';
const NOW = '2024-05-01T10:00:05.000Z';
/** The group a parked fixture without a lastError leaves (the lifecycle always records one when it parks). */
const UNRECORDED_ERROR_GROUP = { commandType: 'DebitAccount', errorType: 'PERMANENT', errorCode: '(none)' };
const DATA = { accountId: 'A-1', amount: 42 };
const NO_JITTER: RetryPolicy = { baseDelaySeconds: 2, maxDelaySeconds: 300, jitter: false };

function makeEnvelope(overrides: Partial<Envelope> = {}): Envelope {
  return {
    v: 1,
    domain: DOMAIN,
    commandType: 'DebitAccount',
    commandId: COMMAND_ID,
    data: DATA,
    maxAttempts: 3,
    correlationId: 'corr-1',
    token: TOKEN,
    sentAt: SENT_AT,
    ...overrides,
  };
}

function makeState(overrides: Partial<CommandState> = {}): CommandState {
  return {
    domain: DOMAIN,
    commandId: COMMAND_ID,
    commandType: 'DebitAccount',
    status: CommandStatus.PENDING,
    attempts: 0,
    maxAttempts: 3,
    token: TOKEN,
    correlationId: 'corr-1',
    createdAt: SENT_AT,
    updatedAt: SENT_AT,
    ...overrides,
  };
}

/** The store's condition (see DynamoCommandStore.apply): token, status (one or a list), attempts when given. */
function conditionHolds(expected: Transition['expect'], current: Pick<CommandState, 'status' | 'token' | 'attempts'>): boolean {
  const statuses: readonly CommandStatus[] = typeof expected.status === 'string' ? [expected.status] : expected.status;
  return expected.token === current.token && statuses.includes(current.status) && (expected.attempts === undefined || expected.attempts === current.attempts);
}

/** The state after the store applied a transition's changes. */
function afterApplying(current: CommandState, transition: Transition): CommandState {
  const next: CommandState = { ...current, status: transition.set.status, updatedAt: transition.set.updatedAt };
  if (transition.set.attempts !== undefined) next.attempts = transition.set.attempts;
  if (transition.set.token !== undefined) next.token = transition.set.token;
  return next;
}

const transientError: CommandError = { type: 'TRANSIENT', code: 'GATEWAY_DOWN', message: 'payment gateway unavailable' };
const transientDetails = { errorType: 'TRANSIENT', errorCode: 'GATEWAY_DOWN', errorMessage: 'payment gateway unavailable' };

describe('Function: pendingRecord', () => {
  it('records a PENDING command with no attempts and a SENT event at attempt 0', () => {
    // Prepare
    const envelope = makeEnvelope();

    // Act
    const record = pendingRecord(envelope);

    // Assess
    expect(record).toEqual({
      domain: DOMAIN,
      commandId: COMMAND_ID,
      commandType: 'DebitAccount',
      maxAttempts: 3,
      token: TOKEN,
      correlationId: 'corr-1',
      createdAt: SENT_AT,
      status: CommandStatus.PENDING,
      attempts: 0,
      updatedAt: SENT_AT,
      events: [{ eventType: AuditEventType.SENT, timestamp: SENT_AT, attempt: 0, details: {} }],
    });
  });

  it('does not store the payload', () => {
    // Prepare
    const envelope = makeEnvelope();

    // Act
    const record = pendingRecord(envelope);

    // Assess
    expect('data' in record).toBe(false);
  });

  it('keeps replyTo when the envelope has one and leaves the key out otherwise', () => {
    // Prepare
    const withReply = makeEnvelope({ replyTo: 'billing-replies' });
    const withoutReply = makeEnvelope();

    // Act
    const recordWithReply = pendingRecord(withReply);
    const recordWithoutReply = pendingRecord(withoutReply);

    // Assess
    expect(recordWithReply.replyTo).toBe('billing-replies');
    expect('replyTo' in recordWithoutReply).toBe(false);
  });
});

describe('Function: receivedRecord', () => {
  it('records an IN_PROGRESS command at attempt 1 with SENT at sentAt and RECEIVED at now', () => {
    // Prepare
    const envelope = makeEnvelope({ replyTo: 'billing-replies' });

    // Act
    const record = receivedRecord(envelope, NOW, LEASE);

    // Assess
    expect(record).toEqual({
      domain: DOMAIN,
      commandId: COMMAND_ID,
      commandType: 'DebitAccount',
      maxAttempts: 3,
      token: TOKEN,
      correlationId: 'corr-1',
      replyTo: 'billing-replies',
      createdAt: SENT_AT,
      status: CommandStatus.IN_PROGRESS,
      attempts: 1,
      lease: LEASE,
      updatedAt: NOW,
      events: [
        { eventType: AuditEventType.SENT, timestamp: SENT_AT, attempt: 0, details: {} },
        { eventType: AuditEventType.RECEIVED, timestamp: NOW, attempt: 1, details: {} },
      ],
    });
  });
});

describe('Function: receiveTransition', () => {
  it('moves a PENDING or IN_PROGRESS command with exactly the guessed attempts to the next attempt', () => {
    // Prepare
    const envelope = makeEnvelope();

    // Act
    const transition = receiveTransition(envelope, 1, NOW, LEASE);

    // Assess
    expect(transition).toEqual({
      domain: DOMAIN,
      commandId: COMMAND_ID,
      expect: { status: [CommandStatus.PENDING, CommandStatus.IN_PROGRESS], token: TOKEN, attempts: 1 },
      set: { status: CommandStatus.IN_PROGRESS, attempts: 2, updatedAt: NOW, lease: LEASE },
      events: [{ eventType: AuditEventType.RECEIVED, timestamp: NOW, attempt: 2, details: {} }],
    });
  });

  it('on a first receive, also says how to record the command if its message beat the producer', () => {
    // Prepare
    const envelope = makeEnvelope({ replyTo: 'replies' });

    // Act
    const first = receiveTransition(envelope, 0, NOW, LEASE)!;
    const later = receiveTransition(envelope, 1, NOW, LEASE)!;

    // Assess
    expect(first.createIfMissing).toEqual({
      identity: { commandType: 'DebitAccount', maxAttempts: 3, token: TOKEN, correlationId: 'corr-1', createdAt: SENT_AT, replyTo: 'replies' },
      events: [{ eventType: AuditEventType.SENT, timestamp: SENT_AT, attempt: 0, details: {} }],
    });
    expect(first.set).toEqual({ status: CommandStatus.IN_PROGRESS, attempts: 1, updatedAt: NOW, lease: LEASE });
    expect(later.createIfMissing).toBeUndefined();
  });

  it('never creates from the slow path, where the stored command is known', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.PENDING, attempts: 0 });

    // Act
    const decision = decideReceive(current, makeEnvelope(), false, NOW);

    // Assess
    expect(decision.kind).toBe('process');
    expect(decision.kind === 'process' && decision.transition.createIfMissing).toBeUndefined();
  });

  it('returns undefined when the guessed attempts already reach maxAttempts', () => {
    // Prepare
    const envelope = makeEnvelope({ maxAttempts: 3 });

    // Act
    const lastAllowed = receiveTransition(envelope, 2, NOW);
    const atMax = receiveTransition(envelope, 3, NOW);
    const beyondMax = receiveTransition(envelope, 4, NOW);

    // Assess
    expect(lastAllowed?.set.attempts).toBe(3);
    expect(atMax).toBeUndefined();
    expect(beyondMax).toBeUndefined();
  });

  it('does not apply when the guess about attempts is wrong', () => {
    // Prepare
    const transition = receiveTransition(makeEnvelope(), 0, NOW)!;

    // Act
    const holdsOnFirstDelivery = conditionHolds(transition.expect, makeState({ attempts: 0 }));
    const holdsAfterAnotherReceive = conditionHolds(transition.expect, makeState({ status: CommandStatus.IN_PROGRESS, attempts: 1 }));

    // Assess
    expect(holdsOnFirstDelivery).toBe(true);
    expect(holdsAfterAnotherReceive).toBe(false);
  });
});

describe('Function: decideReceive', () => {
  it('creates the command when it is not stored yet and the message is not a parked copy', () => {
    // Prepare
    const envelope = makeEnvelope();

    // Act
    const decision = decideReceive(undefined, envelope, false, NOW);

    // Assess
    expect(decision).toEqual({ kind: 'create' });
  });

  it('drops a parked copy of a command that does not exist', () => {
    // Prepare
    const envelope = makeEnvelope();

    // Act
    const decision = decideReceive(undefined, envelope, true, NOW);

    // Assess
    expect(decision).toEqual({ kind: 'drop', reason: 'parked copy of a command that does not exist' });
  });

  it.each([false, true])('drops a stale copy whose token differs from the stored one (fromTsq %s)', (fromTsq) => {
    // Prepare
    const current = makeState({ status: CommandStatus.IN_TSQ, token: 'token-2', attempts: 3 });
    const envelope = makeEnvelope({ token: 'token-1' });

    // Act
    const decision = decideReceive(current, envelope, fromTsq, NOW);

    // Assess
    expect(decision).toEqual({ kind: 'drop', reason: 'stale copy: the command was enqueued again since (status IN_TSQ)' });
  });

  it('processes a PENDING command as attempt 1, expecting exactly PENDING with 0 attempts', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.PENDING, attempts: 0 });

    // Act
    const decision = decideReceive(current, makeEnvelope(), false, NOW, { lease: LEASE });

    // Assess
    expect(decision).toEqual({
      kind: 'process',
      attempt: 1,
      transition: {
        domain: DOMAIN,
        commandId: COMMAND_ID,
        expect: { status: CommandStatus.PENDING, token: TOKEN, attempts: 0 },
        set: { status: CommandStatus.IN_PROGRESS, attempts: 1, updatedAt: NOW, lease: LEASE },
        events: [{ eventType: AuditEventType.RECEIVED, timestamp: NOW, attempt: 1, details: {} }],
      },
    });
  });

  it('processes a redelivered IN_PROGRESS command as the next attempt, expecting exactly IN_PROGRESS', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.IN_PROGRESS, attempts: 1 });

    // Act
    const decision = decideReceive(current, makeEnvelope(), false, NOW, { lease: LEASE });

    // Assess
    expect(decision.kind).toBe('process');
    if (decision.kind !== 'process') return;
    expect(decision.attempt).toBe(2);
    expect(decision.transition.expect).toEqual({ status: CommandStatus.IN_PROGRESS, token: TOKEN, attempts: 1 });
    expect(decision.transition.set).toEqual({ status: CommandStatus.IN_PROGRESS, attempts: 2, updatedAt: NOW, lease: LEASE });
  });

  it('takes over an attempt whose delivery could not reach the store, without counting a new one', () => {
    // Prepare: attempt 3 of 3 recorded by a delivery that then gave the message back (lease-0)
    const current = makeState({ status: CommandStatus.IN_PROGRESS, attempts: 3, maxAttempts: 3, lease: 'lease-0' });

    // Act
    const decision = decideReceive(current, makeEnvelope(), false, NOW, { lease: LEASE, retakeOf: 'lease-0' });

    // Assess
    expect(decision).toEqual({
      kind: 'process',
      attempt: 3,
      transition: {
        domain: DOMAIN,
        commandId: COMMAND_ID,
        expect: { status: CommandStatus.IN_PROGRESS, token: TOKEN, attempts: 3, lease: 'lease-0' },
        set: { status: CommandStatus.IN_PROGRESS, updatedAt: NOW, lease: LEASE },
        events: [
          {
            eventType: AuditEventType.RECEIVED,
            timestamp: NOW,
            attempt: 3,
            details: { retake: true, reason: 'the previous delivery of this attempt could not reach the store' },
          },
        ],
      },
    });
  });

  it('ignores a retake mark whose lease is not the stored one: that delivery never recorded its attempt', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.PENDING, attempts: 1, lease: 'lease-old' });

    // Act
    const decision = decideReceive(current, makeEnvelope(), false, NOW, { lease: LEASE, retakeOf: 'lease-0' });

    // Assess
    expect(decision.kind === 'process' && decision.attempt).toBe(2);
  });

  it('exhausts a command whose last attempt outlived the visibility timeout and parks it with the payload', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.IN_PROGRESS, attempts: 3, maxAttempts: 3 });
    const envelope = makeEnvelope({ data: { accountId: 'A-9', amount: 7 } });
    const error: CommandError = {
      type: 'TIMEOUT',
      code: 'VISIBILITY_TIMEOUT',
      message: 'attempt 3 did not finish within the visibility timeout',
    };
    const details = {
      errorType: 'TIMEOUT',
      errorCode: 'VISIBILITY_TIMEOUT',
      errorMessage: 'attempt 3 did not finish within the visibility timeout',
    };

    // Act
    const decision = decideReceive(current, envelope, false, NOW);

    // Assess
    expect(decision).toEqual({
      kind: 'exhaust',
      error,
      transition: {
        domain: DOMAIN,
        commandId: COMMAND_ID,
        expect: { status: CommandStatus.IN_PROGRESS, token: TOKEN, attempts: 3 },
        set: {
          status: CommandStatus.IN_TSQ,
          updatedAt: NOW,
          lastError: error,
          data: { accountId: 'A-9', amount: 7 },
          tsq: 'enter',
          tsqGroup: { commandType: 'DebitAccount', errorType: 'TIMEOUT', errorCode: 'VISIBILITY_TIMEOUT' },
        },
        events: [
          { eventType: AuditEventType.FAILED, timestamp: NOW, attempt: 3, details },
          { eventType: AuditEventType.RETRY_EXHAUSTED, timestamp: NOW, attempt: 3, details: { maxAttempts: 3 } },
          { eventType: AuditEventType.MOVED_TO_TSQ, timestamp: NOW, attempt: 3, details },
        ],
      },
    });
  });

  it('redrives a parked copy of an IN_TSQ command as an operator retry request under a fresh token', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.IN_TSQ, attempts: 3 });

    // Act
    const decision = decideReceive(current, makeEnvelope(), true, NOW);

    // Assess
    if (decision.kind !== 'redrive') throw new Error(`expected redrive, got ${decision.kind}`);
    expect(decision.token).toMatch(/^[0-9a-f-]{36}$/);
    expect(decision.token).not.toBe(TOKEN);
    expect(decision.details).toEqual({ source: 'StartMessageMoveTask' });
    expect(decision.transition).toEqual(retryRequestTransition(current, 'sqs-redrive', decision.token, NOW, { source: 'StartMessageMoveTask' }));
  });

  it.each([CommandStatus.PENDING, CommandStatus.IN_PROGRESS, CommandStatus.COMPLETED, CommandStatus.CANCELLED])(
    'drops a parked copy when the command is %s rather than IN_TSQ',
    (status) => {
      // Prepare
      const current = makeState({ status, attempts: 1 });

      // Act
      const decision = decideReceive(current, makeEnvelope(), true, NOW);

      // Assess
      expect(decision).toEqual({ kind: 'drop', reason: `parked copy redriven, but the command is ${status} already` });
    },
  );

  it('reparks an IN_TSQ command whose message arrives on the commands queue', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.IN_TSQ, attempts: 2 });

    // Act
    const decision = decideReceive(current, makeEnvelope(), false, NOW);

    // Assess
    expect(decision).toEqual({ kind: 'repark' });
  });

  it('resends the reply for a redelivered COMPLETED command that has replyTo', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.COMPLETED, attempts: 1, replyTo: 'billing-replies', result: { ok: true } });

    // Act
    const decision = decideReceive(current, makeEnvelope({ replyTo: 'billing-replies' }), false, NOW);

    // Assess
    expect(decision.kind).toBe('resend-reply');
    expect(decision.kind === 'resend-reply' && decision.state).toBe(current);
  });

  it('drops a redelivered COMPLETED command without replyTo', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.COMPLETED, attempts: 1 });

    // Act
    const decision = decideReceive(current, makeEnvelope(), false, NOW);

    // Assess
    expect(decision).toEqual({ kind: 'drop', reason: 'already COMPLETED' });
  });

  it('drops a redelivered CANCELLED command, even with replyTo', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.CANCELLED, attempts: 2, replyTo: 'billing-replies' });

    // Act
    const decision = decideReceive(current, makeEnvelope({ replyTo: 'billing-replies' }), false, NOW);

    // Assess
    expect(decision).toEqual({ kind: 'drop', reason: 'already CANCELLED' });
  });
});

describe('Function: successTransition', () => {
  it('completes the command, expecting IN_PROGRESS with the same token and attempt', () => {
    // Prepare
    const ref = { domain: DOMAIN, commandId: COMMAND_ID, token: TOKEN, attempt: 2 };

    // Act
    const transition = successTransition(ref, { receipt: 'R-1' }, NOW);

    // Assess
    expect(transition).toEqual({
      domain: DOMAIN,
      commandId: COMMAND_ID,
      expect: { status: CommandStatus.IN_PROGRESS, token: TOKEN, attempts: 2 },
      set: { status: CommandStatus.COMPLETED, updatedAt: NOW, result: { receipt: 'R-1' } },
      events: [{ eventType: AuditEventType.COMPLETED, timestamp: NOW, attempt: 2, details: {} }],
    });
  });

  it('leaves result out when the handler returned nothing, but keeps a null result', () => {
    // Prepare
    const ref = { domain: DOMAIN, commandId: COMMAND_ID, token: TOKEN, attempt: 1 };

    // Act
    const withoutResult = successTransition(ref, undefined, NOW);
    const withNull = successTransition(ref, null, NOW);

    // Assess
    expect('result' in withoutResult.set).toBe(false);
    expect('result' in withNull.set).toBe(true);
    expect(withNull.set.result).toBeNull();
  });

  it('cannot be applied by a late finisher once a redelivery started the next attempt', () => {
    // Prepare
    const lateRef = { domain: DOMAIN, commandId: COMMAND_ID, token: TOKEN, attempt: 1 };
    const inAttempt1 = makeState({ status: CommandStatus.IN_PROGRESS, attempts: 1 });
    const redelivery = decideReceive(inAttempt1, makeEnvelope(), false, NOW);
    if (redelivery.kind !== 'process') throw new Error(`expected process, got ${redelivery.kind}`);
    const inAttempt2 = afterApplying(inAttempt1, redelivery.transition);

    // Act
    const late = successTransition(lateRef, 'late', NOW);

    // Assess
    expect(conditionHolds(late.expect, inAttempt1)).toBe(true);
    expect(inAttempt2).toMatchObject({ status: CommandStatus.IN_PROGRESS, attempts: 2 });
    expect(conditionHolds(late.expect, inAttempt2)).toBe(false);
  });

  it('cannot be applied by a late finisher once the command was parked or re-enqueued by an operator', () => {
    // Prepare
    const lateRef = { domain: DOMAIN, commandId: COMMAND_ID, token: TOKEN, attempt: 3 };
    const parked = makeState({ status: CommandStatus.IN_TSQ, attempts: 3, data: DATA });
    const reEnqueued = afterApplying(parked, operatorRetryTransition(parked, 'alice', 'token-2', NOW));
    const runningAgain = { ...reEnqueued, status: CommandStatus.IN_PROGRESS, attempts: 3 };

    // Act
    const late = successTransition(lateRef, 'late', NOW);

    // Assess
    expect(conditionHolds(late.expect, parked)).toBe(false);
    expect(conditionHolds(late.expect, reEnqueued)).toBe(false);
    expect(conditionHolds(late.expect, runningAgain)).toBe(false);
  });
});

describe('Function: failureTransition', () => {
  const ref = { domain: DOMAIN, commandId: COMMAND_ID, commandType: 'DebitAccount', token: TOKEN, attempt: 1, maxAttempts: 3 };

  it('parks a permanent failure at once, with only a MOVED_TO_TSQ event, even with attempts left', () => {
    // Prepare
    const error: CommandError = { type: 'PERMANENT', code: 'CARD_DECLINED', message: 'card declined', details: { last4: '4242' } };

    // Act
    const decision = failureTransition(ref, error, DATA, NO_JITTER, NOW);

    // Assess
    expect(decision).toEqual({
      kind: 'tsq',
      transition: {
        domain: DOMAIN,
        commandId: COMMAND_ID,
        expect: { status: CommandStatus.IN_PROGRESS, token: TOKEN, attempts: 1 },
        set: {
          status: CommandStatus.IN_TSQ,
          updatedAt: NOW,
          lastError: error,
          data: DATA,
          tsq: 'enter',
          tsqGroup: { commandType: 'DebitAccount', errorType: 'PERMANENT', errorCode: 'CARD_DECLINED' },
        },
        events: [
          {
            eventType: AuditEventType.MOVED_TO_TSQ,
            timestamp: NOW,
            attempt: 1,
            details: { errorType: 'PERMANENT', errorCode: 'CARD_DECLINED', errorMessage: 'card declined', errorDetails: { last4: '4242' } },
          },
        ],
      },
    });
  });

  it('retries a transient failure with attempts left: back to PENDING with a FAILED event and a backoff delay', () => {
    // Prepare
    const secondAttempt = { ...ref, attempt: 2 };

    // Act
    const decision = failureTransition(secondAttempt, transientError, DATA, NO_JITTER, NOW);

    // Assess
    expect(decision).toEqual({
      kind: 'retry',
      delaySeconds: 4,
      transition: {
        domain: DOMAIN,
        commandId: COMMAND_ID,
        expect: { status: CommandStatus.IN_PROGRESS, token: TOKEN, attempts: 2 },
        set: { status: CommandStatus.PENDING, updatedAt: NOW, lastError: transientError },
        events: [{ eventType: AuditEventType.FAILED, timestamp: NOW, attempt: 2, details: transientDetails }],
      },
    });
  });

  it('passes the injected random to the backoff when the policy has jitter', () => {
    // Prepare
    const jittered: RetryPolicy = { baseDelaySeconds: 10, maxDelaySeconds: 300, jitter: true };

    // Act
    const low = failureTransition(ref, transientError, DATA, jittered, NOW, () => 0);
    const high = failureTransition(ref, transientError, DATA, jittered, NOW, () => 0.99);

    // Assess
    expect(low.kind === 'retry' && low.delaySeconds).toBe(5);
    expect(high.kind === 'retry' && high.delaySeconds).toBe(10);
  });

  it('leaves the retried command in a state the next receive of the same message accepts', () => {
    // Prepare
    const running = makeState({ status: CommandStatus.IN_PROGRESS, attempts: 1 });
    const decision = failureTransition(ref, transientError, DATA, NO_JITTER, NOW);
    const pending = afterApplying(running, decision.transition);

    // Act
    const nextReceive = receiveTransition(makeEnvelope(), pending.attempts, NOW)!;

    // Assess
    expect(pending).toMatchObject({ status: CommandStatus.PENDING, attempts: 1, token: TOKEN });
    expect(conditionHolds(nextReceive.expect, pending)).toBe(true);
    expect(nextReceive.set.attempts).toBe(2);
  });

  it('parks a transient failure at maxAttempts with FAILED, RETRY_EXHAUSTED and MOVED_TO_TSQ', () => {
    // Prepare
    const lastAttempt = { ...ref, attempt: 3 };

    // Act
    const decision = failureTransition(lastAttempt, transientError, DATA, NO_JITTER, NOW);

    // Assess
    expect(decision).toEqual({
      kind: 'tsq',
      transition: {
        domain: DOMAIN,
        commandId: COMMAND_ID,
        expect: { status: CommandStatus.IN_PROGRESS, token: TOKEN, attempts: 3 },
        set: {
          status: CommandStatus.IN_TSQ,
          updatedAt: NOW,
          lastError: transientError,
          data: DATA,
          tsq: 'enter',
          tsqGroup: { commandType: 'DebitAccount', errorType: 'TRANSIENT', errorCode: 'GATEWAY_DOWN' },
        },
        events: [
          { eventType: AuditEventType.FAILED, timestamp: NOW, attempt: 3, details: transientDetails },
          { eventType: AuditEventType.RETRY_EXHAUSTED, timestamp: NOW, attempt: 3, details: { maxAttempts: 3 } },
          { eventType: AuditEventType.MOVED_TO_TSQ, timestamp: NOW, attempt: 3, details: transientDetails },
        ],
      },
    });
  });

  it('treats a TIMEOUT like a transient failure: retry with attempts left, park at maxAttempts', () => {
    // Prepare
    const timeout: CommandError = { type: 'TIMEOUT', code: 'TIMEOUT', message: 'handler did not finish within 100 ms' };

    // Act
    const withAttemptsLeft = failureTransition(ref, timeout, DATA, NO_JITTER, NOW);
    const atMax = failureTransition({ ...ref, attempt: 3 }, timeout, DATA, NO_JITTER, NOW);

    // Assess
    expect(withAttemptsLeft.kind).toBe('retry');
    expect(withAttemptsLeft.transition.set).toEqual({ status: CommandStatus.PENDING, updatedAt: NOW, lastError: timeout });
    expect(withAttemptsLeft.kind === 'retry' && withAttemptsLeft.delaySeconds).toBe(2);
    expect(atMax.kind).toBe('tsq');
    expect(atMax.transition.events.map((e) => e.eventType)).toEqual([AuditEventType.FAILED, AuditEventType.RETRY_EXHAUSTED, AuditEventType.MOVED_TO_TSQ]);
  });

  it('parks at once when maxAttempts is 1', () => {
    // Prepare
    const onlyAttempt = { ...ref, attempt: 1, maxAttempts: 1 };

    // Act
    const decision = failureTransition(onlyAttempt, transientError, DATA, NO_JITTER, NOW);

    // Assess
    expect(decision.kind).toBe('tsq');
    expect(decision.transition.events[1]).toEqual({
      eventType: AuditEventType.RETRY_EXHAUSTED,
      timestamp: NOW,
      attempt: 1,
      details: { maxAttempts: 1 },
    });
  });

  it('cannot be applied by a late finisher once a redelivery started the next attempt', () => {
    // Prepare
    const inAttempt2 = makeState({ status: CommandStatus.IN_PROGRESS, attempts: 2 });

    // Act
    const late = failureTransition(ref, transientError, DATA, NO_JITTER, NOW);

    // Assess
    expect(late.transition.expect.attempts).toBe(1);
    expect(conditionHolds(late.transition.expect, inAttempt2)).toBe(false);
  });
});

describe('Function: assertInTsq', () => {
  it('accepts a command in the TSQ', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.IN_TSQ });

    // Act
    const act = () => assertInTsq(current, 'operatorRetry');

    // Assess
    expect(act).not.toThrow();
  });

  it('throws InvalidOperationError naming the action, the command and its status', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.COMPLETED });

    // Act
    let thrown: unknown;
    try {
      assertInTsq(current, 'operatorCancel');
    } catch (error) {
      thrown = error;
    }

    // Assess
    expect(thrown).toBeInstanceOf(InvalidOperationError);
    expect((thrown as InvalidOperationError).message).toBe(
      `operatorCancel is allowed only for a command in the troubleshooting queue; ${DOMAIN}/${COMMAND_ID} is COMPLETED`,
    );
    expect((thrown as InvalidOperationError).currentStatus).toBe('COMPLETED');
  });
});

describe('Function: operatorRetryTransition', () => {
  it('re-enqueues an IN_TSQ command as PENDING with 0 attempts and a new token', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.IN_TSQ, attempts: 3, data: DATA });

    // Act
    const transition = operatorRetryTransition(current, 'alice', 'token-2', NOW);

    // Assess
    expect(transition).toEqual({
      domain: DOMAIN,
      commandId: COMMAND_ID,
      expect: { status: CommandStatus.IN_TSQ, token: TOKEN, attempts: 3 },
      set: { status: CommandStatus.PENDING, attempts: 0, token: 'token-2', updatedAt: NOW, tsq: 'leave', tsqGroup: UNRECORDED_ERROR_GROUP, pendingRetry: null },
      events: [{ eventType: AuditEventType.OPERATOR_RETRY, timestamp: NOW, attempt: 3, details: { operator: 'alice' } }],
    });
  });
});

describe('Function: operatorCancelTransition', () => {
  it('cancels an IN_TSQ command with the operator and reason in the event', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.IN_TSQ, attempts: 2 });

    // Act
    const transition = operatorCancelTransition(current, 'bob', 'duplicate payment', NOW);

    // Assess
    expect(transition).toEqual({
      domain: DOMAIN,
      commandId: COMMAND_ID,
      expect: { status: CommandStatus.IN_TSQ, token: TOKEN, attempts: 2 },
      set: { status: CommandStatus.CANCELLED, updatedAt: NOW, tsq: 'leave', tsqGroup: UNRECORDED_ERROR_GROUP, pendingRetry: null },
      events: [{ eventType: AuditEventType.OPERATOR_CANCEL, timestamp: NOW, attempt: 2, details: { operator: 'bob', reason: 'duplicate payment' } }],
    });
  });
});

describe('Function: operatorCompleteTransition', () => {
  it('completes an IN_TSQ command with the given result, recorded in the event', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.IN_TSQ, attempts: 1 });

    // Act
    const transition = operatorCompleteTransition(current, 'carol', { settledManually: true }, NOW);

    // Assess
    expect(transition).toEqual({
      domain: DOMAIN,
      commandId: COMMAND_ID,
      expect: { status: CommandStatus.IN_TSQ, token: TOKEN, attempts: 1 },
      set: {
        status: CommandStatus.COMPLETED,
        updatedAt: NOW,
        result: { settledManually: true },
        tsq: 'leave',
        tsqGroup: UNRECORDED_ERROR_GROUP,
        pendingRetry: null,
      },
      events: [
        {
          eventType: AuditEventType.OPERATOR_COMPLETE,
          timestamp: NOW,
          attempt: 1,
          details: { operator: 'carol', resultData: { settledManually: true } },
        },
      ],
    });
  });
});

describe('Function: operator transitions outside the TSQ', () => {
  const actions = [
    ['operatorRetry', (current: CommandState) => operatorRetryTransition(current, 'alice', 'token-2', NOW)],
    ['operatorCancel', (current: CommandState) => operatorCancelTransition(current, 'alice', 'no longer needed', NOW)],
    ['operatorComplete', (current: CommandState) => operatorCompleteTransition(current, 'alice', null, NOW)],
  ] as const;
  const statuses = [CommandStatus.PENDING, CommandStatus.IN_PROGRESS, CommandStatus.COMPLETED, CommandStatus.CANCELLED];
  const cases = actions.flatMap(([name, run]) => statuses.map((status) => [name, status, run] as const));

  it.each(cases)('%s throws InvalidOperationError for a %s command', (name, status, run) => {
    // Prepare
    const current = makeState({ status, attempts: 1 });

    // Act
    const act = () => run(current);

    // Assess
    expect(act).toThrow(InvalidOperationError);
    expect(act).toThrow(`${name} is allowed only for a command in the troubleshooting queue; ${DOMAIN}/${COMMAND_ID} is ${status}`);
  });
});

describe('Function: withoutPayload', () => {
  it('drops the payload and error details but keeps the status, the events and the reason', () => {
    // Prepare
    const error: CommandError = { type: 'PERMANENT', code: 'BIG', message: 'too big', details: { huge: 'x' } };
    const parking = failureTransition(
      { domain: DOMAIN, commandId: COMMAND_ID, commandType: 'DebitAccount', token: TOKEN, attempt: 1, maxAttempts: 3 },
      error,
      DATA,
      DEFAULT_RETRY_POLICY,
      NOW,
    );

    // Act
    const slim = withoutPayload(parking.transition);

    // Assess
    expect(slim.set.data).toBeUndefined();
    expect(slim.set.status).toBe(CommandStatus.IN_TSQ);
    expect(slim.set.tsq).toBe('enter');
    expect(slim.set.lastError).toEqual({ type: 'PERMANENT', code: 'BIG', message: expect.stringMatching(/^too big \[payload not stored/) });
    expect(slim.events).toEqual([
      { eventType: AuditEventType.MOVED_TO_TSQ, timestamp: NOW, attempt: 1, details: { errorType: 'PERMANENT', errorCode: 'BIG', errorMessage: 'too big' } },
    ]);
    expect(slim.expect).toEqual(parking.transition.expect);
  });
});

describe('Function: retryRequestTransition', () => {
  it('keeps the command IN_TSQ and records the new token and operator, expecting the parked state', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.IN_TSQ, attempts: 3, updatedAt: SENT_AT });

    // Act
    const transition = retryRequestTransition(current, 'alice', 'token-2', NOW);

    // Assess
    expect(transition).toEqual({
      domain: DOMAIN,
      commandId: COMMAND_ID,
      expect: { status: CommandStatus.IN_TSQ, token: TOKEN, attempts: 3 },
      set: { status: CommandStatus.IN_TSQ, updatedAt: SENT_AT, pendingRetry: { token: 'token-2', operator: 'alice', requestedAt: NOW } },
      events: [],
    });
  });

  it('is refused outside the TSQ', () => {
    expect(() => retryRequestTransition(makeState({ status: CommandStatus.COMPLETED }), 'alice', 'token-2', NOW)).toThrow(InvalidOperationError);
  });
});

describe('Function: decideReceive (a retry whose last write has not landed)', () => {
  it('adopts the retry when its message arrives while the command is still IN_TSQ with that pending token', () => {
    // Prepare
    const current = makeState({
      status: CommandStatus.IN_TSQ,
      attempts: 3,
      pendingRetry: { token: 'token-2', operator: 'alice', requestedAt: SENT_AT },
    });

    // Act
    const decision = decideReceive(current, makeEnvelope({ token: 'token-2' }), false, NOW, { lease: LEASE });

    // Assess
    expect(decision).toEqual({
      kind: 'process',
      attempt: 1,
      transition: {
        domain: DOMAIN,
        commandId: COMMAND_ID,
        expect: { status: CommandStatus.IN_TSQ, token: TOKEN, attempts: 3 },
        set: {
          status: CommandStatus.IN_PROGRESS,
          attempts: 1,
          token: 'token-2',
          updatedAt: NOW,
          tsq: 'leave',
          tsqGroup: UNRECORDED_ERROR_GROUP,
          pendingRetry: null,
          lease: LEASE,
        },
        events: [
          { eventType: AuditEventType.OPERATOR_RETRY, timestamp: NOW, attempt: 3, details: { operator: 'alice' } },
          { eventType: AuditEventType.RECEIVED, timestamp: NOW, attempt: 1, details: {} },
        ],
      },
    });
  });

  it('drops a message whose token is neither the current one nor the pending one', () => {
    // Prepare
    const current = makeState({ status: CommandStatus.IN_TSQ, pendingRetry: { token: 'token-3', operator: 'alice', requestedAt: SENT_AT } });

    // Act
    const decision = decideReceive(current, makeEnvelope({ token: 'token-2' }), false, NOW);

    // Assess
    expect(decision.kind).toBe('drop');
  });
});
