/**
 * Property test of the HTTP API, generated from its OpenAPI document: for every documented
 * operation, requests with valid, random and hostile path parameters, query parameters, bodies and
 * content types. Whatever is sent:
 * - the answer is never a 5xx (invariant 9: bad input never gets one);
 * - its status is one the document lists for the operation;
 * - a 4xx carries the documented error shape; a 2xx body matches the operation's response schema.
 *
 * FUZZ_CASES (default 2000) and FUZZ_SEED (default below) choose the run; the seed is printed, and the
 * same seed generates the same requests. FUZZ_CONCURRENCY (default 6) requests are in flight at once.
 * Runs against the local runtime only: on AWS, API Gateway answers some refusals itself.
 */
import { randomUUID } from 'node:crypto';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus } from '@commandbus/core';
import { createScenario, target, type Scenario } from '../support/fixtures.ts';

const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 6);
const where = target();
const local = where.kind === 'api' && where.where === 'local';

// ajv-formats is CommonJS: its plugin is the module itself or its `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

interface Operation {
  method: 'GET' | 'POST';
  template: string;
  parameters: { name: string; in: 'path' | 'query'; required?: boolean }[];
  requestBody?: { required?: boolean };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: object }> }>;
}
interface OpenApi {
  paths: Record<string, Record<string, Omit<Operation, 'method' | 'template'>>>;
  components: { schemas: Record<string, object>; responses: Record<string, { content: Record<string, { schema: object }> }> };
}
interface FuzzRequest {
  operation: Operation;
  path: string;
  query: [string, string][];
  body?: string;
  contentType?: string;
}

/** What the API knows about when the fuzzing starts: real commands and real cursors. */
interface Fixtures {
  completed: string[];
  parked: string[];
  cursors: { byTime: string; byStatus: string; tsq: string };
}

let s: Scenario;
let apiUrl: string;
let document: OpenApi;
let fixtures: Fixtures;

beforeAll(async () => {
  if (!local) return;
  s = await createScenario();
  apiUrl = (where as { apiUrl: string }).apiUrl.replace(/\/$/, '');
  document = (await (await s.client!.fetch('GET', '/openapi.json')).json()) as OpenApi;
  // Commands that completed, and commands parked in the TSQ, for the routes to find.
  const completed = await Promise.all([s.send(), s.send()]);
  const parked = await Promise.all(
    [0, 1, 2].map(async () => {
      const commandId = randomUUID();
      await s.behaviours.create(commandId, { type: 'fail_permanent', error_code: 'FUZZ' });
      return s.send({ commandId });
    }),
  );
  await Promise.all([...completed.map((id) => s.waitForCompletion(id)), ...parked.map((id) => s.waitForStatus(id, CommandStatus.IN_TSQ))]);
  const nextCursor = async (path: string) => {
    const page = (await (await s.client!.fetch('GET', path)).json()) as { nextCursor?: string };
    if (!page.nextCursor) throw new Error(`no cursor from ${path}`);
    return page.nextCursor;
  };
  fixtures = {
    completed,
    parked,
    cursors: {
      byTime: await nextCursor('/commands?domain=test&limit=1'),
      byStatus: await nextCursor('/commands?domain=test&status=COMPLETED&limit=1'),
      tsq: await nextCursor('/tsq?domain=test&limit=1'),
    },
  };
});
afterAll(async () => {
  await s?.cleanup();
});

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const wellFormed = (arbitrary: fc.Arbitrary<string>) => arbitrary.filter((value) => value.isWellFormed());
/** Text of any kind: ASCII, any Unicode (emoji, RTL, combining marks), control characters. */
const anyText = (maxLength = 40) =>
  fc.oneof(
    fc.string({ maxLength }),
    wellFormed(fc.string({ unit: 'binary', maxLength })),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.constantFrom('💥', '👩‍👩‍👧‍👦', '\u202Eevil', 'a\u0000b', '\uFFFE', '\r\n', ' ', 'null', 'undefined', '../../etc/passwd', '<script>', "' OR 1=1 --"),
  );
