/**
 * The command lifecycle as pure data: every function here returns the transition to apply (the state
 * it expects, the changes, the audit events) or a decision. Nothing here talks to AWS; the store
 * applies a transition as one conditional write, so state and audit always move together.
 */
import { createHash, randomUUID } from 'node:crypto';
import { InvalidOperationError } from '../errors.ts';
import {
  AuditEventType,
  CommandStatus,
  type Command,
  type CommandError,
  type JsonObject,
  type JsonValue,
  type PayloadEdit,
  type TsqGroupKey,
} from '../types.ts';
import type { Envelope } from './envelope.ts';
import { backoffSeconds, type RetryPolicy } from './retryPolicy.ts';

/** The stored state of a command, as the store hands it to the lifecycle. */
export interface CommandState extends Command {
  /** The current enqueue token: a message carrying another one is a stale copy. */
  token: string;
  movedToTsqAt?: string;
  /** A retry asked for while the command is still IN_TSQ, whose message may already be on its way. */
  pendingRetry?: PendingRetry;
  /**
   * Identifies the delivery that recorded the current attempt. A worker that never learned whether
   * its write landed recognises its own write by it, so an unknown outcome is never mistaken for
   * another worker's attempt; and it fences outcomes, so only that delivery can end the attempt.
   */
  lease?: string;
}

export interface PendingRetry {
  token: string;
  operator: string;
  details?: JsonObject;
  requestedAt: string;
}

export interface NewEvent {
  eventType: AuditEventType;
  timestamp: string;
  attempt: number;
  details: JsonObject;
}

export interface Transition {
  domain: string;
  commandId: string;
  /** The write happens only if the command is still exactly like this. */
  expect: {
    status: CommandStatus | readonly CommandStatus[];
    token: string;
    attempts?: number;
    lease?: string;
    /** The number of payload edits (an absent count is 0): two edits cannot both be edit n. */
    edits?: number;
  };
  set: {
    status: CommandStatus;
    updatedAt: string;
    attempts?: number;
    token?: string;
    /** null removes it. */
    lastError?: CommandError | null;
    result?: JsonValue;
    /** null removes it. */
    data?: JsonObject | null;
    /** enter: index the command in the TSQ; leave: drop it from there. */
    tsq?: 'enter' | 'leave';
    /**
     * With `tsq`: the group the command enters (its type and the error it is parked with) or leaves
     * (its type and the error it was parked with), so the store counts parked commands per group in
     * the same write. Computed here from the state the transition expects.
     */
    tsqGroup?: TsqGroupKey;
    /** null removes it. */
    pendingRetry?: PendingRetry | null;
    lease?: string;
    edits?: number;
  };
  events: NewEvent[];
  /**
   * A payload edit to keep in the command's history, written together with this transition (one
   * transaction: the state and its history move together). Only the operator's edit-and-retry has one.
   */
  history?: PayloadEdit;
  /**
   * When the command may not be recorded yet (its message can overtake the producer's write): create
   * it with this identity and these first events if it does not exist, in the same single write.
   */
  createIfMissing?: { identity: CommandIdentity; events: NewEvent[] };
}

/** What never changes after a command is recorded. */
export type CommandIdentity = Pick<CommandState, 'commandType' | 'maxAttempts' | 'token' | 'correlationId' | 'createdAt' | 'replyTo'>;

/** A command recorded for the first time (by the producer, or by a worker that got there first). */
export type NewCommandRecord = Omit<CommandState, 'result' | 'movedToTsqAt'> & { events: NewEvent[] };

/** Recorded as the operator of a retry that came from a console/CLI redrive of the TSQ queue. */
export const REDRIVE_OPERATOR = 'sqs-redrive';

const newToken = () => randomUUID();

const event = (eventType: AuditEventType, timestamp: string, attempt: number, details: JsonObject = {}): NewEvent => ({
  eventType,
  timestamp,
  attempt,
  details,
});

/** What a FAILED event keeps: type, code and message (the full details stay on lastError and MOVED_TO_TSQ). */
const failureSummary = (error: CommandError): JsonObject => ({ errorType: error.type, errorCode: error.code, errorMessage: error.message });

