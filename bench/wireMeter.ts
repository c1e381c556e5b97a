/**
 * Counts what goes over the wire, through SDK middleware only (no extra requests):
 *  - SQS: HTTP requests by action (every attempt, retries included) and billable requests
 *    (SendMessage/SendMessageBatch: one per started 64 KB of request body; anything else: one);
 *  - DynamoDB: HTTP requests by operation, and the capacity each call reports. Every read or write
 *    that supports it is sent with ReturnConsumedCapacity=INDEXES, so the table and every GSI are
 *    counted separately. Transactions are doubled here (AWS bills them twice, DynamoDB Local does not).
 * Then prices it as AWS bills it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

import { SQS_CHUNK_BYTES, WIRE_PRICES } from '@commandbus/local';

/** AWS's prices, as the embedded stack's wire meter prices them (one definition). */
export const PRICES = WIRE_PRICES;
export { SQS_CHUNK_BYTES };
export const TABLE = 'table';

const WRITE_OPS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const READ_OPS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const TRANSACTIONS = new Set(['TransactWriteItems', 'TransactGetItems']);
const SEND_ACTIONS = new Set(['SendMessage', 'SendMessageBatch']);

export interface SqsActionCount {
  requests: number;
  billable: number;
  bodyBytes: number;
}

export interface DynamoOpCount {
  requests: number;
  /** Successful calls, as the SDK returned them (a retried call counts once here). */
  succeeded: number;
  conditionalFailures: number;
}

export interface WireCounts {
  sqs: Record<string, SqsActionCount>;
  dynamodb: Record<string, DynamoOpCount>;
  /** Write units by target: 'table' or a GSI/LSI name. */
  writeUnits: Record<string, number>;
  readUnits: Record<string, number>;
  /** Failed conditional writes that reported no capacity (DynamoDB Local reports none for them). */
  unreportedFailedWrites: number;
  /** Messages DeleteMessageBatch/DeleteMessage reported deleted. */
  deletedMessages: number;
}

interface ConsumedCapacityLike {
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
  LocalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

const operation = (commandName: string | undefined) => (commandName ?? 'Unknown').replace(/Command$/, '');

function bodyBytes(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return 0;
}

export class WireMeter {
  private sqs = new Map<string, SqsActionCount>();
  private dynamo = new Map<string, DynamoOpCount>();
  private writes = new Map<string, number>();
  private reads = new Map<string, number>();
  private deleted = 0;
  private unreportedFailedWrites = 0;

  readonly label: string;

  constructor(label: string) {
    this.label = label;
  }

  reset(): void {
    this.sqs = new Map();
    this.dynamo = new Map();
    this.writes = new Map();
    this.reads = new Map();
    this.deleted = 0;
    this.unreportedFailedWrites = 0;
  }

  get deletedMessages(): number {
    return this.deleted;
  }

  snapshot(): WireCounts {
    const clone = <T extends object>(map: Map<string, T>) => Object.fromEntries([...map].map(([key, value]) => [key, { ...value }]));
    return {
      sqs: clone(this.sqs),
      dynamodb: clone(this.dynamo),
      writeUnits: Object.fromEntries(this.writes),
      readUnits: Object.fromEntries(this.reads),
      unreportedFailedWrites: this.unreportedFailedWrites,
      deletedMessages: this.deleted,
    };
  }