/** Raw (already encoded) path segments a client could send, malformed %-encoding included. */
const percentGarbage = fc.constantFrom(
  '%',
  '%%',
  '%E0%A4%A',
  '%zz',
  '%2',
  '%C3',
  '%C3%28',
  '%ED%A0%80',
  '%FF%FE',
  '%00',
  '%25',
  '%2525',
  '%252F',
  '%2F',
  'a%2Fb',
  '%3F',
  'a%3Fb',
  '%23',
  '%5C',
  '%2E%2E',
  '..',
  '.',
  '%20',
  '+',
);
const longText = fc.integer({ min: 300, max: 6000 }).map((n) => 'a'.repeat(n));
const segment = (text: fc.Arbitrary<string>) => text.map(encodeURIComponent);

const domainValue = (encodeFor: 'path' | 'query') =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant('test') },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/) },
    { weight: 1, arbitrary: fc.constantFrom('nowhere', 'TEST', 'test ', '-test', 'a'.repeat(41), '') },
    { weight: 2, arbitrary: encodeFor === 'path' ? segment(anyText()) : anyText() },
    { weight: 2, arbitrary: encodeFor === 'path' ? percentGarbage : fc.constantFrom('%', '%E0%A4%A', 'a,b', '%2F') },
    { weight: 1, arbitrary: longText },
  );

const commandIdValue = (f: Fixtures) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...f.completed, ...f.parked) },
    { weight: 3, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.uuid().map((id) => id.toUpperCase()) },
    { weight: 2, arbitrary: segment(anyText()) },
    { weight: 2, arbitrary: percentGarbage },
    { weight: 1, arbitrary: longText },
  );

const validTime = fc.date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });
const timeValue = fc.oneof(
  { weight: 4, arbitrary: validTime.map((date) => date.toISOString()) },
  { weight: 2, arbitrary: fc.date({ min: new Date('2026-01-01'), max: new Date('2027-01-01'), noInvalidDate: true }).map((date) => date.toISOString()) },
  { weight: 1, arbitrary: validTime.map((date) => date.toISOString().slice(0, 10)) },
  { weight: 1, arbitrary: validTime.map((date) => date.toISOString().replace('Z', '+05:30')) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'now',
      'yesterday',
      '2026-02-30',
      '2026-13-01T00:00:00Z',
      '2026-01-01T25:00:00Z',
      '2026-01-01T00:00:00',
      '1/2/2026',
      '2026',
      '+275760-09-13T00:00:00.000Z',
      '+275760-09-13T00:00:00.001Z',
      '-271821-04-20T00:00:00.000Z',
      '-271821-04-19T23:59:59.999Z',
      '+010000-01-01T00:00:00Z',
      '-000001-01-01T00:00:00Z',
      '0000-01-01T00:00:00+01:00',
      '9999-12-31T23:59:59.999-01:00',
      'Tue, 01 Jan 2026 00:00:00 GMT',
    ),
  },
  { weight: 1, arbitrary: anyText() },
);

const integerValue = (min: number, max: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min, max }).map(String) },
    { weight: 2, arbitrary: fc.integer({ min: -1000, max: 1_000_000 }).map(String) },
    { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String) },
    { weight: 2, arbitrary: fc.constantFrom('0', '-1', '1e3', '1.5', '0x10', ' 5', 'NaN', 'Infinity', '-0', '+7', '9'.repeat(400), '') },
    { weight: 1, arbitrary: anyText(10) },
  );

const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decodeCursor = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v: number; q: string; b: unknown; f: unknown };

