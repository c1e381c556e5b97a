import {
  CommandBusError,
  ERROR_HTTP,
  isHttpErrorCode,
  MAX_JSON_DEPTH,
  PermanentCommandError,
  StoreUnavailableError,
  TransientCommandError,
  ValidationError,
  type Logger,
} from '@commandbus/core';
import type { MiddlewareObj } from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ERROR_DETAILS, JsonObjectBody, type ErrorBody } from './schemas.ts';

export type ApiEvent = APIGatewayProxyEventV2WithIAMAuthorizer;
export type ApiResult = APIGatewayProxyStructuredResultV2;
export type { ErrorBody };

/**
 * The API's own refusals, which no library error stands for: status and wire `type` by code (the
 * library's errors are in ERROR_HTTP, @commandbus/core).
 */
export const EDGE_ERRORS = {
  FORBIDDEN: { status: 403, type: 'Forbidden' },
  ROUTE_NOT_FOUND: { status: 404, type: 'RouteNotFound' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, type: 'UnsupportedMediaType' },
  INTERNAL_ERROR: { status: 500, type: 'InternalError' },
  STORE_UNAVAILABLE: { status: 503, type: 'StoreUnavailable' },
} as const satisfies Record<string, { status: number; type: string }>;
export type EdgeErrorCode = keyof typeof EDGE_ERRORS;

/** A refusal of the API itself (see {@link EDGE_ERRORS}); its message is safe to show the caller. */
export class HttpError extends Error {
  readonly code: EdgeErrorCode;
  readonly statusCode: number;
  readonly type: string;
  readonly field: string | undefined;
  constructor(code: EdgeErrorCode, message: string, field?: string) {
    super(message);
    this.code = code;
    this.statusCode = EDGE_ERRORS[code].status;
    this.type = EDGE_ERRORS[code].type;
    this.field = field;
  }
}

export function json(statusCode: number, body: unknown): ApiResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function errorJson(statusCode: number, error: ErrorBody['error']): ApiResult {
  return json(statusCode, { error });
}

/**
 * The one place errors become HTTP answers: a library error by its `code` through ERROR_HTTP
 * (which the client reads to rebuild it, see CommandBusClient), with the details it carries
 * (`field`, `domain`, `commandId`, `currentStatus`, `existingStatus`); the API's own refusals through
 * EDGE_ERRORS; the body parser's as 415 or 400. Anything else is a 500 without details.
 */
export function errorResponse(error: unknown, logger: Logger): ApiResult {
  const mapped = bodyParserError(error);
  if (mapped) return errorResponse(mapped, logger);
  if (error instanceof HttpError) {
    return errorJson(error.statusCode, {
      type: error.type,
      code: error.code,
      message: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
    });
  }
  // A handler's failure carries a code of the handler's choosing, not one of the table's.
  const handlerFailure = error instanceof TransientCommandError || error instanceof PermanentCommandError;
  if (error instanceof CommandBusError && !handlerFailure && isHttpErrorCode(error.code)) {
    const { status, type } = ERROR_HTTP[error.code];
    return errorJson(status, { type, code: error.code, message: error.message, ...wireDetails(error) });
  }
  if (error instanceof StoreUnavailableError) {
    // An outage, not a bug: say so, and that the same request may simply be sent again.
    logger.warn('store unavailable', { error: error.message });
    const { status, type } = EDGE_ERRORS.STORE_UNAVAILABLE;
    return {
      ...errorJson(status, { type, code: 'STORE_UNAVAILABLE', message: 'the command store did not answer in time; nothing is lost, try again' }),
      headers: { 'content-type': 'application/json', 'retry-after': '1' },
    };
  }
  logger.error('request failed', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  // A library error without an answer of its own keeps its name as the type, as it always has.
  const type = error instanceof CommandBusError ? error.name : EDGE_ERRORS.INTERNAL_ERROR.type;
  return errorJson(EDGE_ERRORS.INTERNAL_ERROR.status, { type, code: 'INTERNAL_ERROR', message: 'internal error' });
}

/** The details of an error that go on the wire: those of ERROR_DETAILS it has, as strings. */
function wireDetails(error: CommandBusError): Partial<Pick<ErrorBody['error'], (typeof ERROR_DETAILS)[number]>> {
  const details: Partial<Record<(typeof ERROR_DETAILS)[number], string>> = {};
  for (const key of ERROR_DETAILS) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === 'string' && value !== '') details[key] = value;
  }
  return details;
}

const BODY_PARSER = '@middy/http-json-body-parser';