const errorDetails = (error: CommandError): JsonObject => {
  const details: JsonObject = { errorType: error.type, errorCode: error.code, errorMessage: error.message };
  if (error.details) details.errorDetails = error.details;
  return details;
};

/** The record a send creates: PENDING with its SENT event. */
export function pendingRecord(envelope: Envelope): NewCommandRecord {
  return {
    ...identityOf(envelope),
    status: CommandStatus.PENDING,
    attempts: 0,
    updatedAt: envelope.sentAt,
    events: [event(AuditEventType.SENT, envelope.sentAt, 0)],
  };
}

/** The record a worker creates when the message beat the producer's write (or that write was lost). */
export function receivedRecord(envelope: Envelope, now: string, lease: string = newToken()): NewCommandRecord {
  return {
    ...identityOf(envelope),
    status: CommandStatus.IN_PROGRESS,
    attempts: 1,
    lease,
    updatedAt: now,
    events: [event(AuditEventType.SENT, envelope.sentAt, 0), event(AuditEventType.RECEIVED, now, 1)],
  };
}

function identityOf(envelope: Envelope) {
  const base = {
    domain: envelope.domain,
    commandId: envelope.commandId,
    commandType: envelope.commandType,
    maxAttempts: envelope.maxAttempts,
    token: envelope.token,
    correlationId: envelope.correlationId,
    createdAt: envelope.sentAt,
  };
  return envelope.replyTo === undefined ? base : { ...base, replyTo: envelope.replyTo };
}

/**
 * The common receive: the command is PENDING or IN_PROGRESS with `attemptsBefore` attempts behind it.
 * Returns undefined when that guess already means retries are exhausted (the slow path decides).
 */
export function receiveTransition(envelope: Envelope, attemptsBefore: number, now: string, lease: string = newToken()): Transition | undefined {
  if (attemptsBefore >= envelope.maxAttempts) return undefined;
  const attempt = attemptsBefore + 1;
  const { domain: _domain, commandId: _commandId, ...identity } = identityOf(envelope);
  return {
    domain: envelope.domain,
    commandId: envelope.commandId,
    expect: { status: [CommandStatus.PENDING, CommandStatus.IN_PROGRESS], token: envelope.token, attempts: attemptsBefore },
    set: { status: CommandStatus.IN_PROGRESS, attempts: attempt, updatedAt: now, lease },
    events: [event(AuditEventType.RECEIVED, now, attempt)],
    // A first receive may beat the producer's write (enqueue comes first): then it records the command.
    ...(attemptsBefore === 0 ? { createIfMissing: { identity, events: [event(AuditEventType.SENT, envelope.sentAt, 0)] } } : {}),
  };
}

export type ReceiveDecision =
  | { kind: 'create' }
  | { kind: 'process'; transition: Transition; attempt: number }
  /** The last attempt outlived the visibility timeout: no attempts left. */
  | { kind: 'exhaust'; transition: Transition; error: CommandError }
  /**
   * A parked copy came back from the TSQ queue (console/CLI redrive): treated exactly as an operator
   * retry — a fresh token and a fresh message — so no attempt from before can ever match again.
   * `transition` records the retry request; the requeue then sends and completes it.
   */
  | { kind: 'redrive'; transition: Transition; token: string; details: JsonObject }
  /** The command is IN_TSQ but its parked copy may be missing: send it (again). */
  | { kind: 'repark' }
  /** A redelivery of a command already completed: the reply may not have gone out. */
  | { kind: 'resend-reply'; state: CommandState }
  | { kind: 'drop'; reason: string };

/** How a message reached the worker. */
export interface Delivery {
  /** The lease this delivery records with its attempt. */
  lease?: string;
  /**
   * Set when an earlier delivery gave up without learning whether its writes landed (the store was
   * unreachable) and sent the message again: the lease that delivery used. Its attempt is taken over
   * without counting a new one, because its handler never ran — or ran with no outcome recorded.
   */
  retakeOf?: string;
}

