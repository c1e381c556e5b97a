// Reads the CommandBus stack's outputs (written by `cdk deploy --outputs-file`) and prints the
// environment the remote E2E target needs, as `export K=V` lines.
import { readFileSync } from 'node:fs';

const [file, workerTimeoutSeconds] = process.argv.slice(2);
const outputs = JSON.parse(readFileSync(file, 'utf8')).CommandBus;
if (!outputs?.ApiUrl) {
  console.error(`no CommandBus outputs in ${file}`);
  process.exit(1);
}
const env = {
  COMMANDBUS_API_URL: outputs.ApiUrl,
  COMMANDBUS_NAMESPACE: outputs.Namespace,
  COMMANDBUS_TABLE: outputs.TableName,
  COMMANDBUS_E2E_WORKER_TIMEOUT_SECONDS: workerTimeoutSeconds ?? '30',
};
for (const [key, value] of Object.entries(env)) console.log(`export ${key}='${value}'`);
