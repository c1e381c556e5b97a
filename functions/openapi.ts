/**
 * OpenAPI 3.1 description of the HTTP API (served at GET /openapi.json). Every status the function
 * or the local runtime can answer is listed per operation; the fuzz test (e2e/api/fuzz.test.ts)
 * holds the API to it: each answer's status must be listed, and its body must match the schema.
 */
const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });
const schema = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (body: object) => ({ 'application/json': { schema: body } });

/** Answers every operation can get: bad input, no authorisation, throttling (AWS), headers too large (locally), a fault. */
const always = { 400: ref('BadRequest'), 403: ref('Forbidden'), 429: ref('TooManyRequests'), 431: ref('HeadersTooLarge'), '5XX': ref('ServerError') };
/** Answers of operations that take a JSON body. */
const withBody = { 413: ref('PayloadTooLarge'), 415: ref('UnsupportedMediaType') };

const domainPath = {
  name: 'domain',
  in: 'path',
  required: true,
  description: 'Percent-encoded once; API Gateway decodes the path before routing, so `%2F` becomes a path separator.',
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$' },
};
const commandPath = [domainPath, { name: 'commandId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }];
const timeBound = (description: string) => ({
  in: 'query',
  description: `${description}. ISO-8601 as RFC 3339 has it (a date, or a date and time with Z or an offset), years 0000–9999`,
  schema: { type: 'string', format: 'date-time' },
});
const cursor = {
  name: 'cursor',
  in: 'query',
  description: 'The `nextCursor` of the previous page. It is only valid for the query it was issued for (same domain, filters and time range; the limit may change).',
  schema: { type: 'string' },
};
const limit = { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 } };
const operatorResponses = {
  200: { description: 'The command after the action', content: jsonContent(schema('Command')) },
  ...always,
  ...withBody,
  404: ref('NotFound'),
  409: ref('Conflict'),
};
const page = (item: object) => ({
  type: 'object',
  required: ['items'],
  additionalProperties: false,
  properties: { items: { type: 'array', items: item }, nextCursor: { type: 'string', minLength: 1 } },
});
const timestamp = { type: 'string', format: 'date-time' };

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'commandbus API',
    version: '0.1.0',
    description: [
      'Send commands, read their state and audit trail, browse them, and act on the troubleshooting queue (TSQ).',
      'Every route requires AWS IAM (SigV4) authorisation; operator actions record the caller identity.',
      'Locally, the runtime accepts `Authorization: Bearer <token>` printed at start-up.',
      '',
      'Every refusal of the API is `{ "error": { "type": "…", "message": "…", "field": "…"? } }` (schema `Error`): 400 bad input',
      '(`field` names it), 403 no caller identity, 404 unknown command (`CommandNotFound`), domain (`DomainNotFound`) or route',
      '(`RouteNotFound`), 409 not allowed in this status (`InvalidOperation`) or duplicate (`DuplicateCommand`), 415 a body that',
      'is not `application/json`, 503 enqueue failed (`SendFailed`: nothing recorded, sending again is safe).',
      '',
      'On AWS, API Gateway answers some requests itself, before the function runs, and an HTTP API cannot change those',
      'answers: 403 for a missing or wrong signature, 413 for a body over the size limits, 429 when throttled, a refusal of',
      'a path whose %-encoding does not decode, a 5xx when the function fails or times out. Their body is',
      '`{ "message": "…" }` (schema `GatewayError`), with no `error` object. The local runtime answers its own 403, 413 and',
      '431 in the `Error` shape.',
    ].join('\n'),
  },
  security: [{ sigv4: [] }],
  paths: {
    '/commands': {
      post: {
        summary: 'Send a command (idempotent per domain and commandId)',
        requestBody: { required: true, content: jsonContent(schema('SendCommand')) },
        responses: {
          202: { description: 'Accepted', content: jsonContent(schema('SendResult')) },
          ...always,
          ...withBody,
          404: ref('NotFound'),
          409: ref('Conflict'),
          503: ref('SendFailed'),
        },
      },
      get: {
        summary: 'Browse the commands of a domain, newest first',
        parameters: [
          { name: 'domain', in: 'query', required: true, schema: domainPath.schema },
          { name: 'status', in: 'query', schema: schema('Status') },
          { name: 'commandType', in: 'query', schema: { type: 'string', minLength: 1, maxLength: 128 } },
          { name: 'from', ...timeBound('createdAt ≥ from') },
          { name: 'to', ...timeBound('createdAt < to; not before from') },
          limit,
          cursor,
        ],
        responses: { 200: { description: 'A page', content: jsonContent(page(schema('Command'))) }, ...always },
      },
    },
    '/commands/{domain}/{commandId}': {
      get: {
        summary: 'One command',
        parameters: commandPath,
        responses: { 200: { description: 'The command', content: jsonContent(schema('Command')) }, ...always, 404: ref('NotFound') },
      },
    },
    '/commands/{domain}/{commandId}/audit': {
      get: {
        summary: 'The audit trail of a command, oldest first',
        parameters: commandPath,
        responses: { 200: { description: 'Events', content: jsonContent(page(schema('AuditEvent'))) }, ...always, 404: ref('NotFound') },
      },
    },
    '/domains/{domain}/counts': {
      get: {
        summary: 'Commands per status among those created in [from, to) (default: the 24 hours before `to`, which defaults to now)',
        parameters: [
          domainPath,
          { name: 'from', ...timeBound('createdAt ≥ from') },
          { name: 'to', ...timeBound('createdAt < to; not before from') },
          { name: 'maxItems', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100000, default: 10000 } },
        ],
        responses: { 200: { description: 'Counts', content: jsonContent(schema('StatusCounts')) }, ...always, 404: ref('NotFound') },
      },
    },
    '/tsq': {
      get: {
        summary: 'Commands in the troubleshooting queue, with error details and payload',
        parameters: [
          { name: 'domain', in: 'query', required: true, schema: domainPath.schema },
          { name: 'commandType', in: 'query', schema: { type: 'string', minLength: 1, maxLength: 128 } },
          limit,
          cursor,
        ],
        responses: { 200: { description: 'A page', content: jsonContent(page(schema('TsqEntry'))) }, ...always },
      },
    },
    '/tsq/{domain}/{commandId}/retry': {
      post: {
        summary: 'Operator retry: re-enqueue the stored payload (only from IN_TSQ)',
        parameters: commandPath,
        requestBody: { required: false, description: 'Not read; if sent, it must be JSON.', content: jsonContent({ type: 'object' }) },
        responses: { ...operatorResponses, 503: ref('SendFailed') },
      },
    },
    '/tsq/{domain}/{commandId}/cancel': {
      post: {
        summary: 'Operator cancel with a reason (only from IN_TSQ)',
        parameters: commandPath,
        requestBody: {
          required: true,
          content: jsonContent({ type: 'object', required: ['reason'], properties: { reason: { type: 'string', minLength: 1, maxLength: 128 } } }),
        },
        responses: operatorResponses,
      },
    },
    '/tsq/{domain}/{commandId}/complete': {
      post: {
        summary: 'Operator complete with result data (only from IN_TSQ)',
        parameters: commandPath,
        requestBody: {
          required: false,
          content: jsonContent({ type: 'object', properties: { resultData: { description: 'Any JSON up to 64 KiB; numbers within ±(2^53 − 1)' } } }),
        },
        responses: operatorResponses,
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', content: jsonContent({ type: 'object', required: ['openapi', 'paths'], properties: { openapi: { type: 'string' }, paths: { type: 'object' } } }) }, ...always } },
    },
  },
  components: {
    securitySchemes: { sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', description: 'AWS Signature Version 4 (IAM)' } },
    responses: {
      BadRequest: {
        description: 'Bad input (`ValidationError`; `field` names what was wrong). From API Gateway (a path that does not decode): `{"message": …}`',
        content: jsonContent({ oneOf: [schema('Error'), schema('GatewayError')] }),
      },
      TooManyRequests: { description: 'Throttled by API Gateway (AWS only): `{"message":"Too Many Requests"}`', content: jsonContent(schema('GatewayError')) },
      Forbidden: {
        description: 'No caller identity. From API Gateway (no or a wrong signature): `{"message":"Forbidden"}`',
        content: jsonContent({ oneOf: [schema('Error'), schema('GatewayError')] }),
      },
      NotFound: { description: '`CommandNotFound`, `DomainNotFound` (not provisioned: nothing was sent) or `RouteNotFound`', content: jsonContent(schema('Error')) },
      Conflict: {
        description: '`DuplicateCommand` (with `existingStatus`; nothing was sent again) or `InvalidOperation` (with `currentStatus`; nothing changed)',
        content: jsonContent(schema('Error')),
      },
      PayloadTooLarge: {
        description: 'The body is over the limit (1 MiB locally; on AWS, API Gateway answers itself: 10 MB, and 6 MB for a Lambda invocation)',
        content: jsonContent({ oneOf: [schema('Error'), schema('GatewayError')] }),
      },
      UnsupportedMediaType: { description: 'A body must be sent as `application/json` (a charset may be given)', content: jsonContent(schema('Error')) },
      HeadersTooLarge: { description: 'Request headers over the limit (the local runtime: 16 KiB)', content: jsonContent(schema('Error')) },
      SendFailed: { description: '`SendFailed`: the command was not enqueued and nothing was recorded; sending again is safe', content: jsonContent(schema('Error')) },
      ServerError: {
        description: 'A fault of the API (`InternalError`, no details) or, on AWS, of API Gateway (throttled, function failed or timed out)',
        content: jsonContent({ oneOf: [schema('Error'), schema('GatewayError')] }),
      },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        additionalProperties: false,
        properties: {
          error: {
            type: 'object',
            required: ['type', 'message'],
            additionalProperties: false,
            properties: {
              type: { type: 'string', minLength: 1 },
              message: { type: 'string', minLength: 1 },
              field: { type: 'string', minLength: 1, description: 'What was wrong (ValidationError): a field, a path into data such as `data.items[2]`, `body`, `path`, `content-type`' },
              currentStatus: { type: 'string', description: 'InvalidOperation: the status the command is in' },
              existingStatus: { type: 'string', description: 'DuplicateCommand: the status of the command that exists' },
            },
          },
        },
      },
      GatewayError: {
        type: 'object',
        description: 'An answer of API Gateway itself (AWS only)',
        required: ['message'],
        properties: { message: { type: 'string' } },
      },
      Status: { type: 'string', enum: ['PENDING', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'IN_TSQ'] },
      SendCommand: {
        type: 'object',
        required: ['domain', 'commandType', 'commandId', 'data'],
        properties: {
          domain: domainPath.schema,
          commandType: { type: 'string', minLength: 1, maxLength: 128 },
          commandId: { type: 'string', format: 'uuid' },
          data: {
            type: 'object',
            description: 'At most 128 KiB as JSON, nesting at most 28 levels; numbers within ±(2^53 − 1) and not closer to 0 than 1e-130; no empty or `__proto__` keys',
          },
          maxAttempts: { type: 'integer', minimum: 1, maximum: 25, default: 3 },
          correlationId: { type: 'string', minLength: 1, maxLength: 128 },
          replyTo: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,75}(\\.fifo)?$', description: 'the name of a queue (same account) for the reply' },
        },
      },
      SendResult: {
        type: 'object',
        required: ['domain', 'commandId', 'correlationId', 'status'],
        additionalProperties: false,
        properties: { domain: { type: 'string' }, commandId: { type: 'string' }, correlationId: { type: 'string' }, status: schema('Status') },
      },
      CommandError: {
        type: 'object',
        required: ['type', 'code', 'message'],
        properties: { type: { enum: ['TRANSIENT', 'PERMANENT', 'TIMEOUT'] }, code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
      },
      Command: {
        type: 'object',
        required: ['domain', 'commandId', 'commandType', 'status', 'attempts', 'maxAttempts', 'correlationId', 'createdAt', 'updatedAt'],
        additionalProperties: false,
        properties: {
          domain: { type: 'string' },
          commandId: { type: 'string' },
          commandType: { type: 'string' },
          status: schema('Status'),
          attempts: { type: 'integer', minimum: 0 },
          maxAttempts: { type: 'integer', minimum: 1 },
          correlationId: { type: 'string' },
          replyTo: { type: 'string' },
          createdAt: timestamp,
          updatedAt: timestamp,
          lastError: schema('CommandError'),
          result: {},
          data: { type: 'object', description: 'stored once the command is parked in the TSQ' },
          dataOmitted: { const: true, description: 'in a page that would pass 5 MB, payloads are left out and marked' },
          movedToTsqAt: timestamp,
        },
      },
      TsqEntry: {
        allOf: [schema('Command')],
        required: ['movedToTsqAt'],
        properties: { status: { const: 'IN_TSQ' }, movedToTsqAt: timestamp },
      },
      AuditEvent: {
        type: 'object',
        required: ['commandId', 'domain', 'eventType', 'timestamp', 'attempt', 'details'],
        additionalProperties: false,
        properties: {
          commandId: { type: 'string' },
          domain: { type: 'string' },
          eventType: {
            enum: ['SENT', 'RECEIVED', 'COMPLETED', 'FAILED', 'RETRY_EXHAUSTED', 'MOVED_TO_TSQ', 'OPERATOR_RETRY', 'OPERATOR_CANCEL', 'OPERATOR_COMPLETE'],
          },
          timestamp,
          attempt: { type: 'integer', minimum: 0 },
          details: { type: 'object' },
        },
      },
      StatusCounts: {
        type: 'object',
        required: ['domain', 'from', 'to', 'counts', 'counted', 'truncated'],
        additionalProperties: false,
        properties: {
          domain: { type: 'string' },
          from: timestamp,
          to: timestamp,
          counts: {
            type: 'object',
            required: ['PENDING', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'IN_TSQ'],
            additionalProperties: false,
            properties: Object.fromEntries(['PENDING', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'IN_TSQ'].map((status) => [status, { type: 'integer', minimum: 0 }])),
          },
          counted: { type: 'integer', minimum: 0 },
          truncated: { type: 'boolean' },
        },
      },
    },
  },
} as const;