/** What to do with a received message, given the command as it is stored now. */
export function decideReceive(current: CommandState | undefined, envelope: Envelope, fromTsq: boolean, now: string, delivery: Delivery = {}): ReceiveDecision {
  const lease = delivery.lease ?? newToken();
  if (!current) {
    return fromTsq ? { kind: 'drop', reason: 'parked copy of a command that does not exist' } : { kind: 'create' };
  }
  if (current.token !== envelope.token) {
    if (!fromTsq && current.status === CommandStatus.IN_TSQ && current.pendingRetry?.token === envelope.token) {
      // The message of a retry whose last write has not landed (or never will): finish it here.
      return { kind: 'process', attempt: 1, transition: adoptRetryTransition(current, current.pendingRetry, now, lease) };
    }
    return { kind: 'drop', reason: `stale copy: the command was enqueued again since (status ${current.status})` };
  }
  if (fromTsq) {
    if (current.status !== CommandStatus.IN_TSQ) {
      return { kind: 'drop', reason: `parked copy redriven, but the command is ${current.status} already` };
    }
    const token = newToken();
    const details = { source: 'StartMessageMoveTask' };
    return { kind: 'redrive', token, details, transition: retryRequestTransition(current, REDRIVE_OPERATOR, token, now, details) };
  }
  if (delivery.retakeOf !== undefined && current.status === CommandStatus.IN_PROGRESS && current.lease === delivery.retakeOf) {
    return { kind: 'process', attempt: current.attempts, transition: retakeTransition(current, lease, now) };
  }
  switch (current.status) {
    case CommandStatus.PENDING:
    case CommandStatus.IN_PROGRESS: {
      if (current.attempts < current.maxAttempts) {
        // The stored maxAttempts rules (a hand-made message cannot lower or raise it).
        const { createIfMissing: _exists, ...transition } = receiveTransition({ ...envelope, maxAttempts: current.maxAttempts }, current.attempts, now, lease)!;
        transition.expect.status = current.status;
        return { kind: 'process', transition, attempt: current.attempts + 1 };
      }
      const error: CommandError = {
        type: 'TIMEOUT',
        code: 'VISIBILITY_TIMEOUT',
        message: `attempt ${current.attempts} did not finish within the visibility timeout`,
      };
      return {
        kind: 'exhaust',
        error,
        transition: toTsq(current, error, envelope.data, now, [
          event(AuditEventType.FAILED, now, current.attempts, failureSummary(error)),
          event(AuditEventType.RETRY_EXHAUSTED, now, current.attempts, { maxAttempts: current.maxAttempts }),
        ]),
      };
    }
    case CommandStatus.IN_TSQ:
      return { kind: 'repark' };
    case CommandStatus.COMPLETED:
      return current.replyTo ? { kind: 'resend-reply', state: current } : { kind: 'drop', reason: 'already COMPLETED' };
    case CommandStatus.CANCELLED:
      return { kind: 'drop', reason: 'already CANCELLED' };
  }
}

/** Identifies the attempt an outcome belongs to; a late finisher's write fails on it. */
export interface AttemptRef {
  domain: string;
  commandId: string;
  token: string;
  attempt: number;
  /** The lease the attempt was recorded with; when given, only that delivery can end the attempt. */
  lease?: string;
}

const inProgress = (ref: AttemptRef) => ({
  status: CommandStatus.IN_PROGRESS,
  token: ref.token,
  attempts: ref.attempt,
  ...(ref.lease === undefined ? {} : { lease: ref.lease }),
});

/**
 * A delivery takes over an attempt whose earlier delivery gave up without knowing whether its writes
 * landed: the attempt number stays (no handler run was recorded), only the lease moves.
 */
export function retakeTransition(current: CommandState, lease: string, now: string): Transition {
  return {
    domain: current.domain,
    commandId: current.commandId,
    expect: {
      status: CommandStatus.IN_PROGRESS,
      token: current.token,
      attempts: current.attempts,
      ...(current.lease === undefined ? {} : { lease: current.lease }),
    },
    set: { status: CommandStatus.IN_PROGRESS, updatedAt: now, lease },
    events: [
      event(AuditEventType.RECEIVED, now, current.attempts, { retake: true, reason: 'the previous delivery of this attempt could not reach the store' }),
    ],
  };
}

export function successTransition(ref: AttemptRef, result: JsonValue | undefined, now: string): Transition {
  const set: Transition['set'] = { status: CommandStatus.COMPLETED, updatedAt: now };
  if (result !== undefined) set.result = result;
  return {
    domain: ref.domain,
    commandId: ref.commandId,
    expect: inProgress(ref),
    set,
    events: [event(AuditEventType.COMPLETED, now, ref.attempt)],
  };
}

