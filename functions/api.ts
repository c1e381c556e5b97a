import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import {
  CommandBus,
  CommandNotFoundError,
  TroubleshootingQueue,
  ValidationError,
  type BulkAction,
  type CommandBusConfig,
  type JobFilter,
  type CommandSchemaLookup,
  type CommandStatus,
  type JsonObject,
  type JsonValue,
  type SendCommandRequest,
  type StatsSeriesGranularity,
} from '@commandbus/core';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler from '@middy/http-router';
import type { Context } from 'aws-lambda';
import { configFromEnv } from './config.ts';
import {
  callerIdentity,
  errorMapper,
  errorResponse,
  HttpError,
  json,
  jsonBodyParser,
  parsedBody,
  pathParameter,
  queryInteger,
  queryString,
  type ApiEvent,
  type ApiResult,
} from './http.ts';
import { createLambdaLogger } from './logger.ts';
import { createTracer, tracedClients } from './observability.ts';
import { openApiDocument, operations, type Operation, type OperationId } from './openapi.ts';
import { restApiEvents } from './restEvent.ts';

type RouteHandler = (event: ApiEvent, context: Context) => Promise<ApiResult>;

/** Lambda answers at most 6 MB; a page of parked payloads could exceed it. */
const MAX_PAGE_BYTES = 5 * 1024 * 1024;

/** A page as JSON, leaving the payloads out (each marked `dataOmitted`) when it would be too large. */
export function pageResponse(page: { items: { data?: unknown }[]; nextCursor?: string }): ApiResult {
  const response = json(200, page);
  if (Buffer.byteLength(response.body ?? '', 'utf8') <= MAX_PAGE_BYTES) return response;
  return json(200, { ...page, items: page.items.map(({ data, ...item }) => (data === undefined ? item : { ...item, dataOmitted: true })) });
}

/** How the API reaches the library. */
export interface ApiHandlerOptions {
  /**
   * The library's configuration: namespace, table, queue URLs, SDK clients, or adapters (tests).
   * Without a logger, the function's structured logger is used.
   * @default read from the environment the stack sets (see configFromEnv)
   */
  config?: CommandBusConfig;
  /**
   * Typed commands: the schemas by (domain, commandType) — a CommandSchemas, or the worker's
   * HandlerRegistry. A send whose data does not match is refused (400, `field` `data.<path>`), an
   * operator's edit-and-retry likewise, and the OpenAPI document lists the types and their data's
   * JSON Schema under `x-commandbus-command-types`.
   * @default none: data is checked as JSON only
   */
  schemas?: CommandSchemaLookup;
}

/**
 * The HTTP API (API Gateway HTTP API, payload v2; or a REST API's payload v1, made v2 by restEvent.ts): send and read commands, browse them, count them
 * per status, list the TSQ and act on it. Operator actions record the caller's IAM identity. Its
 * routes are the operations of openapi.ts, each bound here to its handler by operationId.
 *
 * Middlewares: header names lower-cased (@middy/http-header-normalizer); on operations that take a
 * body, @middy/http-json-body-parser (415 for another content type); one `onError` that maps every
 * error to its status and the documented error shape (see http.ts).
 *
 * @example
 * ```ts
 * // The environment decides (a Lambda): the module's `handler` does this on its first request.
 * const fromEnvironment = createApiHandler();
 * // Or explicitly (the local runtime, tests):
 * const api = createApiHandler({ config: { namespace: 'shop', tableName: 'shop-commands', queueUrls } });
 * ```
 */
export function createApiHandler(options: ApiHandlerOptions = {}) {
  const { powertools, logger } = createLambdaLogger('commandbus-api');
  const tracer = createTracer('commandbus-api');
  // From the environment (a Lambda): SDK clients the tracer captures (it traces only inside Lambda).
  const config: CommandBusConfig = { logger, ...(options.config ?? { ...configFromEnv(process.env, logger), ...tracedClients(tracer) }) };
  const { schemas } = options;
  const router = httpRouterHandler<ApiEvent, ApiResult>({
    routes: apiRoutes({ bus: new CommandBus({ ...config, schemas }), tsq: new TroubleshootingQueue({ ...config, schemas }), schemas }),
    notFoundResponse: ({ method, path }) => errorResponse(new HttpError('ROUTE_NOT_FOUND', `no route ${method} ${path}`), logger),
  });

  return middy<ApiEvent, ApiResult, Error, Context>(router as never)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(powertools))
    .use(restApiEvents()) // a REST API's payload 1.0 in the 2.0 shape (apiKind 'rest')
    .use(httpHeaderNormalizer())
    .use(errorMapper(logger));
}

/** The operations that take their domain from the path where their twins take it from the query or the body. */
type PathScopedTwin = 'queryDomainCommands' | 'listDomainTsq' | 'sendDomainCommand';

export interface ApiRoute {
  operationId: OperationId;
  method: 'GET' | 'POST';
  path: string;
  handler: RouteHandler;
}

