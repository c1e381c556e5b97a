/**
 * One job runner process for the operator-jobs load proof (bench/jobs/run.ts starts it, and kills it
 * with SIGKILL half-way): works on the job until it is finished, counting what it sends over the
 * wire (bench/wireMeter.ts) into a file every 200 ms, so the parent can read it even after the kill.
 * Settings from the environment: LOADJOBS_NAMESPACE, LOADJOBS_DOMAIN, LOADJOBS_JOB, LOADJOBS_LEASE_MS,
 * LOADJOBS_METER_FILE, and the embedded stack's AWS_* endpoints and credentials.
 */
import { writeFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { silentLogger, TroubleshootingQueue } from '@commandbus/core';
import { WireMeter } from '../wireMeter.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const namespace = env('LOADJOBS_NAMESPACE');
const domain = env('LOADJOBS_DOMAIN');
const jobId = env('LOADJOBS_JOB');
const leaseMs = Number(env('LOADJOBS_LEASE_MS'));
const meterFile = env('LOADJOBS_METER_FILE');

const meter = new WireMeter('job runner');
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});
meter.attachDynamo(dynamodb);
meter.attachSqs(sqs);
const save = () => writeFileSync(meterFile, JSON.stringify(meter.snapshot()));
const timer = setInterval(save, 200);

const tsq = new TroubleshootingQueue({ namespace, dynamodb, sqs, logger: silentLogger, jobQueue: false });
for (;;) {
  const result = await tsq.runJob({ domain, jobId, leaseMs, budgetMs: 60_000 });
  process.stdout.write(`${JSON.stringify({ pid: process.pid, stopped: result.stopped, handled: result.handled, progress: result.job?.progress })}\n`);
  if (result.stopped === 'busy') {
    // Another runner holds the lease (or held it, and died): try again once it may have expired.
    await new Promise((resolve) => setTimeout(resolve, 500));
    continue;
  }
  if (result.stopped !== 'budget') break;
}
clearInterval(timer);
save();
dynamodb.destroy();
sqs.destroy();
