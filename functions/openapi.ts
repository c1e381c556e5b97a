/** OpenAPI 3.1 description of the HTTP API (served at GET /openapi.json). */
const error = { $ref: '#/components/responses/Error' };
const commandPath = [
  { name: 'domain', in: 'path', required: true, schema: { type: 'string' } },
  { name: 'commandId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
];
const commandResponse = {
  200: { description: 'The command after the action', content: { 'application/json': { schema: { $ref: '#/components/schemas/Command' } } } },
  400: error,
  403: error,
  404: error,
  409: error,
};
const page = (item: string) => ({
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: `#/components/schemas/${item}` } }, nextCursor: { type: 'string' } },
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'commandbus API',
    version: '0.1.0',
    description:
      'Send commands, read their state and audit trail, browse them, and act on the troubleshooting queue (TSQ). ' +
      'Every route requires AWS IAM (SigV4) authorisation; operator actions record the caller identity. ' +
      'Locally, the runtime accepts `Authorization: Bearer <token>` printed at start-up.',
  },
  security: [{ sigv4: [] }],
  paths: {
    '/commands': {
      post: {
        summary: 'Send a command (idempotent per domain and commandId)',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/SendCommand' } } } },
        responses: {
          202: { description: 'Accepted', content: { 'application/json': { schema: { $ref: '#/components/schemas/SendResult' } } } },
          400: error,
          409: error,
          503: error,
        },
      },
      get: {
        summary: 'Browse the commands of a domain, newest first',
        parameters: [
          { name: 'domain', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'status', in: 'query', schema: { $ref: '#/components/schemas/Status' } },
          { name: 'commandType', in: 'query', schema: { type: 'string' } },
          { name: 'from', in: 'query', description: 'createdAt ≥ from (ISO-8601)', schema: { type: 'string', format: 'date-time' } },
          { name: 'to', in: 'query', description: 'createdAt < to (ISO-8601)', schema: { type: 'string', format: 'date-time' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
        ],
        responses: { 200: { description: 'A page', content: { 'application/json': { schema: page('Command') } } }, 400: error },
      },
    },
    '/commands/{domain}/{commandId}': {
      get: {
        summary: 'One command',
        parameters: commandPath,
        responses: {
          200: { description: 'The command', content: { 'application/json': { schema: { $ref: '#/components/schemas/Command' } } } },
          400: error,
          404: error,
        },
      },
    },
    '/commands/{domain}/{commandId}/audit': {
      get: {
        summary: 'The audit trail of a command, oldest first',
        parameters: commandPath,
        responses: { 200: { description: 'Events', content: { 'application/json': { schema: page('AuditEvent') } } }, 400: error, 404: error },
      },
    },
    '/domains/{domain}/counts': {
      get: {
        summary: 'Commands per status among those created in [from, to) (default: the last 24 hours)',
        parameters: [
          { name: 'domain', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'maxItems', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100000, default: 10000 } },
        ],
        responses: { 200: { description: 'Counts', content: { 'application/json': { schema: { $ref: '#/components/schemas/StatusCounts' } } } }, 400: error },
      },
    },
    '/tsq': {
      get: {
        summary: 'Commands in the troubleshooting queue, with error details and payload',
        parameters: [
          { name: 'domain', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'commandType', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
        ],
        responses: { 200: { description: 'A page', content: { 'application/json': { schema: page('Command') } } }, 400: error },
      },
    },
    '/tsq/{domain}/{commandId}/retry': {
      post: { summary: 'Operator retry: re-enqueue the stored payload (only from IN_TSQ)', parameters: commandPath, responses: commandResponse },
    },
    '/tsq/{domain}/{commandId}/cancel': {
      post: {
        summary: 'Operator cancel with a reason (only from IN_TSQ)',
        parameters: commandPath,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', minLength: 1 } } } } },
        },
        responses: commandResponse,
      },
    },
    '/tsq/{domain}/{commandId}/complete': {
      post: {
        summary: 'Operator complete with result data (only from IN_TSQ)',
        parameters: commandPath,
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { resultData: {} } } } } },
        responses: commandResponse,
      },
    },
    '/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
  },
  components: {
    securitySchemes: { sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', description: 'AWS Signature Version 4 (IAM)' } },
    responses: {
      Error: {
        description: '400 bad input, 403 no identity, 404 unknown command, 409 not allowed in this status or duplicate, 503 enqueue failed',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['error'],
              properties: {
                error: {
                  type: 'object',
                  required: ['type', 'message'],
                  properties: { type: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' }, currentStatus: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
    schemas: {
      Status: { type: 'string', enum: ['PENDING', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'IN_TSQ'] },
      SendCommand: {
        type: 'object',
        required: ['domain', 'commandType', 'commandId', 'data'],
        properties: {
          domain: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$' },
          commandType: { type: 'string', maxLength: 128 },
          commandId: { type: 'string', format: 'uuid' },
          data: { type: 'object' },
          maxAttempts: { type: 'integer', minimum: 1, maximum: 25, default: 3 },
          correlationId: { type: 'string' },
          replyTo: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,75}(\\.fifo)?$', description: 'the name of a queue (same account) for the reply' },
        },
      },
      SendResult: {
        type: 'object',
        properties: { domain: { type: 'string' }, commandId: { type: 'string' }, correlationId: { type: 'string' }, status: { $ref: '#/components/schemas/Status' } },
      },
      CommandError: {
        type: 'object',
        properties: { type: { enum: ['TRANSIENT', 'PERMANENT', 'TIMEOUT'] }, code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
      },
      Command: {
        type: 'object',
        properties: {
          domain: { type: 'string' },
          commandId: { type: 'string' },
          commandType: { type: 'string' },
          status: { $ref: '#/components/schemas/Status' },
          attempts: { type: 'integer' },
          maxAttempts: { type: 'integer' },
          correlationId: { type: 'string' },
          replyTo: { type: 'string' },
          createdAt: { type: 'string', format: 'date-time' },
          updatedAt: { type: 'string', format: 'date-time' },
          lastError: { $ref: '#/components/schemas/CommandError' },
          result: {},
          data: { type: 'object', description: 'stored once the command is parked in the TSQ' },
          movedToTsqAt: { type: 'string', format: 'date-time' },
        },
      },
      AuditEvent: {
        type: 'object',
        properties: {
          commandId: { type: 'string' },
          domain: { type: 'string' },
          eventType: {
            enum: ['SENT', 'RECEIVED', 'COMPLETED', 'FAILED', 'RETRY_EXHAUSTED', 'MOVED_TO_TSQ', 'OPERATOR_RETRY', 'OPERATOR_CANCEL', 'OPERATOR_COMPLETE'],
          },
          timestamp: { type: 'string', format: 'date-time' },
          attempt: { type: 'integer' },
          details: { type: 'object' },
        },
      },
      StatusCounts: {
        type: 'object',
        properties: {
          domain: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
          counts: { type: 'object', additionalProperties: { type: 'integer' } },
          counted: { type: 'integer' },
          truncated: { type: 'boolean' },
        },
      },
    },
  },
} as const;
