/**
 * Counts what the embedded AWS is asked to do, as AWS would bill it: an HTTP proxy in front of
 * DynamoDB Local and one in front of the SQS emulator, for a process whose SDK clients are not ours
 * to instrument (the local runtime's functions). Point the clients (AWS_ENDPOINT_URL_*) and the queue
 * URLs at the proxies; every request goes through unchanged except that DynamoDB reads and writes
 * ask for ReturnConsumedCapacity=INDEXES (DynamoDB Local does not check signatures), so the units
 * of the table and of every index are counted from the answers. Transactions count twice (AWS bills
 * them twice; DynamoDB Local reports them once); a write refused by its condition, which DynamoDB
 * Local reports no units for, counts one (AWS bills at least one). SQS: requests by action, billable
 * in 64 KB chunks of the request body for sends. Only for local measurement: it adds a hop.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const WIRE_PRICES = {
  /** $ per million billable SQS requests (64 KB chunks). */
  sqsRequest: 0.4,
  /** DynamoDB on demand, $ per million write / read request units. */
  writeUnit: 0.625,
  readUnit: 0.125,
} as const;

/** SQS bills a request per started 64 KB of its payload. */
export const SQS_CHUNK_BYTES = 64 * 1024;
const CAPACITY_OPS = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'GetItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'TransactGetItems',
]);
const WRITE_OPS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const TRANSACTIONS = new Set(['TransactWriteItems', 'TransactGetItems']);
const SEND_ACTIONS = new Set(['SendMessage', 'SendMessageBatch']);

export interface WireMeterCounts {
  sqs: { requests: Record<string, number>; billable: number };
  dynamodb: { requests: Record<string, number>; writeUnits: number; readUnits: number; writeUnitsByIndex: Record<string, number> };
  /** What these would cost on AWS, in dollars. */
  cost: { sqs: number; dynamodbWrites: number; dynamodbReads: number; total: number };
}

interface Capacity {
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

export class WireMeter {
  private sqsRequests = new Map<string, number>();
  private sqsBillable = 0;
  private dynamoRequests = new Map<string, number>();
  private writeUnits = 0;
  private readUnits = 0;
  private byIndex = new Map<string, number>();
  private readonly servers: Server[] = [];

  /** Starts both proxies; returns their endpoints (http://127.0.0.1:PORT). */
  async start(upstream: { dynamodb: string; sqs: string }): Promise<{ dynamodb: string; sqs: string }> {
    const dynamodb = await this.listen((request, response) => this.proxyDynamo(new URL(upstream.dynamodb), request, response));
    const sqsUpstream = new URL(upstream.sqs);
    let sqsOrigin = '';
    const sqs = await this.listen((request, response) => this.proxySqs(sqsUpstream, sqsOrigin, request, response));
    sqsOrigin = sqs;
    return { dynamodb, sqs };
  }