  attachSqs(client: SQSClient): void {
    // Per HTTP attempt (deserialize runs inside the retry loop): requests and body size.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const action = operation(context.commandName);
        const bytes = bodyBytes((args.request as { body?: unknown } | undefined)?.body);
        const count = this.sqsCount(action);
        count.requests++;
        count.bodyBytes += bytes;
        count.billable += SEND_ACTIONS.has(action) ? Math.max(1, Math.ceil(bytes / SQS_CHUNK_BYTES)) : 1;
        return next(args);
      },
      { step: 'deserialize', name: 'benchSqsRequestMeter', priority: 'high' },
    );
    // Per call: how many messages a delete removed (so a run can wait for its deletes to land).
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const action = operation(context.commandName);
        if (action === 'DeleteMessageBatch') {
          this.deleted += ((result.output as { Successful?: unknown[] }).Successful ?? []).length;
        } else if (action === 'DeleteMessage') {
          this.deleted++;
        }
        return result;
      },
      { step: 'initialize', name: 'benchSqsDeleteMeter', priority: 'low' },
    );
  }

  attachDynamo(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        this.dynamoCount(operation(context.commandName)).requests++;
        return next(args);
      },
      { step: 'deserialize', name: 'benchDynamoRequestMeter', priority: 'high' },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = operation(context.commandName);
        const isWrite = WRITE_OPS.has(op);
        if (isWrite || READ_OPS.has(op)) (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'INDEXES';
        try {
          const result = await next(args);
          this.dynamoCount(op).succeeded++;
          this.addCapacity(op, isWrite, (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
          return result;
        } catch (error) {
          // A failed conditional write is billed too; count whatever capacity the error reports.
          if ((error as Error).name === 'ConditionalCheckFailedException') {
            this.dynamoCount(op).conditionalFailures++;
            const consumed = (error as { ConsumedCapacity?: unknown }).ConsumedCapacity;
            if (consumed) this.addCapacity(op, isWrite, consumed);
            else if (isWrite) this.unreportedFailedWrites++;
          }
          throw error;
        }
      },
      // Low priority: inside lib-dynamodb's marshalling, so the flag reaches the wire either way.
      { step: 'initialize', name: 'benchDynamoCapacityMeter', priority: 'low' },
    );
  }

  private addCapacity(op: string, isWrite: boolean, consumed: unknown): void {
    if (!consumed) return;
    const units = isWrite ? this.writes : this.reads;
    const factor = TRANSACTIONS.has(op) ? 2 : 1;
    const add = (target: string, value: number | undefined) => {
      if (value) units.set(target, (units.get(target) ?? 0) + value * factor);
    };
    for (const entry of (Array.isArray(consumed) ? consumed : [consumed]) as ConsumedCapacityLike[]) {
      let indexUnits = 0;
      for (const indexes of [entry.GlobalSecondaryIndexes, entry.LocalSecondaryIndexes]) {
        for (const [name, capacity] of Object.entries(indexes ?? {})) {
          add(name, capacity.CapacityUnits);
          indexUnits += capacity.CapacityUnits ?? 0;
        }
      }
      add(TABLE, entry.Table?.CapacityUnits ?? (entry.CapacityUnits ?? 0) - indexUnits);
    }
  }

  private sqsCount(action: string): SqsActionCount {
    let count = this.sqs.get(action);
    if (!count) this.sqs.set(action, (count = { requests: 0, billable: 0, bodyBytes: 0 }));
    return count;
  }

  private dynamoCount(op: string): DynamoOpCount {
    let count = this.dynamo.get(op);
    if (!count) this.dynamo.set(op, (count = { requests: 0, succeeded: 0, conditionalFailures: 0 }));
    return count;
  }
}

// ---------------------------------------------------------------------------------------------
// Pricing

export interface CostPerCommand {
  commands: number;
  /** HTTP requests per command, by SQS action. */
  sqsRequestsByAction: Record<string, number>;
  sqsRequests: number;
  sqsBillable: number;
  dynamoRequestsByOp: Record<string, number>;
  writeUnitsByTarget: Record<string, number>;
  writeUnits: number;
  readUnitsByTarget: Record<string, number>;
  readUnits: number;
  /** Failed conditional writes for which no capacity was reported (DynamoDB Local reports none). */
  unreportedFailedWrites: number;
  /** $ per million commands. */
  dollarsPerMillion: { sqs: number; writes: number; reads: number; total: number };
}

const sum = (values: Record<string, number>) => Object.values(values).reduce((total, value) => total + value, 0);
const perCommand = (values: Record<string, number>, commands: number) =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value / commands]));

/**
 * Units per command and $ per million commands. A failed conditional write whose capacity was not
 * reported is priced at 1 WCU (AWS's minimum for a write), and shown separately.
 */
export function costPerCommand(counts: WireCounts, commands: number): CostPerCommand {
  const sqsRequests = Object.fromEntries(Object.entries(counts.sqs).map(([action, count]) => [action, count.requests]));
  const sqsBillable = sum(Object.fromEntries(Object.entries(counts.sqs).map(([action, count]) => [action, count.billable])));
  const dynamoRequests = Object.fromEntries(Object.entries(counts.dynamodb).map(([op, count]) => [op, count.requests]));
  const unreported = counts.unreportedFailedWrites;
  const writeUnits = sum(counts.writeUnits) + unreported;
  const readUnits = sum(counts.readUnits);
  const dollars = {
    sqs: (sqsBillable / commands) * PRICES.sqsRequest,
    writes: (writeUnits / commands) * PRICES.writeUnit,
    reads: (readUnits / commands) * PRICES.readUnit,
  };
  return {
    commands,
    sqsRequestsByAction: perCommand(sqsRequests, commands),
    sqsRequests: sum(sqsRequests) / commands,
    sqsBillable: sqsBillable / commands,
    dynamoRequestsByOp: perCommand(dynamoRequests, commands),
    writeUnitsByTarget: perCommand(counts.writeUnits, commands),
    writeUnits: writeUnits / commands,
    readUnitsByTarget: perCommand(counts.readUnits, commands),
    readUnits: readUnits / commands,
    unreportedFailedWrites: unreported / commands,
    dollarsPerMillion: { ...dollars, total: dollars.sqs + dollars.writes + dollars.reads },
  };
}