/** @middy/http-json-body-parser's refusals (415, 422) in our terms: 415, or a 400 naming the body. */
function bodyParserError(error: unknown): ValidationError | HttpError | undefined {
  if (!(error instanceof Error) || !('statusCode' in error)) return undefined;
  const cause = error.cause as { package?: unknown; data?: unknown; message?: unknown } | undefined;
  if (cause?.package !== BODY_PARSER) return undefined;
  if (error.statusCode === 415) {
    const got = typeof cause.data === 'string' ? JSON.stringify(cause.data) : 'none';
    return new HttpError('UNSUPPORTED_MEDIA_TYPE', `content-type: must be application/json (got ${got})`, 'content-type');
  }
  if (error.message === 'Forbidden key in JSON body') {
    return new ValidationError('body', `has the key ${JSON.stringify(cause.data)} where it could reach an object's prototype; such keys are not accepted`);
  }
  const reason = typeof cause.message === 'string' ? cause.message : error.message;
  if (/call stack/i.test(reason)) {
    // The parser's reviver recurses per level; values may nest far less deep anyway.
    return new ValidationError('body', `nests too deeply to be read; values may nest at most ${MAX_JSON_DEPTH} levels of objects and arrays`);
  }
  return new ValidationError('body', `is not valid JSON (${reason})`);
}

/** Maps every error of the handler to its answer: the one `onError` of the API. */
export function errorMapper(logger: Logger): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    onError: (request) => {
      request.response = errorResponse(request.error, logger);
    },
  };
}

/**
 * The JSON body of a request, parsed by @middy/http-json-body-parser (a body must be sent as
 * `application/json`, a charset allowed: else 415). `required`: a request without a body is a 400.
 * Parsed bodies are read with {@link parsedBody}.
 */
export function jsonBodyParser(options: { required: boolean }): MiddlewareObj<ApiEvent, ApiResult> {
  const parser = httpJsonBodyParser<ApiEvent>();
  return {
    before: async (request) => {
      const { body } = request.event;
      if (body === undefined || body === null || body === '') {
        delete request.event.body;
        if (options.required) throw new ValidationError('body', 'a JSON object is required');
        return;
      }
      await parser.before!(request as never);
    },
  };
}

/** The body {@link jsonBodyParser} parsed: a JSON object, or undefined when none was sent. */
export function parsedBody(event: ApiEvent): Record<string, unknown> | undefined {
  const body = (event as { body?: unknown }).body;
  if (body === undefined) return undefined;
  const parsed = JsonObjectBody.safeParse(body);
  if (!parsed.success) throw new ValidationError('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}

/** Who is calling, as operator actions record it. */
export interface CallerIdentity {
  /** The IAM principal API Gateway authenticated: a user's ARN, or for an assumed role the role's ARN. */
  operator: string;
  /**
   * For an assumed role, the session name, which whoever assumes the role chooses freely: kept apart
   * from the operator so that it never stands for who acted.
   */
  operatorSession?: string;
}

/**
 * The operator of a principal ARN: an STS assumed-role ARN
 * (`arn:aws:sts::123456789012:assumed-role/Ops/alice`) becomes the role
 * (`arn:aws:iam::123456789012:role/Ops`) and the session (`alice`) apart; any other ARN (an IAM
 * user, a federated user) or identifier is the operator as it is. An assumed-role ARN names the role
 * without its IAM path, and so does the role ARN made from it.
 */
export function operatorOf(principal: string): CallerIdentity {
  const assumed = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/([^/]+)$/.exec(principal);
  if (!assumed) return { operator: principal };
  const [, partition, account, role, session] = assumed;
  return { operator: `arn:${partition}:iam::${account}:role/${role}`, operatorSession: session! };
}

/**
 * Who is calling: the IAM principal API Gateway authenticated (SigV4), see {@link operatorOf}.
 * Operator actions record it. The local runtime fills the same field for its token holder.
 */
export function callerIdentity(event: ApiEvent): CallerIdentity {
  const iam = event.requestContext.authorizer?.iam;
  const identity = iam?.userArn ?? iam?.callerId ?? iam?.userId;
  if (!identity) throw new HttpError('FORBIDDEN', 'no caller identity: operator routes need IAM authorisation');
  return operatorOf(identity);
}

/**
 * A path parameter as the router matched it. API Gateway HTTP APIs hand the function the path
 * already percent-decoded (rawPath and requestContext.http.path alike; a sequence that does not
 * decode is refused before the function runs), and the router matches on that path, so the value
 * is used as it is: decoding it again would turn a `%25` the caller meant into something else, and
 * throw on a lone `%`. The local runtime decodes the same way (packages/runtime/src/HttpApi.ts).
 */
export function pathParameter(event: ApiEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new ValidationError(name, 'missing from the path');
  return value;
}

/** An optional query parameter; an empty value counts as absent. */
export function queryString(event: ApiEvent, name: string): string | undefined {
  const value = event.queryStringParameters?.[name];
  return value === undefined || value === '' ? undefined : value;
}

/** An optional query parameter that must be a decimal integer (its range is the library's to check). */
export function queryInteger(event: ApiEvent, name: string): number | undefined {
  const raw = queryString(event, name);
  if (raw === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(raw)) throw new ValidationError(name, `must be an integer (got ${JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw)})`);
  return Number(raw);
}
