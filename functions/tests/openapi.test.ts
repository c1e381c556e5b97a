import { CommandBus, ERROR_HTTP, TroubleshootingQueue, type CommandStore, type CommandTransport } from '@commandbus/core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { apiRoutes } from '../api.ts';
import { EDGE_ERRORS } from '../http.ts';
import { generateOpenApiDocument, operations, refusalsOf, type Operation } from '../openapi.ts';

// ajv-formats is CommonJS: its plugin is the module itself or its `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

interface Document {
  servers: { url: string }[];
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
  components: { schemas: Record<string, object> };
}
const document = generateOpenApiDocument() as unknown as Document;
const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })),
);

describe('Function: generateOpenApiDocument', () => {
  it('documents every route of the router, and routes every documented operation, each with its operationId', () => {
    // Prepare
    const unused = {} as CommandStore & CommandTransport;
    const routes = apiRoutes({
      bus: new CommandBus({ store: unused, transport: unused }),
      tsq: new TroubleshootingQueue({ store: unused, transport: unused }),
    });

    // Assess
    expect(documented.map(({ route }) => route).sort()).toEqual(routes.map(({ method, path }) => `${method} ${path}`).sort());
    for (const { method, path, operationId } of routes) {
      expect(document.paths[path]?.[method.toLowerCase()]?.operationId, `${method} ${path}`).toBe(operationId);
    }
    const operationIds = documented.map(({ operation }) => operation.operationId);
    expect(operationIds.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('lists every refusal of every operation under its status: the library errors by ERROR_HTTP, its own by EDGE_ERRORS', () => {
    for (const [operationId, operation] of Object.entries(operations) as [string, Operation][]) {
      const responses = document.paths[operation.path]![operation.method]!.responses;
      for (const code of refusalsOf(operation)) {
        const known = { ...ERROR_HTTP, ...EDGE_ERRORS } as Record<string, { status: number }>;
        const status = known[code]?.status;
        if (status === undefined) continue;
        // A 5xx of ours is documented under 5XX with API Gateway's, but a failed enqueue has its own 503.
        const key = status >= 500 && code !== 'SEND_FAILED' ? '5XX' : String(status);
        expect(Object.keys(responses), `${operationId}: ${code}`).toContain(key);
      }
      // Bad input, no identity and a fault are possible everywhere; a body adds 413 and 415.
      expect(Object.keys(responses)).toEqual(expect.arrayContaining(['400', '403', '5XX', ...(operation.body ? ['413', '415'] : [])]));
    }
  });

  it('names the servers: the deployed API and the local runtime', () => {
    expect(document.servers.map(({ url }) => url)).toEqual(['https://{apiId}.execute-api.{region}.amazonaws.com', 'http://127.0.0.1:{port}']);
  });

  it('holds schemas that JSON Schema 2020-12 compiles strictly, with every $ref resolved (as the fuzz test reads them)', () => {
    // Prepare
    const base = 'https://commandbus.local/openapi';
    const resolve = (value: object): object => JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', `"${base}#/$defs/`)) as object;
    const ajv = addFormats(new Ajv2020({ strict: true, strictTypes: false }));
    ajv.addSchema({ $id: base, $defs: resolve(document.components.schemas) });

    // Act
    const schemas = documented.flatMap(({ operation }) =>
      Object.values(operation.responses).flatMap((response) => Object.values(response.content ?? {}).map(({ schema }) => schema)),
    );

    // Assess
    for (const schema of schemas) expect(() => ajv.compile(resolve(schema))).not.toThrow();
    for (const name of Object.keys(document.components.schemas)) expect(() => ajv.getSchema(`${base}#/$defs/${name}`)).not.toThrow();
  });
});
