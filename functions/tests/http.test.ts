import { CommandNotFoundError, DuplicateCommandError, InvalidOperationError, silentLogger, ValidationError } from '@commandbus/core';
import { describe, expect, it } from 'vitest';
import { callerIdentity, errorResponse, HttpError, jsonBody, type ApiEvent } from '../http.ts';

const event = (overrides: Partial<ApiEvent> = {}): ApiEvent =>
  ({ requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::1:user/alice' } } }, isBase64Encoded: false, ...overrides }) as unknown as ApiEvent;

describe('Function: errorResponse', () => {
  it('maps library errors to 400, 404 and 409, and hides the details of anything else', () => {
    // Act
    const responses = [
      errorResponse(new ValidationError('commandId', 'must be a UUID'), silentLogger),
      errorResponse(new CommandNotFoundError('d', 'x'), silentLogger),
      errorResponse(new DuplicateCommandError('d', 'x', 'PENDING'), silentLogger),
      errorResponse(new InvalidOperationError('not in TSQ', 'COMPLETED'), silentLogger),
      errorResponse(new Error('secret connection string'), silentLogger),
    ];

    // Assess
    expect(responses.map((response) => response.statusCode)).toEqual([400, 404, 409, 409, 500]);
    expect(JSON.parse(responses[0]!.body!)).toEqual({ error: { type: 'ValidationError', message: 'commandId: must be a UUID', field: 'commandId' } });
    expect(responses[4]!.body).not.toContain('secret');
  });
});

describe('Function: jsonBody', () => {
  it('names the problem when the body is absent, not JSON, or not an object', () => {
    expect(() => jsonBody(event())).toThrow(/^body: a JSON object is required/);
    expect(() => jsonBody(event({ body: '{oops' }))).toThrow(/^body: is not valid JSON/);
    expect(() => jsonBody(event({ body: '[1]' }))).toThrow(/^body: must be a JSON object/);
    expect(jsonBody(event({ body: Buffer.from('{"a":1}').toString('base64'), isBase64Encoded: true }))).toEqual({ a: 1 });
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
