import { CommandNotFoundError, DomainNotFoundError, DuplicateCommandError, InvalidOperationError, SendFailedError, silentLogger, ValidationError } from '@commandbus/core';
import { CommandBusClient } from '@commandbus/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callerIdentity, errorResponse, HttpError, pathParameter, queryInteger, type ApiEvent } from '../http.ts';

const event = (overrides: Partial<ApiEvent> = {}): ApiEvent =>
  ({ requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::1:user/alice' } } }, isBase64Encoded: false, ...overrides }) as unknown as ApiEvent;

describe('Function: errorResponse', () => {
  it('maps library errors to 400, 404, 409 and 503, and hides the details of anything else', () => {
    // Act
    const responses = [
      errorResponse(new ValidationError('commandId', 'must be a UUID'), silentLogger),
      errorResponse(new CommandNotFoundError('d', 'x'), silentLogger),
      errorResponse(new DuplicateCommandError('d', 'x', 'PENDING'), silentLogger),
      errorResponse(new InvalidOperationError('not in TSQ', 'COMPLETED'), silentLogger),
      errorResponse(new Error('secret connection string'), silentLogger),
      errorResponse(new DomainNotFoundError('nowhere', 'ns-nowhere-commands'), silentLogger),
      errorResponse(new SendFailedError('enqueue failed'), silentLogger),
    ];

    // Assess
    expect(responses.map((response) => response.statusCode)).toEqual([400, 404, 409, 409, 500, 404, 503]);
    expect(responses.map((response) => (JSON.parse(response.body!) as { error: { type: string } }).error.type)).toEqual([
      'ValidationError',
      'CommandNotFound',
      'DuplicateCommand',
      'InvalidOperation',
      'InternalError',
      'DomainNotFound',
      'SendFailed',
    ]);
    expect(JSON.parse(responses[0]!.body!)).toEqual({ error: { type: 'ValidationError', message: 'commandId: must be a UUID', field: 'commandId' } });
    expect(responses[4]!.body).not.toContain('secret');
  });
});

describe('Function: errorResponse and CommandBusClient', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('agree: the client rebuilds the library error the API mapped, field and statuses included', async () => {
    // Prepare
    const client = new CommandBusClient({ baseUrl: 'http://127.0.0.1:1/', auth: { type: 'bearer', token: 't' } });
    const errors = [
      new ValidationError('data.amount', 'is too large'),
      new CommandNotFoundError('d', '0f8fad5b-d9cb-469f-a165-70867728950e'),
      new DomainNotFoundError('nowhere', 'ns-nowhere-commands'),
      new DuplicateCommandError('d', 'x', 'PENDING'),
      new InvalidOperationError('not in the TSQ', 'COMPLETED'),
      new SendFailedError('enqueue failed'),
    ];

    for (const error of errors) {
      const answer = errorResponse(error, silentLogger);
      vi.stubGlobal('fetch', async () => new Response(answer.body, { status: answer.statusCode }));

      // Act
      const rebuilt = await client.send({ domain: 'd', commandType: 'T', commandId: 'x', data: {} }).catch((caught: unknown) => caught);

      // Assess
      expect(rebuilt, error.name).toBeInstanceOf(error.constructor);
      expect((rebuilt as Error).message).toBe(error.message);
      for (const property of ['field', 'existingStatus', 'currentStatus'] as const) {
        if (property in error) expect((rebuilt as unknown as Record<string, unknown>)[property]).toBe((error as unknown as Record<string, unknown>)[property]);
      }
    }
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
    expect(callerIdentity(event())).toBe('arn:aws:iam::1:user/alice');
    expect(() => callerIdentity(event({ requestContext: {} as ApiEvent['requestContext'] }))).toThrow(HttpError);
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