const cursorValue = (f: Fixtures) => {
  const real = fc.constantFrom(f.cursors.byTime, f.cursors.byStatus, f.cursors.tsq);
  const position = fc.oneof(
    fc.constantFrom('#', '', '2026-01-01T00:00:00.000Z#', `2026-01-01T00:00:00.000Z#${'x'.repeat(2000)}`, 'x#y', '~', '0', true, null, 42, {}, []),
    fc.tuple(timeValue, fc.uuid()).map(([time, id]) => `${time}#${id}`),
    anyText(),
  );
  const finished = fc.oneof(
    fc.array(fc.integer({ min: -2, max: 300 }), { maxLength: 10 }),
    fc.constantFrom<unknown>(
      null,
      'all',
      [0.5],
      [1, 1],
      Array.from({ length: 300 }, (_, n) => n),
      {},
    ),
  );
  // The version 3 cursor: the last entry handed out (b) and the finished shards (f); version 2: a position per shard of 8.
  const crafted = fc.oneof(
    fc.tuple(real, position).map(([cursor, value]) => encodeCursor({ ...decodeCursor(cursor), b: value })),
    fc.tuple(real, finished).map(([cursor, value]) => encodeCursor({ ...decodeCursor(cursor), f: value })),
    fc
      .tuple(real, fc.nat({ max: 7 }), position)
      .map(([cursor, shard, value]) => encodeCursor({ v: 2, q: decodeCursor(cursor).q, s: Array.from({ length: 8 }, (_, n) => (n === shard ? value : null)) })),
  );
  return fc.oneof(
    { weight: 5, arbitrary: real },
    { weight: 3, arbitrary: crafted },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        encodeCursor({ v: 1, s: ['#', null, null, null, null, null, null, null] }),
        encodeCursor({ v: 2, q: 'x', s: new Array(8).fill(null) }),
        encodeCursor({ v: 2, s: [] }),
        encodeCursor({ v: 3, q: 'x', b: null, f: [] }),
        encodeCursor(null),
        encodeCursor('cursor'),
        'bogus',
        '!!!',
        '',
        'A'.repeat(20_000),
      ),
    },
    { weight: 1, arbitrary: fc.base64String({ maxLength: 200 }) },
    { weight: 1, arbitrary: real.map((cursor) => encodeCursor({ ...decodeCursor(cursor), f: Array.from({ length: 8 }, (_, n) => n) })) },
    { weight: 1, arbitrary: real.map((cursor) => encodeCursor({ v: 2, q: decodeCursor(cursor).q, s: new Array(8).fill(true) })) },
  );
};

const queryValue = (name: string, f: Fixtures): fc.Arbitrary<string> => {
  switch (name) {
    case 'domain':
      return domainValue('query');
    case 'status':
      return fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...Object.values(CommandStatus)) },
        { weight: 1, arbitrary: fc.constantFrom('done', 'pending', 'IN_TSQ ', '') },
        { weight: 1, arbitrary: anyText() },
      );
    case 'commandType':
      return fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('TestCommand', 'OtherType') },
        { weight: 2, arbitrary: anyText() },
        { weight: 1, arbitrary: fc.constant('T'.repeat(129)) },
      );
    case 'correlationId':
      return fc.oneof(
        { weight: 3, arbitrary: fc.uuid() },
        { weight: 2, arbitrary: anyText() },
        { weight: 1, arbitrary: fc.constantFrom('C'.repeat(129), ' ', 'a\u0000b') },
      );
    case 'from':
    case 'to':
      return timeValue;
    case 'limit':
      return integerValue(1, 100);
    case 'maxItems':
      return integerValue(1, 200);
    case 'cursor':
      return cursorValue(f);
    default:
      return anyText();
  }
};

/** A JSON text builder: values that JSON.stringify cannot write (raw number literals, escapes, odd keys). */
type Json = { raw: string } | string | number | boolean | null | Json[] | { entries: [string | { raw: string }, Json][] };
function jsonText(value: Json): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if ('raw' in value) return value.raw;
  return `{${value.entries.map(([key, item]) => `${typeof key === 'string' ? JSON.stringify(key) : key.raw}:${jsonText(item)}`).join(',')}}`;
}
const rawNumber = fc
  .constantFrom(
    '12345678901234567890',
    '-9007199254740993',
    '9007199254740992',
    '9007199254740991',
    '1e308',
    '1e400',
    '-1e400',
    '1e-400',
    '1e-131',
    '1e-130',
    '5e-324',
    '-0',
    '0.1',
    '1E2',
  )
  .map((raw): Json => ({ raw }));
const oddKey = fc.constantFrom<string | { raw: string }>(
  '',
  '__proto__',
  'constructor',
  'prototype',
  '💥',
  'a.b',
  'a[0]',
  '\u0000',
  ' ',
  'x'.repeat(1000),
  { raw: '"\\ud800"' },
  { raw: '"\\udfff x"' },
);
const oddString = fc.constantFrom<Json>(
  { raw: '"\\ud800"' },
  { raw: '"a\\udc00b"' },
  '\uFFFE\uFFFF',
  '💥'.repeat(100),
  '\u0000\u0001\u001f',
  'x'.repeat(70_000),
);
const jsonValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 3, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)) },
    { weight: 3, arbitrary: anyText() },
    { weight: 1, arbitrary: rawNumber },
    { weight: 1, arbitrary: oddString },
    { weight: 2, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 1, arbitrary: oddKey }), tie('value')), { maxLength: 4 })
        .map((entries) => ({ entries })),
    },
  ),
})).value;
/** An object nested `depth` levels deep, written as text (JSON.stringify would recurse). */
const deep = fc.constantFrom(27, 28, 29, 30, 100, 1000, 6000, 50_000).map((depth): Json => ({ raw: `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` }));
const dataValue = fc.oneof({ weight: 5, arbitrary: jsonValue }, { weight: 1, arbitrary: deep });
const objectOf = (fields: fc.Arbitrary<[string, Json][]>) => fields.map((entries): Json => ({ entries }));
/** `value` in `present` of 10 cases, else undefined. */
const sometimes = <T>(value: fc.Arbitrary<T>, present: number) =>
  fc.oneof({ weight: present, arbitrary: value }, { weight: 10 - present, arbitrary: fc.constant(undefined) });
