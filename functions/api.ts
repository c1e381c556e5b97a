import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import {
  CommandBus,
  TroubleshootingQueue,
  ValidationError,
  type CommandBusConfig,
  type CommandStatus,
  type JsonValue,
  type SendCommandRequest,
} from '@commandbus/core';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler from '@middy/http-router';
import type { Context } from 'aws-lambda';
import { configFromEnv } from './config.ts';
import {
  callerIdentity,
  errorJson,
  errorMapper,
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
import { openApiDocument } from './openapi.ts';

type RouteHandler = (event: ApiEvent, context: Context) => Promise<ApiResult>;

/** Lambda answers at most 6 MB; a page of parked payloads could exceed it. */
const MAX_PAGE_BYTES = 5 * 1024 * 1024;

/** A page as JSON, leaving the payloads out (each marked `dataOmitted`) when it would be too large. */
export function pageResponse(page: { items: { data?: unknown }[]; nextCursor?: string }): ApiResult {
  const response = json(200, page);
  if (Buffer.byteLength(response.body ?? '', 'utf8') <= MAX_PAGE_BYTES) return response;
  return json(200, { ...page, items: page.items.map(({ data, ...item }) => (data === undefined ? item : { ...item, dataOmitted: true })) });
}

/**
 * The HTTP API (API Gateway HTTP API, payload v2): send and read commands, browse them, count them
 * per status, list the TSQ and act on it. Operator actions record the caller's IAM identity.
 *
 * Middlewares: header names lower-cased (@middy/http-header-normalizer); on routes that take a body,
 * @middy/http-json-body-parser (415 for another content type); one `onError` that maps every error
 * to its status and the documented error shape (see http.ts). `adapters` replaces the store or the
 * transport (tests).
 */
export function createApiHandler(adapters: Pick<CommandBusConfig, 'store' | 'transport'> = {}) {
  const { powertools, logger } = createLambdaLogger('commandbus-api');
  const config = { ...configFromEnv(process.env, logger), ...adapters };
  const bus = new CommandBus(config);
  const tsq = new TroubleshootingQueue(config);

  const requiredQuery = (event: ApiEvent, name: string) => {
    const value = queryString(event, name);
    if (value === undefined) throw new ValidationError(name, 'query parameter is required');
    return value;
  };
  const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
  const action = (event: ApiEvent) => ({
    domain: pathParameter(event, 'domain'),
    commandId: pathParameter(event, 'commandId'),
    operator: callerIdentity(event),
  });
  /** A route that reads a JSON body (`required`: a request without one is a 400). */
  const withBody = (required: boolean, handler: RouteHandler): RouteHandler =>
    middy<ApiEvent, ApiResult>().use(jsonBodyParser({ required })).handler(handler) as RouteHandler;

  /** POST /tsq/{domain}/{commandId}/<name>: act, then answer with the command as it is now. */
  const operatorRoute = (name: string, required: boolean, act: (event: ApiEvent) => Promise<void>) => ({
    method: 'POST' as const,
    path: `/tsq/{domain}/{commandId}/${name}`,
    handler: withBody(required, async (event: ApiEvent) => {
      await act(event);
      return json(200, await bus.getCommand(pathParameter(event, 'domain'), pathParameter(event, 'commandId')));
    }),
  });

  const routes: { method: 'GET' | 'POST'; path: string; handler: RouteHandler }[] = [
    {
      method: 'POST',
      path: '/commands',
      handler: withBody(true, async (event) => json(202, await bus.send(parsedBody(event) as unknown as SendCommandRequest))),
    },
    {
      method: 'GET',
      path: '/commands',
      handler: async (event) =>
        pageResponse(
          await bus.queryCommands({
            domain: requiredQuery(event, 'domain'),
            ...optional('status', queryString(event, 'status') as CommandStatus | undefined),
            ...optional('commandType', queryString(event, 'commandType')),
            ...optional('from', queryString(event, 'from')),
            ...optional('to', queryString(event, 'to')),
            ...optional('limit', queryInteger(event, 'limit')),
            ...optional('cursor', queryString(event, 'cursor')),
          }),
        ),
    },
    {
      method: 'GET',
      path: '/commands/{domain}/{commandId}',
      handler: async (event) => {
        const domain = pathParameter(event, 'domain');
        const commandId = pathParameter(event, 'commandId');
        const command = await bus.getCommand(domain, commandId);
        if (!command) throw new HttpError(404, 'CommandNotFound', `command ${domain}/${commandId} not found`);
        return json(200, command);
      },
    },
    {
      method: 'GET',
      path: '/commands/{domain}/{commandId}/audit',
      handler: async (event) => {
        const domain = pathParameter(event, 'domain');
        const commandId = pathParameter(event, 'commandId');
        const events = await bus.getAuditTrail(commandId, domain);
        if (events.length === 0) throw new HttpError(404, 'CommandNotFound', `command ${domain}/${commandId} not found`);
        return json(200, { items: events });
      },
    },
    {
      method: 'GET',
      path: '/domains/{domain}/counts',
      handler: async (event) =>
        json(
          200,
          await bus.countByStatus({
            domain: pathParameter(event, 'domain'),
            ...optional('from', queryString(event, 'from')),
            ...optional('to', queryString(event, 'to')),
            ...optional('maxItems', queryInteger(event, 'maxItems')),
          }),
        ),
    },
    {
      method: 'GET',
      path: '/tsq',
      handler: async (event) =>
        pageResponse(
          await tsq.list({
            domain: requiredQuery(event, 'domain'),
            ...optional('commandType', queryString(event, 'commandType')),
            ...optional('limit', queryInteger(event, 'limit')),
            ...optional('cursor', queryString(event, 'cursor')),
          }),
        ),
    },
    // A body is optional here and not read; one that is sent must still be JSON.
    operatorRoute('retry', false, (event) => tsq.operatorRetry(action(event))),
    operatorRoute('cancel', true, (event) => tsq.operatorCancel({ ...action(event), reason: parsedBody(event)?.reason as string })),
    operatorRoute('complete', false, (event) =>
      tsq.operatorComplete({ ...action(event), ...optional('resultData', parsedBody(event)?.resultData as JsonValue | undefined) }),
    ),
    { method: 'GET', path: '/openapi.json', handler: async () => json(200, openApiDocument) },
  ];

  const router = httpRouterHandler<ApiEvent, ApiResult>({
    routes,
    notFoundResponse: ({ method, path }) => errorJson(404, { type: 'RouteNotFound', message: `no route ${method} ${path}` }),
  });

  return middy<ApiEvent, ApiResult, Error, Context>(router as never)
    .use(injectLambdaContext(powertools))
    .use(httpHeaderNormalizer())
    .use(errorMapper(logger));
}

export const handler = createApiHandler();
