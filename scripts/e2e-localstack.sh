#!/usr/bin/env bash
# Starts LocalStack (docker-compose.localstack.yml), deploys the stack to it with cdklocal, and runs
# the S023/S024 scenarios and the API contract tests against it through its HTTP API.
#   npm run test:e2e:localstack          (community image 4.14.0, no token)
#   LOCALSTACK_AUTH_TOKEN=... LOCALSTACK_IMAGE=localstack/localstack-pro:<version> npm run test:e2e:localstack
# Without a Docker engine it says so and exits 2: not run.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! docker info >/dev/null 2>&1; then
  echo "NOT RUN: no Docker engine here; LocalStack needs one (see README, \"LocalStack\")." >&2
  exit 2
fi
docker compose -f docker-compose.localstack.yml up -d --wait
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_ENDPOINT_URL=http://127.0.0.1:4566
export AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SQS=$AWS_ENDPOINT_URL
NAMESPACE=commandbus-e2e
TIMEOUT=4
npx cdklocal bootstrap
npx cdklocal deploy CommandBus --require-approval never --outputs-file cdk.out/outputs.json \
  -c namespace="$NAMESPACE" -c domains=test -c workerTimeoutSeconds=$TIMEOUT -c retryBaseSeconds=1 -c retryMaxSeconds=2
eval "$(node scripts/stack-outputs.mjs cdk.out/outputs.json $TIMEOUT)"
npm run test:e2e:remote
echo "LocalStack keeps running; stop it with: docker compose -f docker-compose.localstack.yml down"