export type FailureDecision = { kind: 'retry'; transition: Transition; delaySeconds: number } | { kind: 'tsq'; transition: Transition };

/** The retry decision: back off and retry, or park in the TSQ (permanent, or attempts used up). */
export function failureTransition(
  ref: AttemptRef & { maxAttempts: number; commandType: string },
  error: CommandError,
  data: JsonObject,
  policy: RetryPolicy,
  now: string,
  random?: () => number,
): FailureDecision {
  const state = {
    domain: ref.domain,
    commandId: ref.commandId,
    commandType: ref.commandType,
    token: ref.token,
    attempts: ref.attempt,
    status: CommandStatus.IN_PROGRESS,
    ...(ref.lease === undefined ? {} : { lease: ref.lease }),
  };
  if (error.type === 'PERMANENT') {
    return { kind: 'tsq', transition: toTsq(state, error, data, now, []) };
  }
  // Each attempt's event stays small: a command's whole trail lives in one 400 KB item.
  const failed = event(AuditEventType.FAILED, now, ref.attempt, failureSummary(error));
  if (ref.attempt < ref.maxAttempts) {
    return {
      kind: 'retry',
      delaySeconds: backoffSeconds(ref.attempt, policy, random),
      transition: {
        domain: ref.domain,
        commandId: ref.commandId,
        expect: inProgress(ref),
        set: { status: CommandStatus.PENDING, updatedAt: now, lastError: error },
        events: [failed],
      },
    };
  }
  return {
    kind: 'tsq',
    transition: toTsq(state, error, data, now, [failed, event(AuditEventType.RETRY_EXHAUSTED, now, ref.attempt, { maxAttempts: ref.maxAttempts })]),
  };
}

function toTsq(
  current: Pick<CommandState, 'domain' | 'commandId' | 'commandType' | 'token' | 'attempts' | 'status' | 'lease'>,
  error: CommandError,
  data: JsonObject,
  now: string,
  before: NewEvent[],
): Transition {
  return {
    domain: current.domain,
    commandId: current.commandId,
    expect: { status: current.status, token: current.token, attempts: current.attempts, ...(current.lease === undefined ? {} : { lease: current.lease }) },
    // The payload is stored now, because an operator may need to re-enqueue it.
    set: { status: CommandStatus.IN_TSQ, updatedAt: now, lastError: error, data, tsq: 'enter', tsqGroup: tsqGroupOf(current.commandType, error) },
    events: [...before, event(AuditEventType.MOVED_TO_TSQ, now, current.attempts, errorDetails(error))],
  };
}

/** The group a parked command is counted in: its type, and the type and code of the error that parked it. */
export function tsqGroupOf(commandType: string, error: Pick<CommandError, 'type' | 'code'> | undefined): TsqGroupKey {
  // Every parking records an error; a record without one (never written by this lifecycle) still
  // leaves the group it was counted in, so the same key is derived on both sides.
  return { commandType, errorType: error?.type ?? 'PERMANENT', errorCode: error?.code ?? UNKNOWN_ERROR_CODE };
}

/** The group code of a parked command with no recorded error (not written by this lifecycle). */
export const UNKNOWN_ERROR_CODE = '(none)';

/** Leaving the TSQ: the group the command was counted in, from the state it is taken out of. */
const leaving = (current: CommandState) => ({ tsq: 'leave' as const, tsqGroup: tsqGroupOf(current.commandType, current.lastError) });

/** Operator actions are allowed only from IN_TSQ. */
export function assertInTsq(current: CommandState, action: string): void {
  if (current.status !== CommandStatus.IN_TSQ) {
    throw new InvalidOperationError(
      `${action} is allowed only for a command in the troubleshooting queue; ${current.domain}/${current.commandId} is ${current.status}`,
      current.status,
    );
  }
}

const fromTsq = (current: CommandState) => ({ status: CommandStatus.IN_TSQ, token: current.token, attempts: current.attempts });

