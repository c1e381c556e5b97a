import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError, type JsonObject } from '@commandbus/core';

/** How TestCommand behaves for one command id (field names as in the seed story). */
export type Behaviour =
  | { type: 'success'; delay_ms?: number }
  /** `error_details`: the error's details, as a handler may add them (e.g. the issues of an invalid payload). */
  | { type: 'fail_permanent'; error_code?: string; error_message?: string; error_details?: JsonObject }
  | { type: 'fail_transient'; error_code?: string; error_message?: string }
  | { type: 'fail_transient_then_succeed'; transient_failures: number; error_code?: string; delay_ms?: number }
  | { type: 'timeout'; timeout_ms: number }
  /** Attempt 1 runs `delay_ms` then ends with `outcome`; later attempts succeed at once (late-finisher tests). */
  | { type: 'slow_first_attempt'; delay_ms: number; outcome: 'success' | 'fail_permanent' };

export interface BehaviourRecord {
  behaviour: Behaviour;
  /** Handler invocations started / finished, counted by the handler itself. */
  invocations: number;
  finished: number;
}

const TYPES = new Set(['success', 'fail_permanent', 'fail_transient', 'fail_transient_then_succeed', 'timeout', 'slow_first_attempt']);

export function validateBehaviour(value: unknown): Behaviour {
  const behaviour = value as Record<string, unknown> | null;
  if (typeof behaviour !== 'object' || behaviour === null || !TYPES.has(behaviour.type as string)) {
    throw new ValidationError('behaviour.type', `must be one of ${[...TYPES].join(', ')} (got ${JSON.stringify(behaviour?.type)})`);
  }
  for (const field of ['delay_ms', 'timeout_ms', 'transient_failures']) {
    const n = behaviour[field];
    if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 0)) {
      throw new ValidationError(`behaviour.${field}`, `must be a non-negative integer (got ${JSON.stringify(n)})`);
    }
  }
  const details = behaviour.error_details;
  if (details !== undefined && (typeof details !== 'object' || details === null || Array.isArray(details))) {
    throw new ValidationError('behaviour.error_details', `must be a JSON object (got ${JSON.stringify(details)})`);
  }
  if (behaviour.type === 'fail_transient_then_succeed' && behaviour.transient_failures === undefined) {
    throw new ValidationError('behaviour.transient_failures', 'is required for fail_transient_then_succeed');
  }
  if (behaviour.type === 'timeout' && behaviour.timeout_ms === undefined) {
    throw new ValidationError('behaviour.timeout_ms', 'is required for timeout');
  }
  return behaviour as unknown as Behaviour;
}

/**
 * Behaviour records live in the commands table under their own key prefix, so the deployed stack
 * needs no extra table for its E2E runs.
 */
export class BehaviourStore {
  private readonly doc: DynamoDBDocumentClient;

  private readonly tableName: string;
  constructor(client: DynamoDBClient, tableName: string) {
    this.tableName = tableName;
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private key(commandId: string) {
    return { pk: `e2e-behaviour#${commandId}`, sk: 'behaviour' };
  }

  async create(commandId: string, behaviour: Behaviour): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...this.key(commandId), behaviour: validateBehaviour(behaviour), invocations: 0, finished: 0 },
      }),
    );
  }

  async update(commandId: string, behaviour: Behaviour): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(commandId),
        UpdateExpression: 'SET behaviour = :b',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':b': validateBehaviour(behaviour) },
      }),
    );
  }

  async get(commandId: string): Promise<BehaviourRecord | undefined> {
    const response = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.key(commandId), ConsistentRead: true }));
    return response.Item as BehaviourRecord | undefined;
  }

  /** Counts an invocation (or its end) and returns the behaviour in force; undefined if none was set. */
  async count(commandId: string, counter: 'invocations' | 'finished'): Promise<Behaviour | undefined> {
    try {
      const response = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(commandId),
          UpdateExpression: 'ADD #c :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#c': counter },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return (response.Attributes as JsonObject | undefined)?.behaviour as Behaviour | undefined;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }
}
