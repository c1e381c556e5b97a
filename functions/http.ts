import {
  CommandBusError,
  CommandNotFoundError,
  DuplicateCommandError,
  InvalidOperationError,
  SendFailedError,
  ValidationError,
  type Logger,
} from '@commandbus/core';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type ApiEvent = APIGatewayProxyEventV2WithIAMAuthorizer;
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** An error whose status and message are safe to show the caller. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly type: string;
  constructor(statusCode: number, type: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.type = type;
  }
}

export function json(statusCode: number, body: unknown): ApiResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Library errors to HTTP: 400 bad input, 404 unknown command, 409 not allowed now; 5xx hides details. */
export function errorResponse(error: unknown, logger: Logger): ApiResult {
  if (error instanceof HttpError) return json(error.statusCode, { error: { type: error.type, message: error.message } });
  if (error instanceof ValidationError) return json(400, { error: { type: 'ValidationError', message: error.message, field: error.field } });
  if (error instanceof CommandNotFoundError) return json(404, { error: { type: 'CommandNotFound', message: error.message } });
  if (error instanceof DuplicateCommandError) {
    return json(409, { error: { type: 'DuplicateCommand', message: error.message, existingStatus: error.existingStatus } });
  }
  if (error instanceof InvalidOperationError) {
    return json(409, { error: { type: 'InvalidOperation', message: error.message, currentStatus: error.currentStatus } });
  }
  if (error instanceof SendFailedError) return json(503, { error: { type: 'SendFailed', message: error.message } });
  logger.error('request failed', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  const type = error instanceof CommandBusError ? error.name : 'InternalError';
  return json(500, { error: { type, message: 'internal error' } });
}

/** The JSON object body of a request; a clear 400 when it is absent, not JSON, or not an object. */
export function jsonBody(event: ApiEvent): Record<string, unknown> {
  if (!event.body) throw new HttpError(400, 'ValidationError', 'body: a JSON object is required');
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body);
  } catch (error) {
    throw new HttpError(400, 'ValidationError', `body: is not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, 'ValidationError', 'body: must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Who is calling: the IAM principal API Gateway authenticated (SigV4). Operator actions record it.
 * The local runtime fills the same field for its token holder.
 */
export function callerIdentity(event: ApiEvent): string {
  const iam = event.requestContext.authorizer?.iam;
  const identity = iam?.userArn ?? iam?.callerId ?? iam?.userId;
  if (!identity) throw new HttpError(403, 'Forbidden', 'no caller identity: operator routes need IAM authorisation');
  return identity;
}

export function pathParameter(event: ApiEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new HttpError(400, 'ValidationError', `${name}: missing from the path`);
  return decodeURIComponent(value);
}

export function queryInteger(event: ApiEvent, name: string): number | undefined {
  const raw = event.queryStringParameters?.[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new HttpError(400, 'ValidationError', `${name}: must be an integer (got ${JSON.stringify(raw)})`);
  return value;
}
