#!/usr/bin/env bash
# Deploys the stack with E2E settings to the AWS account of your current credentials, then runs the
# S023/S024 scenarios and the API contract tests against it through the HTTP API (SigV4).
#   AWS_REGION=eu-west-1 npm run test:e2e:aws        (needs credentials and a bootstrapped account)
# Without credentials it says so and exits 2: not run.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! npx --no-install tsx -e "import('@aws-sdk/client-sts').then(async ({ STSClient, GetCallerIdentityCommand }) => { await new STSClient({}).send(new GetCallerIdentityCommand({})); })" >/dev/null 2>&1; then
  echo "NOT RUN: no usable AWS credentials (aws sts get-caller-identity failed). Configure credentials and AWS_REGION, then run again." >&2
  exit 2
fi
: "${AWS_REGION:?NOT RUN: set AWS_REGION}"
NAMESPACE="${COMMANDBUS_E2E_NAMESPACE:-commandbus-e2e}"
TIMEOUT=4
npx cdk deploy CommandBus --require-approval never --outputs-file cdk.out/outputs.json \
  -c namespace="$NAMESPACE" -c domains=test -c workerEntry=functions/testWorker.ts -c workerTimeoutSeconds=$TIMEOUT -c retryBaseSeconds=1 -c retryMaxSeconds=2
eval "$(node scripts/stack-outputs.mjs cdk.out/outputs.json $TIMEOUT)"
npm run test:e2e:remote
echo "The stack stays deployed; remove it with: npx cdk destroy CommandBus -c namespace=$NAMESPACE (the table is retained by design)."
