import type { JsonObject } from './types.ts';

/** Base of every error commandbus throws on purpose. */
export class CommandBusError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that cannot be accepted; `field` names what was wrong. */
export class ValidationError extends CommandBusError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** A second send of a (domain, commandId) that already exists. Nothing was created or enqueued. */
export class DuplicateCommandError extends CommandBusError {
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
  readonly domain: string;
  readonly commandId: string;
  constructor(domain: string, commandId: string) {
    super(`command ${domain}/${commandId} not found`);
    this.domain = domain;
    this.commandId = commandId;
  }
}

/** A send to a domain that has no commands queue here (not provisioned). Nothing was sent or recorded. */
export class DomainNotFoundError extends CommandBusError {
  readonly domain: string;
  constructor(domain: string, queueName: string) {
    super(`domain '${domain}' is not provisioned here: its commands queue ${queueName} does not exist; nothing was sent`);
    this.domain = domain;
  }
}

/** An operator action on a command whose status does not allow it. Nothing changed. */
export class InvalidOperationError extends CommandBusError {
  readonly currentStatus: string;
  constructor(message: string, currentStatus: string) {
    super(message);
    this.currentStatus = currentStatus;
  }
}

/** The command was accepted but a later step failed; `message` says where it is now. */
export class SendFailedError extends CommandBusError {}

/** What a handler throws to say how its failure should be treated. */
abstract class HandlerFailure extends CommandBusError {
  readonly code: string;
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
