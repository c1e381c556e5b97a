/** The named queue does not exist (a domain that is not provisioned, or a replyTo that names no queue). */
export class QueueNotFoundError extends Error {
  readonly queueName: string;
  constructor(queueName: string, options?: { cause?: unknown }) {
    super(`queue ${queueName} does not exist`, options);
    this.name = 'QueueNotFoundError';
    this.queueName = queueName;
  }
}

/** The queue refused the message itself (its content or size): sending it again cannot succeed. */
export class MessageRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MessageRefusedError';
  }
}

/** A message as a worker receives it. */
export interface TransportMessage {
  messageId: string;
  body: string;
  receiptHandle: string;
  /** How often SQS has handed this message out (ApproximateReceiveCount). */
  receiveCount: number;
  attributes: Record<string, string>;
}

export interface ReceiveOptions {
  maxMessages: number;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
  signal?: AbortSignal;
}

/** The producers' and workers' side of the queues: per domain a commands queue; replies anywhere. */
export interface CommandQueue {
  /** `attributes` and `delaySeconds` (0–900) are for the worker's own re-sends. */
  sendCommand(domain: string, body: string, options?: { attributes?: Record<string, string>; delaySeconds?: number }): Promise<void>;
  /** `replyTo` is a queue name (of the configured account and endpoint). */
  sendReply(replyTo: string, body: string): Promise<void>;
  receive(domain: string, options: ReceiveOptions): Promise<TransportMessage[]>;
  /** Deletes a handled message (may be batched; `flush` sends what is waiting). */
  ack(domain: string, receiptHandle: string): Promise<void>;
  /** Makes the message visible again after `seconds` (the retry backoff). */
  delay(domain: string, receiptHandle: string, seconds: number): Promise<void>;
  flush(): Promise<void>;
}

/** Per domain the TSQ queue: the worker parks copies there; the sweeper reads, deletes and releases them. */
export interface TsqQueue {
  /** Puts a copy in the domain's TSQ queue, where the console/CLI can redrive it. */
  park(domain: string, body: string, attributes: Record<string, string>): Promise<void>;
  /** Messages waiting in the domain's TSQ queue, hidden for `visibilityTimeoutSeconds`. */
  receiveParked(domain: string, options: { maxMessages: number; visibilityTimeoutSeconds: number }): Promise<TransportMessage[]>;
  deleteParked(domain: string, receiptHandle: string): Promise<void>;
  /** Makes a parked message visible again at once. */
  releaseParked(domain: string, receiptHandle: string): Promise<void>;
}

/** Both sides, as one adapter (SqsTransport) provides them. */
export interface CommandTransport extends CommandQueue, TsqQueue {}
