import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { JobStatus, StoredJob } from '../../domain/jobs.ts';
import { ValidationError } from '../../errors.ts';
import { StoreUnavailableError } from '../../ports/CommandStore.ts';
import type { JobCheckpoint, JobStore } from '../../ports/JobStore.ts';
import type { Page } from '../../types.ts';

type Item = Record<string, unknown>;

/**
 * Operator jobs in the commands table: `pk = job#<domain>`, `sk = <jobId>` (a time-ordered UUID, so
 * one Query lists a domain's jobs newest first). A command's pk is a UUID, so no job is ever read as a
 * command; job items carry no index keys, and their status is `jobStatus` (not `status`), so nothing
 * that looks at commands' statuses (the stream's CommandParked filter, counts) ever takes one for a
 * command. One item per job, a few KB (the pending page holds up to 100 ids).
 */
export class DynamoJobStore implements JobStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.tableName = tableName;
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
  }

  async create(job: StoredJob): Promise<void> {
    await guard(this.doc.send(new PutCommand({ TableName: this.tableName, Item: toItem(job), ConditionExpression: 'attribute_not_exists(pk)' })));
  }

  async get(domain: string, jobId: string): Promise<StoredJob | undefined> {
    const response = await guard(this.doc.send(new GetCommand({ TableName: this.tableName, Key: key(domain, jobId), ConsistentRead: true })));
    return response.Item ? fromItem(response.Item) : undefined;
  }

  async list(domain: string, options: { limit: number; cursor?: string }): Promise<Page<StoredJob>> {
    const start = options.cursor === undefined ? undefined : decodeCursor(options.cursor, domain);
    const response = await guard(
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': partitionKey(domain) },
          ScanIndexForward: false,
          Limit: options.limit,
          ...(start ? { ExclusiveStartKey: key(domain, start) } : {}),
        }),
      ),
    );
    const items = (response.Items ?? []).map(fromItem);
    const last = response.LastEvaluatedKey?.sk as string | undefined;
    return last === undefined ? { items } : { items, nextCursor: Buffer.from(JSON.stringify({ j: domain, after: last })).toString('base64url') };
  }

  async setStatus(domain: string, jobId: string, from: readonly JobStatus[], to: JobStatus, at: string) {
    const values: Item = { ':to': to, ':at': at };
    const placeholders = from.map((status, i) => {
      values[`:from${i}`] = status;
      return `:from${i}`;
    });
    const started = to === 'RUNNING' ? ', startedAt = if_not_exists(startedAt, :at)' : '';
    const finished = to === 'CANCELLED' || to === 'COMPLETED' ? ', finishedAt = :at' : '';
    try {
      const response = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(domain, jobId),
          UpdateExpression: `SET jobStatus = :to, updatedAt = :at${started}${finished}`,
          ConditionExpression: `attribute_exists(pk) AND jobStatus IN (${placeholders.join(', ')})`,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { job: fromItem(response.Attributes!) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return error.Item ? { refused: true as const, current: fromItem(unmarshall(error.Item)) } : { refused: true as const };
      }
      throw translate(error);
    }
  }

  async acquire(domain: string, jobId: string, lease: string, leaseUntil: number, now: number): Promise<StoredJob | undefined> {
    return this.conditional({
      TableName: this.tableName,
      Key: key(domain, jobId),
      UpdateExpression: 'SET lease = :lease, leaseUntil = :until',
      ConditionExpression: 'jobStatus = :running AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
      ExpressionAttributeValues: { ':lease': lease, ':until': leaseUntil, ':running': 'RUNNING', ':now': now },
      ReturnValues: 'ALL_NEW',
    });
  }

  async checkpoint(domain: string, jobId: string, lease: string, checkpoint: JobCheckpoint, at: string): Promise<StoredJob | undefined> {
    const sets = ['progress = :progress', 'problemCodes = :codes', 'recentProblems = :recent', 'leaseUntil = :until', 'updatedAt = :at'];
    const removes: string[] = [];
    const names: Record<string, string> = {};
    const values: Item = {
      ':progress': checkpoint.progress,
      ':codes': checkpoint.problemCodes,
      ':recent': checkpoint.recentProblems,
      ':until': checkpoint.leaseUntil,
      ':at': at,
      ':lease': lease,
    };
    if (checkpoint.cursor !== undefined) {
      sets.push('#cursor = :cursor');
      names['#cursor'] = 'cursor';
      values[':cursor'] = checkpoint.cursor;
    }
    if (checkpoint.pending === null) removes.push('pending');
    else if (checkpoint.pending !== undefined) {
      sets.push('pending = :pending');
      values[':pending'] = checkpoint.pending;
    }
    let condition = 'lease = :lease';
    if (checkpoint.complete) {
      // Finished while running or paused; a job cancelled meanwhile stays cancelled (its progress is still written).
      sets.push('#status = :completed', 'finishedAt = :finishedAt');
      names['#status'] = 'jobStatus';
      values[':completed'] = 'COMPLETED';
      values[':finishedAt'] = checkpoint.complete.finishedAt;
      values[':cancelled'] = 'CANCELLED';
      condition = 'lease = :lease AND #status <> :cancelled';
    }
    const input = {
      TableName: this.tableName,
      Key: key(domain, jobId),
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: condition,
      ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW' as const,
    };
    const written = await this.conditional(input);
    if (written || !checkpoint.complete) return written;
    // Cancelled meanwhile: keep the progress, leave the status.
    return this.checkpoint(domain, jobId, lease, { ...checkpoint, complete: undefined }, at);
  }

  private async conditional(input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<StoredJob | undefined> {
    try {
      const response = await this.doc.send(new UpdateCommand(input));
      return fromItem(response.Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw translate(error);
    }
  }
}

const partitionKey = (domain: string) => `job#${domain}`;
const key = (domain: string, jobId: string) => ({ pk: partitionKey(domain), sk: jobId });

function toItem(job: StoredJob): Item {
  const { status, ...rest } = job;
  return { ...key(job.domain, job.jobId), ...rest, jobStatus: status };
}

function fromItem(item: Item): StoredJob {
  const { pk: _pk, sk: _sk, jobStatus, ...rest } = item;
  return { ...(rest as Omit<StoredJob, 'status'>), status: jobStatus as JobStatus };
}

function decodeCursor(cursor: string, domain: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { j?: unknown; after?: unknown };
    if (parsed.j === domain && typeof parsed.after === 'string' && /^[0-9a-f-]{36}$/.test(parsed.after)) return parsed.after;
  } catch {
    // refused below
  }
  throw new ValidationError('cursor', 'is not a cursor returned by this API for this domain; start again without one');
}

async function guard<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    throw translate(error);
  }
}

function translate(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const sdk = error as Error & { $fault?: string; $metadata?: { httpStatusCode?: number } };
  const unavailable = sdk.$fault === 'server' || (sdk.$metadata?.httpStatusCode ?? 0) >= 500 || /Throttl|Timeout|ECONN/i.test(`${sdk.name} ${sdk.message}`);
  return unavailable ? new StoreUnavailableError(`DynamoDB did not answer: ${sdk.name}: ${sdk.message}`, { cause: error }) : error;
}
