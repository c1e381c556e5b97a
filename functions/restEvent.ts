import { readEnvironment, ValidationError } from '@commandbus/core';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { ApiEvent, ApiResult } from './http.ts';

/** What a REST API (API Gateway v1) Lambda proxy integration sends: payload format 1.0. */
export type RestApiEvent = APIGatewayProxyEvent;

/** Whether an event comes from a REST API (payload 1.0: `httpMethod` at the top, no `requestContext.http`). */
export function isRestApiEvent(event: unknown): event is RestApiEvent {
  if (typeof event !== 'object' || event === null) return false;
  const candidate = event as { httpMethod?: unknown; requestContext?: { http?: unknown } };
  return typeof candidate.httpMethod === 'string' && candidate.requestContext?.http === undefined;
}

/**
 * A REST API event in the shape the API reads (HTTP API, payload 2.0), so that one handler serves both
 * kinds of API Gateway (the stack's `apiKind`):
 * - method and path: `httpMethod`; `path` percent-decoded, as an HTTP API hands it (a REST API hands it
 *   as sent; a sequence that does not decode is a 400, where an HTTP API refuses it before the function);
 * - the caller: `requestContext.identity` (`userArn`, `caller`, `user`, `accountId`, `accessKey`) becomes
 *   `requestContext.authorizer.iam`, so callerIdentity (http.ts) reads it the same way: an assumed
 *   role's ARN is still split into the role and its session. Without an IAM caller there is none
 *   (but see {@link RestApiEventOptions.unverifiedCaller}, for LocalStack's free image);
 * - query and headers: repeated names joined with commas, as payload 2.0 does (v1's single-value maps
 *   keep only the last); the body and `isBase64Encoded` as they are (the body parser decodes base64).
 */
export function fromRestApiEvent(event: RestApiEvent, options: RestApiEventOptions = {}): ApiEvent {
  let path: string;
  try {
    path = decodeURIComponent(event.path);
  } catch {
    throw new ValidationError('path', 'is not valid percent-encoding');
  }
  const joined = (multi: Record<string, string[] | undefined> | null | undefined, single: Record<string, string | undefined> | null | undefined) => {
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(single ?? {})) if (value !== undefined) values[name] = value;
    for (const [name, list] of Object.entries(multi ?? {})) if (list && list.length > 0) values[name] = list.join(',');
    return values;
  };
  const query = joined(event.multiValueQueryStringParameters, event.queryStringParameters);
  const rawQuery = new URLSearchParams();
  for (const [name, list] of Object.entries(event.multiValueQueryStringParameters ?? {})) for (const value of list ?? []) rawQuery.append(name, value);
  const context = event.requestContext;
  const identity = context?.identity;
  const verified = identity?.userArn ?? identity?.caller ?? identity?.user;
  const claimed = verified || !options.unverifiedCaller ? undefined : claimedAccessKey(event);
  return {
    version: '2.0',
    routeKey: `${event.httpMethod} ${event.resource}`,
    rawPath: path,
    rawQueryString: rawQuery.toString(),
    headers: joined(event.multiValueHeaders, event.headers),
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(event.pathParameters ? { pathParameters: { ...event.pathParameters } as Record<string, string> } : {}),
    ...(event.body === null || event.body === undefined ? {} : { body: event.body }),
    isBase64Encoded: event.isBase64Encoded ?? false,
    requestContext: {
      accountId: context?.accountId,
      apiId: context?.apiId,
      domainName: context?.domainName,
      domainPrefix: context?.domainPrefix,
      requestId: context?.requestId,
      routeKey: `${event.httpMethod} ${event.resource}`,
      stage: context?.stage,
      time: context?.requestTime,
      timeEpoch: context?.requestTimeEpoch,
      http: { method: event.httpMethod, path, protocol: context?.protocol, sourceIp: identity?.sourceIp, userAgent: identity?.userAgent },
      ...(claimed ? { authorizer: { iam: { callerId: `unverified:${claimed}`, cognitoIdentity: null, principalOrgId: null } } } : {}),
      ...(verified
        ? {
            authorizer: {
              iam: {
                accessKey: identity?.accessKey,
                accountId: identity?.accountId,
                callerId: identity?.caller,
                cognitoIdentity: null,
                principalOrgId: null,
                userArn: identity?.userArn,
                userId: identity?.user,
              },
            },
          }
        : {}),
    },
  } as unknown as ApiEvent;
}

export interface RestApiEventOptions {
  /**
   * LocalStack's free image only (the stack's `unverifiedCaller`, environment
   * `COMMANDBUS_UNVERIFIED_CALLER=sigv4-access-key`): it checks no signature and names no caller
   * (`requestContext.identity` all null), so operator routes would have no operator. With this, a
   * request without an IAM caller is recorded as `unverified:<access key id>`, the key its SigV4
   * `Authorization` header claims — unverified, and said so in every audit entry. Never on AWS, where
   * API Gateway verifies the signature and always names the caller (so this would never apply anyway).
   */
  unverifiedCaller?: boolean;
}

/** The access key id a SigV4 `Authorization` header claims (`Credential=<id>/<date>/…`), if any. */
function claimedAccessKey(event: RestApiEvent): string | undefined {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  return header ? /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]{1,128})\//.exec(header)?.[1] : undefined;
}

/** A middleware that hands the handler every REST API event in the HTTP API's shape (see {@link fromRestApiEvent}). */
export function restApiEvents(
  options: RestApiEventOptions = { unverifiedCaller: readEnvironment(process.env, ['unverifiedCaller']).unverifiedCaller === 'sigv4-access-key' },
): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    before: (request) => {
      const event: unknown = request.event;
      if (isRestApiEvent(event)) request.event = fromRestApiEvent(event, options);
    },
  };
}
