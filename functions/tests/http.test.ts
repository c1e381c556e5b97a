import {
  type CommandBusError,
  CommandNotFoundError,
  DomainNotFoundError,
  JobNotFoundError,
  DuplicateCommandError,
  ERROR_HTTP,
  InvalidOperationError,
  PermanentCommandError,
  SendFailedError,
  silentLogger,
  StoreUnavailableError,
  ValidationError,
  type HttpErrorCode,
} from '@commandbus/core';
import { ApiError, CommandBusClient } from '@commandbus/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callerIdentity, EDGE_ERRORS, operatorOf, errorResponse, HttpError, pathParameter, queryInteger, type ApiEvent, type EdgeErrorCode } from '../http.ts';
import { ErrorBody } from '../schemas.ts';

const event = (overrides: Partial<ApiEvent> = {}): ApiEvent =>
  ({ requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::1:user/alice' } } }, isBase64Encoded: false, ...overrides }) as unknown as ApiEvent;

/** One error of every code with an HTTP answer: a new code fails to compile here until it has one. */
const everyLibraryError: Record<HttpErrorCode, CommandBusError> = {
  VALIDATION_ERROR: new ValidationError('data.amount', 'is too large'),
  COMMAND_NOT_FOUND: new CommandNotFoundError('d', '0f8fad5b-d9cb-469f-a165-70867728950e'),
  DOMAIN_NOT_FOUND: new DomainNotFoundError('nowhere', 'ns-nowhere-commands'),
  JOB_NOT_FOUND: new JobNotFoundError('d', '0f8fad5b-d9cb-469f-a165-70867728950e'),
  DUPLICATE_COMMAND: new DuplicateCommandError('d', '0f8fad5b-d9cb-469f-a165-70867728950e', 'PENDING'),
  INVALID_OPERATION: new InvalidOperationError('not in the TSQ', 'COMPLETED'),
  SEND_FAILED: new SendFailedError('enqueue failed'),
};
const everyEdgeError: Record<EdgeErrorCode, HttpError> = {
  FORBIDDEN: new HttpError('FORBIDDEN', 'no caller identity'),
  ROUTE_NOT_FOUND: new HttpError('ROUTE_NOT_FOUND', 'no route DELETE /commands'),
  UNSUPPORTED_MEDIA_TYPE: new HttpError('UNSUPPORTED_MEDIA_TYPE', 'content-type: must be application/json (got "text/plain")', 'content-type'),
  INTERNAL_ERROR: new HttpError('INTERNAL_ERROR', 'internal error'),
  STORE_UNAVAILABLE: new HttpError('STORE_UNAVAILABLE', 'the command store did not answer in time; nothing is lost, try again'),
};
const bodyOf = (answer: { body?: string }) => JSON.parse(answer.body!) as ErrorBody;

describe('Function: errorResponse', () => {
  it.each(Object.entries(everyLibraryError))('answers %s with the status and type of ERROR_HTTP, and the code', (code, error) => {
    // Act
    const answer = errorResponse(error, silentLogger);

    // Assess
    const { status, type } = ERROR_HTTP[code as HttpErrorCode];
    expect(answer.statusCode).toBe(status);
    expect(bodyOf(answer).error).toMatchObject({ type, code, message: error.message });
    expect(ErrorBody.safeParse(bodyOf(answer)).success).toBe(true);
  });

  it('keeps the types clients have always matched on, and their statuses', () => {
    const answers = Object.values(everyLibraryError).map((error) => errorResponse(error, silentLogger));

    expect(answers.map((answer) => `${answer.statusCode} ${bodyOf(answer).error.type}`)).toEqual([
      '400 ValidationError',
      '404 CommandNotFound',
      '404 DomainNotFound',
      '404 JobNotFound',
      '409 DuplicateCommand',
      '409 InvalidOperation',
      '503 SendFailed',
    ]);
  });

  it('sends the details an error carries: field, domain, commandId, existing and current status', () => {
    expect(bodyOf(errorResponse(new ValidationError('commandId', 'must be a UUID'), silentLogger))).toEqual({
      error: { type: 'ValidationError', code: 'VALIDATION_ERROR', message: 'commandId: must be a UUID', field: 'commandId' },
    });
    expect(bodyOf(errorResponse(new DuplicateCommandError('d', 'x', 'PENDING'), silentLogger)).error).toMatchObject({
      domain: 'd',
      commandId: 'x',
      existingStatus: 'PENDING',
    });
    expect(bodyOf(errorResponse(new InvalidOperationError('not in TSQ', 'COMPLETED'), silentLogger)).error).toMatchObject({ currentStatus: 'COMPLETED' });
  });

  it.each(Object.entries(everyEdgeError))('answers its own refusal %s with the status and type of EDGE_ERRORS', (code, error) => {
    const answer = errorResponse(error, silentLogger);

    expect(answer.statusCode).toBe(EDGE_ERRORS[code as EdgeErrorCode].status);
    expect(bodyOf(answer).error).toMatchObject({ type: EDGE_ERRORS[code as EdgeErrorCode].type, code });
    expect(ErrorBody.safeParse(bodyOf(answer)).success).toBe(true);
  });

  it('does not take the code a handler chose for one of the table: a handler failure is a 500', () => {
    const answer = errorResponse(new PermanentCommandError('SEND_FAILED', 'the handler says so'), silentLogger);

    expect(answer.statusCode).toBe(500);
    expect(bodyOf(answer).error).toMatchObject({ type: 'PermanentCommandError', code: 'INTERNAL_ERROR', message: 'internal error' });
  });

  it('hides the details of anything else behind a 500', () => {
    const answer = errorResponse(new Error('secret connection string'), silentLogger);

    expect(answer.statusCode).toBe(500);
    expect(bodyOf(answer)).toEqual({ error: { type: 'InternalError', code: 'INTERNAL_ERROR', message: 'internal error' } });
  });
});

describe('Function: errorResponse and CommandBusClient', () => {
  const client = new CommandBusClient({ baseUrl: 'http://127.0.0.1:1/', auth: { type: 'bearer', token: 't' } });
  /** What the client throws when the API answers as errorResponse does for `error`. */
  const roundTrip = async (error: unknown, body?: (answer: ErrorBody) => unknown) => {
    const answer = errorResponse(error, silentLogger);
    const sent = body ? JSON.stringify(body(bodyOf(answer))) : answer.body;
    vi.stubGlobal('fetch', async () => new Response(sent, { status: answer.statusCode }));
    return client.send({ domain: 'd', commandType: 'T', commandId: 'x', data: {} }).catch((caught: unknown) => caught);
  };
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it.each(Object.entries(everyLibraryError))('agree on %s: the client rebuilds the class, message, code and details', async (_, error) => {
    // Act
    const rebuilt = await roundTrip(error);

    // Assess
    expect(rebuilt).toBeInstanceOf(error.constructor);
    expect(rebuilt).toEqual(error);
    expect({ ...(rebuilt as object), message: (rebuilt as Error).message }).toEqual({ ...error, message: error.message });
  });

  it.each(Object.entries(everyLibraryError))('rebuild %s from an API that sends no code, by its type', async (_, error) => {
    const rebuilt = await roundTrip(error, ({ error: { code: _code, ...rest } }) => ({ error: rest }));

    expect(rebuilt).toBeInstanceOf(error.constructor);
    expect((rebuilt as CommandBusError).code).toBe(error.code);
  });

  it.each(Object.entries(everyEdgeError))('agree on %s: an ApiError with the status, type and code', async (code, error) => {
    const rebuilt = (await roundTrip(error)) as ApiError;

    expect(rebuilt).toBeInstanceOf(ApiError);
    expect(rebuilt).toMatchObject({ statusCode: EDGE_ERRORS[code as EdgeErrorCode].status, type: EDGE_ERRORS[code as EdgeErrorCode].type, code });
  });
});

describe('Function: pathParameter', () => {
  it('takes the value as API Gateway decoded it, without decoding it again', () => {
    // API Gateway delivers `%2525` as `%25` and `%25` as `%`: neither may be decoded a second time.
    expect(pathParameter(event({ pathParameters: { domain: 'a%25b' } }), 'domain')).toBe('a%25b');
    expect(pathParameter(event({ pathParameters: { domain: '100%' } }), 'domain')).toBe('100%');
    expect(() => pathParameter(event({ pathParameters: {} }), 'domain')).toThrow(ValidationError);
  });
});

describe('Function: queryInteger', () => {
  it('takes decimal integers only, naming the parameter otherwise', () => {
    expect(queryInteger(event({ queryStringParameters: { limit: '25' } }), 'limit')).toBe(25);
    expect(queryInteger(event({ queryStringParameters: { limit: '' } }), 'limit')).toBeUndefined();
    for (const raw of ['1.5', '0x10', '1e3', ' 5', 'ten']) {
      expect(() => queryInteger(event({ queryStringParameters: { limit: raw } }), 'limit')).toThrow(/^limit: must be an integer/);
    }
  });
});

describe('Function: callerIdentity', () => {
  it('takes the IAM caller, and refuses a request without one', () => {
    expect(callerIdentity(event())).toEqual({ operator: 'arn:aws:iam::1:user/alice' });
    expect(() => callerIdentity(event({ requestContext: {} as ApiEvent['requestContext'] }))).toThrow(HttpError);
  });

  it('records an assumed role as the role, and its session name apart (the caller chooses that name)', () => {
    expect(operatorOf('arn:aws:sts::123456789012:assumed-role/Ops/alice@example.com')).toEqual({
      operator: 'arn:aws:iam::123456789012:role/Ops',
      operatorSession: 'alice@example.com',
    });
    expect(operatorOf('arn:aws-us-gov:sts::123456789012:assumed-role/Ops-Payments/bob')).toEqual({
      operator: 'arn:aws-us-gov:iam::123456789012:role/Ops-Payments',
      operatorSession: 'bob',
    });
  });

  it('keeps a user, a federated user, a bare id and anything unlike an assumed-role ARN as it is', () => {
    for (const principal of [
      'arn:aws:iam::123456789012:user/alice',
      'arn:aws:iam::123456789012:user/team/alice',
      'arn:aws:sts::123456789012:federated-user/carol',
      'AIDAEXAMPLE',
      'arn:aws:sts::123456789012:assumed-role/Ops',
      'arn:aws:sts::123456789012:assumed-role/Ops/alice/extra',
      'arn:aws:sts::12345:assumed-role/Ops/alice',
    ]) {
      expect(operatorOf(principal), principal).toEqual({ operator: principal });
    }
  });
});

describe('Function: pageResponse', () => {
  it('keeps payloads in a page that fits, and leaves them out (marked) when it would pass 5 MB', async () => {
    const { pageResponse } = await import('../api.ts');
    const item = (n: number) => ({ commandId: String(n), data: { blob: 'x'.repeat(100 * 1024) } });

    const small = JSON.parse(pageResponse({ items: [item(1)] }).body!) as { items: { data?: unknown; dataOmitted?: boolean }[] };
    const large = JSON.parse(pageResponse({ items: Array.from({ length: 60 }, (_, n) => item(n)), nextCursor: 'c' }).body!) as {
      items: { data?: unknown; dataOmitted?: boolean }[];
      nextCursor: string;
    };

    expect(small.items[0]?.data).toEqual({ blob: 'x'.repeat(100 * 1024) });
    expect(large.items).toHaveLength(60);
    expect(large.items.every((entry) => entry.data === undefined && entry.dataOmitted === true)).toBe(true);
    expect(large.nextCursor).toBe('c');
  });
});

describe('Function: errorResponse (an outage)', () => {
  it('answers a store that did not answer with 503 StoreUnavailable and Retry-After, not a 500', () => {
    // Prepare
    const error = new StoreUnavailableError('DynamoDB did not answer: TimeoutError');

    // Act
    const answer = errorResponse(error, silentLogger);

    // Assess
    expect(answer.statusCode).toBe(503);
    expect(answer.headers).toMatchObject({ 'retry-after': '1' });
    expect(bodyOf(answer)).toEqual({ error: { type: 'StoreUnavailable', code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/try again/) } });
  });
});