  /**
   * Serves `snapshot()` as JSON on 127.0.0.1 to holders of `token` (Authorization: Bearer), so a load
   * test in another process can read what its run cost. Returns the URL.
   */
  async serveSnapshots(token: string): Promise<string> {
    const expected = Buffer.from(`Bearer ${token}`);
    return this.listen(async (request, response) => {
      const presented = Buffer.from(request.headers.authorization ?? '');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        response.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"missing or wrong bearer token"}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.snapshot()));
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const server of this.servers) server.closeAllConnections();
  }

  snapshot(): WireMeterCounts {
    const sqs = (this.sqsBillable * WIRE_PRICES.sqsRequest) / 1e6;
    const dynamodbWrites = (this.writeUnits * WIRE_PRICES.writeUnit) / 1e6;
    const dynamodbReads = (this.readUnits * WIRE_PRICES.readUnit) / 1e6;
    return {
      sqs: { requests: Object.fromEntries(this.sqsRequests), billable: this.sqsBillable },
      dynamodb: {
        requests: Object.fromEntries(this.dynamoRequests),
        writeUnits: this.writeUnits,
        readUnits: this.readUnits,
        writeUnitsByIndex: Object.fromEntries(this.byIndex),
      },
      cost: { sqs, dynamodbWrites, dynamodbReads, total: sqs + dynamodbWrites + dynamodbReads },
    };
  }

  private async listen(handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>): Promise<string> {
    const server = createServer((request, response) => {
      handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(`wire meter: ${(error as Error).message}`);
      });
    });
    server.keepAliveTimeout = 30_000;
    this.servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  private async proxyDynamo(upstream: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'Unknown';
    let body = await readAll(request);
    const measured = CAPACITY_OPS.has(operation);
    if (measured) body = Buffer.from(JSON.stringify({ ...JSON.parse(body.toString('utf8')), ReturnConsumedCapacity: 'INDEXES' }));
    const answer = await forward(upstream, request, body);
    this.dynamoRequests.set(operation, (this.dynamoRequests.get(operation) ?? 0) + 1);
    if (measured) this.countCapacity(operation, answer.status, answer.body);
    answer.send(response);
  }

  private countCapacity(operation: string, status: number, body: Buffer): void {
    const write = WRITE_OPS.has(operation);
    let parsed: { ConsumedCapacity?: Capacity | Capacity[]; __type?: string } = {};
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return;
    }
    const capacities = parsed.ConsumedCapacity === undefined ? [] : [parsed.ConsumedCapacity].flat();
    if (capacities.length === 0) {
      // A refused conditional write (or a cancelled transaction) is billed at least a unit.
      if (write && status === 400 && /ConditionalCheckFailed|TransactionCanceled/.test(parsed.__type ?? '')) this.writeUnits += 1;
      return;
    }
    const factor = TRANSACTIONS.has(operation) ? 2 : 1;
    for (const capacity of capacities) {
      const units = (capacity.CapacityUnits ?? 0) * factor;
      if (write) this.writeUnits += units;
      else this.readUnits += units;
      if (write) {
        this.add('table', (capacity.Table?.CapacityUnits ?? 0) * factor);
        for (const [index, { CapacityUnits = 0 }] of Object.entries(capacity.GlobalSecondaryIndexes ?? {})) this.add(index, CapacityUnits * factor);
      }
    }
  }

  private add(target: string, units: number): void {
    this.byIndex.set(target, (this.byIndex.get(target) ?? 0) + units);
  }

  private async proxySqs(upstream: URL, ownOrigin: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const action = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'Unknown';
    const body = await readAll(request);
    this.sqsRequests.set(action, (this.sqsRequests.get(action) ?? 0) + 1);
    this.sqsBillable += SEND_ACTIONS.has(action) ? Math.max(1, Math.ceil(body.length / SQS_CHUNK_BYTES)) : 1;
    const answer = await forward(upstream, request, body);
    // Queue URLs name the emulator's origin; the clients must keep coming through here.
    if (/QueueUrl/.test(action) || action === 'CreateQueue' || action === 'ListQueues' || action === 'ListDeadLetterSourceQueues') {
      answer.body = Buffer.from(answer.body.toString('utf8').split(upstream.origin).join(ownOrigin));
    }
    answer.send(response);
  }
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
  send(response: ServerResponse): void;
}

function forward(upstream: URL, request: IncomingMessage, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...request.headers, host: upstream.host, 'content-length': String(body.length) };
    const outgoing = httpRequest({ host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers }, (incoming) => {
      readAll(incoming).then((answerBody) => {
        const answer: Answer = {
          status: incoming.statusCode ?? 502,
          headers: incoming.headers,
          body: answerBody,
          send(response) {
            const { 'content-length': _length, 'transfer-encoding': _encoding, ...rest } = answer.headers;
            response.writeHead(answer.status, { ...rest, 'content-length': String(answer.body.length) });
            response.end(answer.body);
          },
        };
        resolve(answer);
      }, reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
