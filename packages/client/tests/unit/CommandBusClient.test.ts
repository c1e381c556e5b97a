import { DomainNotFoundError, DuplicateCommandError, JobNotFoundError, SendFailedError, ValidationError } from '@commandbus/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, CommandBusClient } from '../../src/CommandBusClient.ts';

const client = new CommandBusClient({ baseUrl: 'http://127.0.0.1:1/', auth: { type: 'bearer', token: 't' } });
const request = { domain: 'test', commandType: 'T', commandId: '0f8fad5b-d9cb-469f-a165-70867728950e', data: {} };

/** The next fetch answers `status` with `body` (a string as is, anything else as JSON). */
function answer(status: number, body: unknown) {
  vi.stubGlobal('fetch', async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status }));
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('Class: CommandBusClient', () => {
  describe('Method: send', () => {
    it.each([
      [400, { error: { type: 'ValidationError', message: 'data.amount: is too large', field: 'data.amount' } }, ValidationError],
      [404, { error: { type: 'DomainNotFound', message: "domain 'nowhere' is not provisioned here" } }, DomainNotFoundError],
      [409, { error: { type: 'DuplicateCommand', message: 'exists', existingStatus: 'PENDING' } }, DuplicateCommandError],
      [503, { error: { type: 'SendFailed', message: 'enqueue failed' } }, SendFailedError],
    ])('rebuilds the library error from a %d in the API shape', async (status, body, type) => {
      answer(status, body);

      const error = await client.send(request).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toContain(body.error.message.replace(/^data\.amount: /, ''));
    });

    it('keeps the field of a ValidationError', async () => {
      answer(400, { error: { type: 'ValidationError', message: 'data.amount: is too large', field: 'data.amount' } });

      const error = (await client.send(request).catch((caught: unknown) => caught)) as ValidationError;

      expect(error.field).toBe('data.amount');
      expect(error.message).toBe('data.amount: is too large');
    });

    it('rebuilds the library error by its code, whatever the type says', async () => {
      answer(409, {
        error: {
          type: 'SomethingNew',
          code: 'DUPLICATE_COMMAND',
          message: 'exists',
          domain: 'test',
          commandId: request.commandId,
          existingStatus: 'COMPLETED',
        },
      });

      const error = (await client.send(request).catch((caught: unknown) => caught)) as DuplicateCommandError;

      expect(error).toBeInstanceOf(DuplicateCommandError);
      expect(error).toMatchObject({ code: 'DUPLICATE_COMMAND', domain: 'test', commandId: request.commandId, existingStatus: 'COMPLETED', message: 'exists' });
    });

    it.each([
      [403, { message: 'Forbidden' }, 'Forbidden', 'FORBIDDEN'],
      [413, { message: 'Request Entity Too Large' }, 'PayloadTooLarge', 'PAYLOAD_TOO_LARGE'],
      [429, { message: 'Too Many Requests' }, 'TooManyRequests', 'TOO_MANY_REQUESTS'],
      [504, { message: 'Endpoint request timed out' }, 'GatewayTimeout', 'GATEWAY_TIMEOUT'],
      [502, '<html>Bad Gateway</html>', 'BadGateway', 'BAD_GATEWAY'],
      [431, { error: { type: 'RequestHeaderFieldsTooLarge', message: 'too large' } }, 'RequestHeaderFieldsTooLarge', 'REQUEST_HEADER_FIELDS_TOO_LARGE'],
      [
        415,
        { error: { type: 'UnsupportedMediaType', code: 'UNSUPPORTED_MEDIA_TYPE', message: 'content-type: must be application/json', field: 'content-type' } },
        'UnsupportedMediaType',
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    ])('maps an answer of API Gateway or the local runtime (%d) to an ApiError typed by it', async (status, body, type, code) => {
      answer(status, body);

      const error = (await client.send(request).catch((caught: unknown) => caught)) as ApiError;

      expect(error).toBeInstanceOf(ApiError);
      expect(error.statusCode).toBe(status);
      expect(error.type).toBe(type);
      expect(error.code).toBe(code);
    });
  });
});

describe('Class: CommandBusClient (operator jobs)', () => {
  const jobId = '01936a4e-7c1e-7b8a-9f59-1f1a2b3c4d5e';
  const calls: { method: string; url: string; body?: string }[] = [];
  const recordCalls = () => {
    calls.length = 0;
    vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
      calls.push({ method: String(init.method), url: url.pathname + url.search, ...(init.body === undefined ? {} : { body: String(init.body) }) });
      return new Response(JSON.stringify({ jobId, status: 'DRAFT', items: [] }), { status: 200 });
    });
  };

  it('creates, controls, lists and reads jobs on the routes IAM scopes by domain and action', async () => {
    recordCalls();

    await client.createJob({ domain: 'test', action: 'cancel', filter: { errorCode: 'DOWN' }, rate: 20, reason: 'obsolete' });
    await client.startJob({ domain: 'test', jobId });
    await client.pauseJob({ domain: 'test', jobId });
    await client.resumeJob({ domain: 'test', jobId });
    await client.cancelJob({ domain: 'test', jobId });
    await client.listJobs({ domain: 'test', limit: 5 });
    await client.getJob({ domain: 'test', jobId });

    expect(calls.map(({ method, url }) => `${method} ${url}`)).toEqual([
      'POST /tsq-jobs/test/cancel',
      `POST /tsq-jobs/test/${jobId}/start`,
      `POST /tsq-jobs/test/${jobId}/pause`,
      `POST /tsq-jobs/test/${jobId}/resume`,
      `POST /tsq-jobs/test/${jobId}/cancel`,
      'GET /domains/test/jobs?limit=5',
      `GET /domains/test/jobs/${jobId}`,
    ]);
    expect(JSON.parse(calls[0]!.body!)).toEqual({ filter: { errorCode: 'DOWN' }, rate: 20, reason: 'obsolete' });
  });

  it('rebuilds JobNotFoundError with its domain and job', async () => {
    answer(404, { error: { type: 'JobNotFound', code: 'JOB_NOT_FOUND', message: `job test/${jobId} not found`, domain: 'test', jobId } });

    const error = await client.getJob({ domain: 'test', jobId }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(JobNotFoundError);
    expect(error).toMatchObject({ domain: 'test', jobId, code: 'JOB_NOT_FOUND' });
  });
});