/**
 * Step 1 of a retry: remember the new token while the command stays IN_TSQ (still visible, still
 * actionable), so that a crash before the message is sent leaves nothing stranded.
 */
export function retryRequestTransition(current: CommandState, operator: string, token: string, now: string, details: JsonObject = {}): Transition {
  assertInTsq(current, 'operatorRetry');
  const pendingRetry: PendingRetry = { token, operator, requestedAt: now, ...(Object.keys(details).length > 0 ? { details } : {}) };
  return {
    domain: current.domain,
    commandId: current.commandId,
    expect: fromTsq(current),
    set: { status: CommandStatus.IN_TSQ, updatedAt: current.updatedAt, pendingRetry },
    events: [],
  };
}

/**
 * Step 3, once the message is sent: back to PENDING with attempts reset and the new token — every
 * older message or attempt is now stale.
 */
export function operatorRetryTransition(current: CommandState, operator: string, token: string, now: string, details: JsonObject = {}): Transition {
  assertInTsq(current, 'operatorRetry');
  return {
    domain: current.domain,
    commandId: current.commandId,
    expect: fromTsq(current),
    set: { status: CommandStatus.PENDING, attempts: 0, token, updatedAt: now, ...leaving(current), pendingRetry: null },
    events: [event(AuditEventType.OPERATOR_RETRY, now, current.attempts, { operator, ...details })],
  };
}

/**
 * Step 1 of an edit-and-retry: like retryRequestTransition, and the corrected payload replaces the
 * stored one in the same write — so whatever happens next (the message sent or not, step 3 landed or
 * a worker adopting the retry, a later operator retry) runs the corrected payload. The replaced
 * payload moves to the command's history (`history`), next to the new one, with who edited and when.
 * The pending retry carries `{ edited: true, editNumber }`, which the OPERATOR_RETRY event records
 * whichever way the retry completes (step 3, or decideReceive adopting it).
 */
export function editRetryRequestTransition(
  current: CommandState,
  operator: string,
  token: string,
  data: JsonObject,
  now: string,
  operatorDetails: JsonObject = {},
): Transition {
  assertInTsq(current, 'operatorEditAndRetry');
  const edits = current.edits ?? 0;
  const editNumber = edits + 1;
  const details: JsonObject = { ...operatorDetails, edited: true, editNumber };
  const history: PayloadEdit = {
    domain: current.domain,
    commandId: current.commandId,
    editNumber,
    editedAt: now,
    operator,
    ...(current.data === undefined ? {} : { before: current.data }),
    after: data,
  };
  return {
    domain: current.domain,
    commandId: current.commandId,
    expect: { ...fromTsq(current), edits },
    set: { status: CommandStatus.IN_TSQ, updatedAt: current.updatedAt, data, edits: editNumber, pendingRetry: { token, operator, requestedAt: now, details } },
    events: [],
    history,
  };
}

/** A worker received the retry's message before step 3 landed: steps 3 and RECEIVED in one write. */
function adoptRetryTransition(current: CommandState, retry: PendingRetry, now: string, lease: string): Transition {
  return {
    domain: current.domain,
    commandId: current.commandId,
    expect: fromTsq(current),
    set: { status: CommandStatus.IN_PROGRESS, attempts: 1, token: retry.token, updatedAt: now, ...leaving(current), pendingRetry: null, lease },
    events: [
      event(AuditEventType.OPERATOR_RETRY, now, current.attempts, { operator: retry.operator, ...(retry.details ?? {}) }),
      event(AuditEventType.RECEIVED, now, 1),
    ],
  };
}

/** `operatorDetails`: more about who acted (e.g. `operatorSession`), recorded beside `operator`. */
export function operatorCancelTransition(current: CommandState, operator: string, reason: string, now: string, operatorDetails: JsonObject = {}): Transition {
  assertInTsq(current, 'operatorCancel');
  return {
    domain: current.domain,
    commandId: current.commandId,
    expect: fromTsq(current),
    set: { status: CommandStatus.CANCELLED, updatedAt: now, ...leaving(current), pendingRetry: null },
    events: [event(AuditEventType.OPERATOR_CANCEL, now, current.attempts, { operator, ...operatorDetails, reason })],
  };
}

