// Reads the CommandBus stack's outputs (written by `cdk deploy --outputs-file`) and prints the
// environment the remote E2E target needs, as `export K=V` lines.
//   node scripts/stack-outputs.mjs <outputs.json> [workerTimeoutSeconds] [--localstack]
// The API's URL: on AWS the ApiUrl output (an HTTP API's endpoint, or a REST API's URL with its
// stage); with --localstack, built from ApiId and ApiStage as LocalStack serves it
// (http://{apiId}.execute-api.localhost.localstack.cloud:4566/{stage} for a REST API, no stage for an
// HTTP API's $default: https://docs.localstack.cloud/aws/apigatewayv2/), since the template's URL names the
// region and no port.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export function remoteEnvironment(outputs, { workerTimeoutSeconds, localstack = false } = {}) {
  if (!outputs?.ApiUrl) throw new Error('no CommandBus outputs (ApiUrl)');
  const kind = outputs.ApiKind ?? 'http';
  let apiUrl = outputs.ApiUrl;
  if (localstack) {
    if (!outputs.ApiId) throw new Error('no ApiId output: deploy the current stack');
    const stage = kind === 'rest' ? `/${outputs.ApiStage}` : '';
    apiUrl = `http://${outputs.ApiId}.execute-api.localhost.localstack.cloud:4566${stage}`;
  }
  return {
    COMMANDBUS_API_URL: apiUrl.replace(/\/$/, ''),
    COMMANDBUS_NAMESPACE: outputs.Namespace,
    COMMANDBUS_TABLE: outputs.TableName,
    COMMANDBUS_E2E_WORKER_TIMEOUT_SECONDS: workerTimeoutSeconds ?? '30',
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const localstack = args.includes('--localstack');
  const [file, workerTimeoutSeconds] = args.filter((arg) => arg !== '--localstack');
  const outputs = JSON.parse(readFileSync(file, 'utf8')).CommandBus;
  let env;
  try {
    env = remoteEnvironment(outputs, { workerTimeoutSeconds, localstack });
  } catch (error) {
    console.error(`${error.message} in ${file}`);
    process.exit(1);
  }
  for (const [key, value] of Object.entries(env)) console.log(`export ${key}='${value}'`);
}
