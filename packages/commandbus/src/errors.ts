import type { JsonObject } from './types.ts';

/** Base of every error commandbus throws on purpose. */
export class CommandBusError extends Error {
  /**
   * What kind of error this is, stable across versions and messages (`VALIDATION_ERROR`,
   * `DUPLICATE_COMMAND`, …): each subclass sets its own. A handler's failure carries the code the
   * handler chose.
   */
  readonly code: string = 'COMMAND_BUS_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that cannot be accepted; `field` names what was wrong. */
export class ValidationError extends CommandBusError {
  override readonly code = 'VALIDATION_ERROR';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** A second send of a (domain, commandId) that already exists. Nothing was created or enqueued. */
export class DuplicateCommandError extends CommandBusError {
  override readonly code = 'DUPLICATE_COMMAND';
  readonly domain: string;
  readonly commandId: string;
  readonly existingStatus: string;
  constructor(domain: string, commandId: string, existingStatus: string) {
    super(`command ${domain}/${commandId} already exists (status ${existingStatus}); it was not sent again`);
    this.domain = domain;
    this.commandId = commandId;
    this.existingStatus = existingStatus;
  }
}

export class CommandNotFoundError extends CommandBusError {
  override readonly code = 'COMMAND_NOT_FOUND';
  readonly domain: string;
  readonly commandId: string;
  constructor(domain: string, commandId: string) {
    super(`command ${domain}/${commandId} not found`);
    this.domain = domain;
    this.commandId = commandId;
  }
}

/** A send to a domain that has no commands queue here (not provisioned). Nothing was sent or recorded. */
/** No operator job with this id in this domain. */
export class JobNotFoundError extends CommandBusError {
  override readonly code = 'JOB_NOT_FOUND';
  readonly domain: string;
  readonly jobId: string;
  constructor(domain: string, jobId: string) {
    super(`job ${domain}/${jobId} not found`);
    this.domain = domain;
    this.jobId = jobId;
  }
}

export class DomainNotFoundError extends CommandBusError {
  override readonly code = 'DOMAIN_NOT_FOUND';
  readonly domain: string;
  constructor(domain: string, queueName: string) {
    super(`domain '${domain}' is not provisioned here: its commands queue ${queueName} does not exist; nothing was sent`);
    this.domain = domain;
  }
}

/** An operator action on a command whose status does not allow it. Nothing changed. */
export class InvalidOperationError extends CommandBusError {
  override readonly code = 'INVALID_OPERATION';
  readonly currentStatus: string;
  constructor(message: string, currentStatus: string) {
    super(message);
    this.currentStatus = currentStatus;
  }
}

/** The command was accepted but a later step failed; `message` says where it is now. */
export class SendFailedError extends CommandBusError {
  override readonly code = 'SEND_FAILED';
}

/** What a handler throws to say how its failure should be treated; `code` is the handler's own. */
abstract class HandlerFailure extends CommandBusError {
  declare readonly code: string;
  readonly details?: JsonObject;
  constructor(code: string, message: string, details?: JsonObject) {
    super(message);
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/** Thrown by a handler: worth retrying (with backoff) until maxAttempts. */
export class TransientCommandError extends HandlerFailure {}

/** Thrown by a handler: retrying will not help; the command goes to the TSQ at once. */
export class PermanentCommandError extends HandlerFailure {}

/**
 * How the library's errors travel over HTTP, by `code`: the status and the wire `type` (the names
 * clients have matched on since the first version). The one table both edges read: the API
 * (functions/http.ts) answers an error with it, the client (@commandbus/client) rebuilds the error
 * class from the answer with it. The mapping code itself stays at those edges.
 *
 * @example
 * ```ts
 * const { status, type } = ERROR_HTTP[new DuplicateCommandError('d', 'x', 'PENDING').code]; // 409, 'DuplicateCommand'
 * ```
 */
export const ERROR_HTTP = {
  VALIDATION_ERROR: { status: 400, type: 'ValidationError' },
  COMMAND_NOT_FOUND: { status: 404, type: 'CommandNotFound' },
  DOMAIN_NOT_FOUND: { status: 404, type: 'DomainNotFound' },
  JOB_NOT_FOUND: { status: 404, type: 'JobNotFound' },
  DUPLICATE_COMMAND: { status: 409, type: 'DuplicateCommand' },
  INVALID_OPERATION: { status: 409, type: 'InvalidOperation' },
  SEND_FAILED: { status: 503, type: 'SendFailed' },
} as const satisfies Record<string, { status: number; type: string }>;

/** The code of an error that has an HTTP answer of its own (see {@link ERROR_HTTP}). */
export type HttpErrorCode = keyof typeof ERROR_HTTP;

/** Whether `code` is one of {@link ERROR_HTTP}'s. */
export function isHttpErrorCode(code: unknown): code is HttpErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_HTTP, code);
}