/** The router's routes: every operation of openapi.ts with its handler (and, where it takes one, its body parser). */
export function apiRoutes({ bus, tsq, schemas }: { bus: CommandBus; tsq: TroubleshootingQueue; schemas?: CommandSchemaLookup | undefined }): ApiRoute[] {
  const requiredQuery = (event: ApiEvent, name: string) => {
    const value = queryString(event, name);
    if (value === undefined) throw new ValidationError(name, 'query parameter is required');
    return value;
  };
  const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
  const command = (event: ApiEvent) => ({ domain: pathParameter(event, 'domain'), commandId: pathParameter(event, 'commandId') });
  // The IAM principal; for an assumed role, the role, with the (caller-chosen) session name apart.
  const action = (event: ApiEvent) => ({ ...command(event), ...callerIdentity(event) });
  /** An operator action, answered with the command as it is now. */
  const operatorAction = (act: (event: ApiEvent) => Promise<void>) => async (event: ApiEvent) => {
    await act(event);
    const { domain, commandId } = command(event);
    return json(200, await bus.getCommand(domain, commandId));
  };

  const unscoped: Record<Exclude<OperationId, PathScopedTwin>, RouteHandler> = {
    sendCommand: async (event) => json(202, await bus.send(parsedBody(event) as unknown as SendCommandRequest)),
    queryCommands: async (event) =>
      pageResponse(
        await bus.queryCommands({
          domain: requiredQuery(event, 'domain'),
          ...optional('status', queryString(event, 'status') as CommandStatus | undefined),
          ...optional('commandType', queryString(event, 'commandType')),
          ...optional('correlationId', queryString(event, 'correlationId')),
          ...optional('from', queryString(event, 'from')),
          ...optional('to', queryString(event, 'to')),
          ...optional('limit', queryInteger(event, 'limit')),
          ...optional('cursor', queryString(event, 'cursor')),
        }),
      ),
    getCommand: async (event) => {
      const { domain, commandId } = command(event);
      const found = await bus.getCommand(domain, commandId);
      if (!found) throw new CommandNotFoundError(domain, commandId);
      return json(200, found);
    },
    getAuditTrail: async (event) => {
      const { domain, commandId } = command(event);
      const events = await bus.getAuditTrail(commandId, domain);
      if (events.length === 0) throw new CommandNotFoundError(domain, commandId);
      return json(200, { items: events });
    },
    countByStatus: async (event) =>
      json(
        200,
        await bus.countByStatus({
          domain: pathParameter(event, 'domain'),
          ...optional('from', queryString(event, 'from')),
          ...optional('to', queryString(event, 'to')),
          ...optional('maxItems', queryInteger(event, 'maxItems')),
        }),
      ),
    domainStats: async (event) =>
      json(
        200,
        await bus.stats({
          domain: pathParameter(event, 'domain'),
          ...optional('from', queryString(event, 'from')),
          ...optional('to', queryString(event, 'to')),
          ...optional('series', queryString(event, 'series') as StatsSeriesGranularity | undefined),
        }),
      ),
    queryByStatus: async (event) =>
      pageResponse(
        await bus.queryByStatus({
          domain: pathParameter(event, 'domain'),
          status: pathParameter(event, 'status') as CommandStatus,
          ...optional('from', queryString(event, 'from')),
          ...optional('to', queryString(event, 'to')),
          ...optional('limit', queryInteger(event, 'limit')),
          ...optional('cursor', queryString(event, 'cursor')),
        }),
      ),
    listTsq: async (event) =>
      pageResponse(
        await tsq.list({
          domain: requiredQuery(event, 'domain'),
          ...optional('commandType', queryString(event, 'commandType')),
          ...optional('errorCode', queryString(event, 'errorCode')),
          ...optional('errorType', queryString(event, 'errorType') as Parameters<TroubleshootingQueue['list']>[0]['errorType']),
          ...optional('from', queryString(event, 'from')),
          ...optional('to', queryString(event, 'to')),
          ...optional('limit', queryInteger(event, 'limit')),
          ...optional('cursor', queryString(event, 'cursor')),
        }),
      ),
    operatorBulk: async (event) => {
      const body = parsedBody(event) ?? {};
      return json(
        200,
        await tsq.bulk({
          domain: pathParameter(event, 'domain'),
          action: pathParameter(event, 'action') as BulkAction,
          commandIds: body.commandIds as string[],
          ...callerIdentity(event),
          ...optional('reason', body.reason as string | undefined),
          ...optional('resultData', body.resultData as JsonValue | undefined),
        }),
      );
    },
    tsqGroups: async (event) => {
      const domain = pathParameter(event, 'domain');
      const [items, oldest] = await Promise.all([tsq.groups({ domain }), tsq.oldestParked(domain)]);
      return json(200, { items, ...(oldest ? { oldest } : {}) });
    },
    createJob: async (event) => {
      const body = parsedBody(event) ?? {};
      return json(
        200,
        await tsq.createJob({
          domain: pathParameter(event, 'domain'),
          action: pathParameter(event, 'action') as BulkAction,
          filter: (body.filter ?? undefined) as JobFilter,
          rate: body.rate as number,
          ...callerIdentity(event),
          ...optional('reason', body.reason as string | undefined),
          ...optional('resultData', body.resultData as JsonValue | undefined),
        }),
      );
    },
    controlJob: async (event) => {
      const ref = { domain: pathParameter(event, 'domain'), jobId: pathParameter(event, 'jobId') };
      const control = pathParameter(event, 'control');
      if (control === 'start') return json(200, await tsq.startJob(ref));
      if (control === 'pause') return json(200, await tsq.pauseJob(ref));
      if (control === 'resume') return json(200, await tsq.resumeJob(ref));
      if (control === 'cancel') return json(200, await tsq.cancelJob(ref));
      throw new ValidationError('control', `must be start, pause, resume or cancel (got ${JSON.stringify(control)})`);
    },
    listJobs: async (event) => {
      // `/domains/{domain}/jobs/` is getJob with an empty jobId (the router lets a trailing slash through to the list).
      if (event.rawPath?.endsWith('/')) throw new ValidationError('jobId', 'must be a UUID (got "")');
      return json(
        200,
        await tsq.listJobs({
          domain: pathParameter(event, 'domain'),
          ...optional('limit', queryInteger(event, 'limit')),
          ...optional('cursor', queryString(event, 'cursor')),
        }),
      );
    },
    getJob: async (event) => json(200, await tsq.getJob({ domain: pathParameter(event, 'domain'), jobId: pathParameter(event, 'jobId') })),
    // The body is optional and not read; one that is sent must still be JSON.
    operatorRetry: operatorAction((event) => tsq.operatorRetry(action(event))),
    operatorEditAndRetry: operatorAction((event) => tsq.operatorEditAndRetry({ ...action(event), data: parsedBody(event)?.data as JsonObject })),
    getCommandHistory: async (event) =>
      json(
        200,
        await tsq.getCommandHistory({
          ...command(event),
          ...optional('limit', queryInteger(event, 'limit')),
          ...optional('cursor', queryString(event, 'cursor')),
        }),
      ),
    operatorCancel: operatorAction((event) => tsq.operatorCancel({ ...action(event), reason: parsedBody(event)?.reason as string })),
    operatorComplete: operatorAction((event) =>
      tsq.operatorComplete({ ...action(event), ...optional('resultData', parsedBody(event)?.resultData as JsonValue | undefined) }),
    ),
    getShardSettings: async (event) => json(200, await bus.getShardSettings(pathParameter(event, 'domain'))),
    setShardCount: async (event) =>
      json(
        200,
        await bus.setShardCount({
          domain: pathParameter(event, 'domain'),
          shards: parsedBody(event)?.shards as number,
          operator: callerIdentity(event).operator,
        }),
      ),
    getOpenApiDocument: async () => json(200, openApiDocument(schemas)),
  };
  // The path-scoped twins: the domain from the path, never from the query or the body (an IAM
  // policy allowed the request for the path's domain), then the same handler.
  const withPathDomain =
    (handler: RouteHandler): RouteHandler =>
    async (event, context) => {
      const domain = pathParameter(event, 'domain');
      return handler({ ...event, queryStringParameters: { ...event.queryStringParameters, domain } }, context);
    };
  const handlers: Record<OperationId, RouteHandler> = {
    ...unscoped,
    queryDomainCommands: withPathDomain(unscoped.queryCommands),
    listDomainTsq: withPathDomain(unscoped.listTsq),
    sendDomainCommand: async (event) => {
      const domain = pathParameter(event, 'domain');
      const body = parsedBody(event) ?? {};
      if (body.domain !== undefined && body.domain !== domain) throw new ValidationError('domain', `must be the path's domain (${domain}) or left out`);
      return json(202, await bus.send({ ...body, domain } as unknown as SendCommandRequest));
    },
  };

  return (Object.entries(operations) as [OperationId, Operation][]).map(([operationId, operation]) => ({
    operationId,
    method: operation.method.toUpperCase() as ApiRoute['method'],
    path: operation.path,
    handler: operation.body
      ? (middy<ApiEvent, ApiResult>()
          .use(jsonBodyParser({ required: operation.body.required }))
          .handler(handlers[operationId]) as RouteHandler)
      : handlers[operationId],
  }));
}

let fromEnvironment: ReturnType<typeof createApiHandler> | undefined;

/**
 * The Lambda entry point: the API configured from the environment, built on the first request (so
 * importing this module reads nothing; the local runtime builds its own with createApiHandler).
 */
export const handler = async (event: ApiEvent, context: Context): Promise<ApiResult> => {
  fromEnvironment ??= createApiHandler();
  return fromEnvironment(event, context);
};