/** A field `name` in `present` of 10 objects. */
const maybe = <T>(name: string, value: fc.Arbitrary<T>, present = 7) =>
  sometimes(
    value.map((v): [string, T] => [name, v]),
    present,
  );

const sendCommandBody = (f: Fixtures, namespace: string): fc.Arbitrary<Json> =>
  fc
    .tuple(
      maybe(
        'domain',
        fc.oneof(
          { weight: 5, arbitrary: fc.constant<Json>('test') },
          { weight: 2, arbitrary: fc.constant<Json>('nowhere') },
          { weight: 2, arbitrary: jsonValue },
        ),
        9,
      ),
      maybe(
        'commandType',
        fc.oneof(
          { weight: 3, arbitrary: fc.constant<Json>('TestCommand') },
          { weight: 2, arbitrary: jsonValue },
          { weight: 1, arbitrary: fc.constant<Json>('T'.repeat(129)) },
        ),
        9,
      ),
      maybe(
        'commandId',
        fc.oneof(
          { weight: 4, arbitrary: fc.uuid() as fc.Arbitrary<Json> },
          { weight: 1, arbitrary: fc.constantFrom<Json>(...f.completed) },
          { weight: 2, arbitrary: jsonValue },
        ),
        9,
      ),
      maybe(
        'data',
        fc.oneof(
          { weight: 4, arbitrary: objectOf(fc.array(fc.tuple(fc.string({ maxLength: 6 }), dataValue), { maxLength: 3 })) },
          { weight: 1, arbitrary: dataValue },
        ),
        9,
      ),
      maybe('maxAttempts', fc.oneof(fc.integer({ min: 1, max: 25 }) as fc.Arbitrary<Json>, rawNumber, jsonValue), 3),
      maybe('correlationId', fc.oneof(fc.uuid() as fc.Arbitrary<Json>, jsonValue), 2),
      // Only refused queues: a reply to a queue that exists would be sent; one that does not would retry.
      maybe(
        'replyTo',
        fc.constantFrom<Json>(`${namespace}-test-commands`, `${namespace}-test-tsq`, 'https://sqs.eu-west-1.amazonaws.com/1/q', 'a b', 'x'.repeat(81), '', 3),
        1,
      ),
      sometimes(fc.tuple(oddKey, jsonValue), 2),
    )
    .map((fields) => ({ entries: fields.filter((field): field is [string | { raw: string }, Json] => field !== undefined) }));

const bodyFor = (operation: Operation, f: Fixtures, namespace: string): fc.Arbitrary<string | undefined> => {
  const typed: fc.Arbitrary<Json> =
    operation.template === '/commands'
      ? sendCommandBody(f, namespace)
      : operation.template.endsWith('/cancel')
        ? objectOf(
            fc
              .tuple(maybe('reason', fc.oneof(anyText() as fc.Arbitrary<Json>, jsonValue), 9))
              .map((fields) => fields.filter((x): x is [string, Json] => x !== undefined)),
          )
        : operation.template.endsWith('/complete')
          ? objectOf(
              fc
                .tuple(
                  maybe(
                    'resultData',
                    fc.oneof(
                      { weight: 4, arbitrary: jsonValue },
                      { weight: 1, arbitrary: deep },
                      { weight: 1, arbitrary: fc.constant<Json>('x'.repeat(500_000)) },
                    ),
                    8,
                  ),
                )
                .map((fields) => fields.filter((x): x is [string, Json] => x !== undefined)),
            )
          : fc.constant<Json>({ entries: [] });
  return fc.oneof(
    { weight: 12, arbitrary: typed.map(jsonText) },
    { weight: 2, arbitrary: jsonValue.map(jsonText) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('{oops', 'null', '[]', '"x"', '{"a":1,}', '{"a":1}{', 'undefined', "{'a':1}", '\u0000', '{"a":"\\x"}', ' ', '\uFEFF{}'),
    },
    { weight: 2, arbitrary: fc.constant(undefined) },
    // Over the local body limit (1 MiB): rare, it is costly.
    { weight: 1, arbitrary: fc.constant(`{"x":"${'y'.repeat(1024 * 1024)}"}`) },
  );
};

