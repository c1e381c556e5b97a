/**
 * `npm run serve`: the deployed shape on this machine — the embedded AWS, the worker Lambda behind
 * SQS event source mappings, and the API Lambda behind an HTTP API on 127.0.0.1 (token required).
 */
import { parseArgs } from 'node:util';
import { startLocalRuntime } from '@commandbus/runtime';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3000' },
    namespace: { type: 'string', default: 'commandbus' },
    domains: { type: 'string', default: 'test' },
    token: { type: 'string' },
  },
});

const runtime = await startLocalRuntime({
  port: Number(values.port),
  namespace: values.namespace,
  domains: values.domains.split(',').map((domain) => domain.trim()),
  ...(values.token ? { token: values.token } : {}),
  onError: (error) => console.error('worker:', error),
});
const url = runtime.apiUrl;
console.log(`commandbus local runtime — namespace ${runtime.namespace}, domains ${values.domains}
  HTTP API      ${url}   (every route needs: Authorization: Bearer ${runtime.token})
  OpenAPI       ${url}/openapi.json
  DynamoDB      ${runtime.env.AWS_ENDPOINT_URL_DYNAMODB}
  SQS           ${runtime.env.AWS_ENDPOINT_URL_SQS}

try:
  curl -s -H 'Authorization: Bearer ${runtime.token}' -H 'content-type: application/json' \\
       -d '{"domain":"test","commandType":"TestCommand","commandId":"'$(uuidgen 2>/dev/null || cat /proc/sys/kernel/random/uuid)'","data":{"hello":"world"}}' ${url}/commands
  curl -s -H 'Authorization: Bearer ${runtime.token}' '${url}/commands?domain=test'

Ctrl-C stops everything.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void runtime.stop().then(() => process.exit(0));
  });
}