export function operatorCompleteTransition(
  current: CommandState,
  operator: string,
  resultData: JsonValue,
  now: string,
  operatorDetails: JsonObject = {},
): Transition {
  assertInTsq(current, 'operatorComplete');
  return {
    domain: current.domain,
    commandId: current.commandId,
    expect: fromTsq(current),
    set: { status: CommandStatus.COMPLETED, updatedAt: now, result: resultData, ...leaving(current), pendingRetry: null },
    events: [event(AuditEventType.OPERATOR_COMPLETE, now, current.attempts, { operator, ...operatorDetails, resultData })],
  };
}

/**
 * The same parking without the payload and without error details, for when the item would exceed
 * DynamoDB's 400 KB: the command still reaches the TSQ, with the reason; its payload survives in the
 * parked SQS copy (redrive it from there).
 */
export function withoutPayload(transition: Transition): Transition {
  const strip = (details: JsonObject): JsonObject => {
    const { errorDetails: _dropped, ...rest } = details;
    return rest;
  };
  const lastError = transition.set.lastError
    ? { type: transition.set.lastError.type, code: transition.set.lastError.code, message: `${transition.set.lastError.message} [${PAYLOAD_NOT_STORED}]` }
    : undefined;
  const { data: _data, ...set } = transition.set;
  return {
    ...transition,
    set: { ...set, ...(lastError ? { lastError } : {}) },
    events: transition.events.map((e) => ({ ...e, details: strip(e.details) })),
  };
}

export const PAYLOAD_NOT_STORED = 'payload not stored: the command item would exceed 400 KB; redrive its parked copy from the TSQ queue';

/** The commandType recorded for a message that is not a command. */
export const MALFORMED_COMMAND_TYPE = '(malformed)';

/**
 * A message that is not a command cannot be processed, but must not vanish: it is recorded parked
 * under `recordId` (derived from its SQS message id), with the raw body kept as data and the reason.
 */
export function malformedRecord(domain: string, recordId: string, rawBody: string, reason: string, now: string): NewCommandRecord {
  const error: CommandError = { type: 'PERMANENT', code: 'MALFORMED_MESSAGE', message: reason };
  return {
    domain,
    commandId: recordId,
    commandType: MALFORMED_COMMAND_TYPE,
    status: CommandStatus.IN_TSQ,
    attempts: 1,
    maxAttempts: 1,
    token: recordId,
    correlationId: recordId,
    createdAt: now,
    updatedAt: now,
    lastError: error,
    data: { rawBody },
    events: [event(AuditEventType.RECEIVED, now, 1), event(AuditEventType.MOVED_TO_TSQ, now, 1, errorDetails(error))],
  };
}

/** Why a command reached the TSQ queue through SQS's own redrive policy rather than the worker. */
export const DEAD_LETTERED_ERROR: CommandError = {
  type: 'TRANSIENT',
  code: 'DEAD_LETTERED',
  message:
    "SQS moved the message to the TSQ queue (its redrive policy's maxReceiveCount was reached) with no outcome recorded: " +
    'the store was unreachable, or every run ended before it could record one; retry, cancel or complete it',
};

/** A command whose message SQS dead-lettered: parked now, with its payload, so an operator can act. */
export function deadLetteredTransition(current: CommandState, data: JsonObject, now: string): Transition {
  return toTsq(current, DEAD_LETTERED_ERROR, data, now, []);
}

/** The same for a command that was never recorded (its producer's write was lost as well). */
export function deadLetteredRecord(envelope: Envelope, now: string): NewCommandRecord {
  const error = DEAD_LETTERED_ERROR;
  return {
    ...identityOf(envelope),
    status: CommandStatus.IN_TSQ,
    attempts: 0,
    updatedAt: now,
    lastError: error,
    data: envelope.data,
    events: [event(AuditEventType.SENT, envelope.sentAt, 0), event(AuditEventType.MOVED_TO_TSQ, now, 0, errorDetails(error))],
  };
}

/** A record id for a message that is not a command: its SQS message id as a lower-case UUID. */
export function recordIdOf(messageId: string): string {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (uuid.test(messageId)) return messageId.toLowerCase();
  // Emulators may use other ids; derive a stable UUID so every operator action can address it.
  const hex = createHash('sha256').update(messageId).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