const contentType = fc.oneof(
  { weight: 14, arbitrary: fc.constant('application/json') },
  { weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.api+json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'json',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const requestFor = (operation: Operation, f: Fixtures, namespace: string): fc.Arbitrary<FuzzRequest> => {
  const pathParameters = operation.parameters.filter((p) => p.in === 'path');
  const queryParameters = operation.parameters.filter((p) => p.in === 'query');
  const path = fc
    .tuple(...pathParameters.map((p) => (p.name === 'domain' ? domainValue('path') : commandIdValue(f))))
    .map((values) => pathParameters.reduce((template, p, n) => template.replace(`{${p.name}}`, values[n]!), operation.template));
  const query = fc
    .tuple(
      ...queryParameters.map((p) => fc.option(queryValue(p.name, f), { freq: p.required ? 12 : 2, nil: undefined })),
      // Now and then a parameter twice, or one the API does not know.
      sometimes(fc.tuple(fc.constantFrom(...queryParameters.map((p) => p.name), 'unknown', ''), anyText()), 1),
      // A reversed time range, when the operation has one.
      sometimes(fc.tuple(validTime, validTime), 2),
    )
    .map((values) => {
      const pairs: [string, string][] = [];
      queryParameters.forEach((p, n) => {
        const value = values[n] as string | undefined;
        if (value !== undefined) pairs.push([p.name, value]);
      });
      const extra = values[queryParameters.length] as [string, string] | undefined;
      if (extra) pairs.push(extra);
      const reversed = values[queryParameters.length + 1] as [Date, Date] | undefined;
      if (reversed && queryParameters.some((p) => p.name === 'from')) {
        const [a, b] = [reversed[0].toISOString(), reversed[1].toISOString()].sort();
        pairs.splice(0, pairs.length, ...pairs.filter(([name]) => name !== 'from' && name !== 'to'), ['from', b!], ['to', a!]);
      }
      return pairs;
    });
  const body = operation.requestBody ? fc.tuple(bodyFor(operation, f, namespace), contentType) : fc.constant([undefined, undefined] as const);
  return fc.record({ path, query, body }).map(({ path: p, query: q, body: [b, type] }) => ({
    operation,
    path: p,
    query: q,
    ...(b === undefined ? {} : { body: b }),
    ...(type === undefined || b === undefined ? {} : { contentType: type }),
  }));
};

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

function operationsOf(doc: OpenApi): Operation[] {
  return Object.entries(doc.paths).flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      ...operation,
      parameters: operation.parameters ?? [],
      method: method.toUpperCase() as 'GET' | 'POST',
      template,
    })),
  );
}

/** Validators for the document's schemas (ajv's JSON Schema 2020-12 build, formats included). */
function schemaChecker(doc: OpenApi) {
  const base = 'https://commandbus.local/openapi';
  const resolve = (value: object): object => JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', `"${base}#/$defs/`)) as object;
  const ajv = addFormats(new Ajv2020({ strict: true, strictTypes: false, allErrors: false }));
  ajv.addSchema({ $id: base, $defs: resolve(doc.components.schemas) });
  const cache = new Map<object, ValidateFunction>();
  const compile = (schema: object) => {
    let validate = cache.get(schema);
    if (!validate) {
      validate = ajv.compile(resolve(schema));
      cache.set(schema, validate);
    }
    return validate;
  };
  const errorShape = compile(doc.components.schemas.Error!);
  return {
    /** The documented response of an operation for a status (exact, or its `4XX`/`5XX` range). */
    response(operation: Operation, status: number) {
      const documented = operation.responses[String(status)] ?? operation.responses[`${Math.floor(status / 100)}XX`];
      if (!documented) return undefined;
      const name = documented.$ref?.split('/').pop();
      return name ? doc.components.responses[name]! : documented;
    },
    validate(schema: object, body: unknown): string | undefined {
      const validate = compile(schema);
      return validate(body) ? undefined : ajv.errorsText(validate.errors);
    },
    errorShape(body: unknown): string | undefined {
      return errorShape(body) ? undefined : ajv.errorsText(errorShape.errors);
    },
  };
}

