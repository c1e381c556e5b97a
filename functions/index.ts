/**
 * @commandbus/lambda: what you need to write your own Lambda entries for commandbus — the SQS worker
 * (createWorkerHandler with your HandlerRegistry), the HTTP API (createApiHandler, e.g. with your
 * command schemas), the configuration the stack's environment gives, the
 * access scopes and the OpenAPI document. The ready-made entries (each exporting `handler`) are the
 * subpaths `/api`, `/jobRunner` (also createJobRunnerHandler), `/statsAggregator` and `/tsqSweeper`; they
 * build their logger and tracer on import, so this index leaves them out.
 */
export { createWorkerHandler, domainOf, lambdaHeartbeat, retryPolicyFromEnv, toTransportMessage, type WorkerHandlerOptions } from './worker.ts';
export { apiRoutes, createApiHandler, pageResponse, type ApiHandlerOptions, type ApiRoute } from './api.ts';
export { configFromEnv } from './config.ts';
export { createLambdaLogger } from './logger.ts';
export { createTracer, tracedClients, tracingObserver } from './observability.ts';
export { fromRestApiEvent, isRestApiEvent, restApiEvents, type RestApiEvent, type RestApiEventOptions } from './restEvent.ts';
export type { ApiEvent, ApiResult, CallerIdentity } from './http.ts';
export {
  FULL_ACCESS,
  OPERATOR_ACTIONS,
  ROUTE_ACCESS,
  refusalMessage,
  routeOf,
  scopeAllows,
  scopePatterns,
  type Domains,
  type OperatorAction,
  type RouteAccess,
  type RouteKind,
  type Scope,
} from '@commandbus/core/scopes';
export { documentCommandTypes, generateOpenApiDocument, openApiDocument, type DocumentedCommandType, type OpenApiDocumentWithTypes } from './openapi.ts';