interface Outcome {
  request: FuzzRequest;
  status: number;
  problem?: string;
}

async function perform(request: FuzzRequest, checker: ReturnType<typeof schemaChecker>, token: string): Promise<Outcome> {
  const url = new URL(`${apiUrl}${request.path}`);
  for (const [name, value] of request.query) url.searchParams.append(name, value);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  let response: Response;
  try {
    // A Buffer, so fetch adds no content type of its own.
    response = await fetch(url, {
      method: request.operation.method,
      headers,
      ...(request.body === undefined ? {} : { body: Buffer.from(request.body, 'utf8') }),
    });
  } catch (error) {
    return { request, status: 0, problem: `request failed: ${(error as Error).message}` };
  }
  const text = await response.text();
  const { status } = response;
  const fail = (problem: string): Outcome => ({ request, status, problem: `${problem}; body: ${text.slice(0, 300)}` });
  if (status >= 500) return fail('a 5xx');
  const documented = checker.response(request.operation, status);
  if (!documented) return fail(`status ${status} is not documented for ${request.operation.method} ${request.operation.template}`);
  if (!/^application\/json/.test(response.headers.get('content-type') ?? '')) return fail(`content-type ${response.headers.get('content-type')}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return fail('a body that is not JSON');
  }
  if (status >= 400) {
    const problem = checker.errorShape(body);
    return problem ? fail(`not the documented error shape: ${problem}`) : { request, status };
  }
  const schema = documented.content?.['application/json']?.schema;
  const problem = schema ? checker.validate(schema, body) : undefined;
  return problem ? fail(`the body does not match the documented schema: ${problem}`) : { request, status };
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function pool<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

function describeRequest(request: FuzzRequest): string {
  const query = request.query.length ? `?${new URLSearchParams(request.query).toString()}` : '';
  const shown = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}… (${text.length} chars)` : text);
  return `${request.operation.method} ${shown(request.path + query)}${request.contentType === undefined ? '' : ` [${request.contentType}]`}${request.body === undefined ? '' : ` ${shown(request.body)}`}`;
}

describe('HTTP API: fuzzing from the OpenAPI document', () => {
  if (local)
    it(`answers ${CASES} generated requests (seed ${SEED}) with documented statuses and shapes, never a 5xx`, async () => {
      const started = Date.now();
      const token = (where as { auth: { token: string } }).auth.token;
      const operations = operationsOf(document);
      const checker = schemaChecker(document);
      const arbitrary = fc.oneof(...operations.map((operation) => requestFor(operation, fixtures, s.namespace)));
      const requests = fc.sample(arbitrary, { seed: SEED, numRuns: CASES });

      const outcomes = await pool(requests, CONCURRENCY, (request) => perform(request, checker, token));

      const byStatus = new Map<number, number>();
      for (const { status } of outcomes) byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      const perOperation = new Map<string, number>();
      for (const { request } of outcomes)
        perOperation.set(
          `${request.operation.method} ${request.operation.template}`,
          (perOperation.get(`${request.operation.method} ${request.operation.template}`) ?? 0) + 1,
        );
      console.log(
        `fuzz: ${outcomes.length} cases, seed ${SEED}, concurrency ${CONCURRENCY}, ${Date.now() - started} ms; statuses ${JSON.stringify(Object.fromEntries([...byStatus].sort(([a], [b]) => a - b)))}`,
      );
      const failures = outcomes.filter((outcome) => outcome.problem !== undefined);
      expect(
        failures.slice(0, 10).map((failure) => `${failure.status} ${describeRequest(failure.request)} → ${failure.problem}`),
        `${failures.length} of ${outcomes.length} cases failed (seed ${SEED}; rerun with FUZZ_SEED=${SEED})`,
      ).toEqual([]);
      // Every operation was exercised, and the run reached past validation now and then.
      if (CASES >= 200) expect(perOperation.size).toBe(operations.length);
      expect([...byStatus.keys()].filter((status) => status < 300).length).toBeGreaterThan(0);
    });

  // Reported as skipped, with the reason, where it cannot run: never as a pass.
  if (!local) it.skip('NOT RUN against a remote target: API Gateway answers some refusals itself (see README, "The HTTP API")', () => {});
});
