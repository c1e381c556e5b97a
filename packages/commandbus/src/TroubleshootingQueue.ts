import { randomUUID } from 'node:crypto';
import { sendReply } from './CommandProcessor.ts';
import { toCommand, validateQuery } from './CommandBus.ts';
import { resolveAdapters, type Adapters, type CommandBusConfig } from './config.ts';
import {
  operatorCancelTransition,
  operatorCompleteTransition,
  PAYLOAD_NOT_STORED,
  retryRequestTransition,
  type CommandState,
  type Transition,
} from './domain/lifecycle.ts';
import { assertJson, validateDomain, validateName, validateUuid } from './domain/validation.ts';
import { decodeEnvelope, PARKED_ATTRIBUTE } from './domain/envelope.ts';
import { CommandNotFoundError, InvalidOperationError, ValidationError } from './errors.ts';
import { MAX_RESULT_BYTES } from './domain/outcome.ts';
import { requeueCommand } from './requeue.ts';
import type { JsonValue, Page, Reply, TsqEntry, TsqQuery } from './types.ts';

export interface OperatorAction {
  domain: string;
  commandId: string;
  /** Who acts; always recorded in the audit trail. */
  operator: string;
}

/**
 * The operator's view of failed commands: list them with their errors, then retry, cancel or complete.
 * Every action is allowed only from IN_TSQ and records the operator.
 */
export class TroubleshootingQueue {
  private readonly adapters: Adapters;

  constructor(config: CommandBusConfig = {}) {
    this.adapters = resolveAdapters(config);
  }

  async list(query: TsqQuery): Promise<Page<TsqEntry>> {
    const page = await this.adapters.store.listTsq(validateQuery(query));
    return {
      ...page,
      items: page.items.map((state) => ({ ...toCommand(state), movedToTsqAt: state.movedToTsqAt ?? state.updatedAt })),
    };
  }

  /** Re-enqueues the stored payload with a fresh token: the command is PENDING again, attempts reset. */
  async operatorRetry(action: OperatorAction): Promise<void> {
    const { domain, commandId, operator } = validateAction(action);
    const token = randomUUID();
    const state = await this.act(domain, commandId, (current) => {
      if (current.status === 'IN_TSQ' && current.data === undefined) {
        throw new InvalidOperationError(`${domain}/${commandId}: ${PAYLOAD_NOT_STORED}`, current.status);
      }
      return retryRequestTransition(current, operator, token, now());
    });
    await requeueCommand(this.adapters.store, this.adapters.transport, state, token, operator);
  }

  async operatorCancel(action: OperatorAction & { reason: string }): Promise<void> {
    const { domain, commandId, operator } = validateAction(action);
    const reason = validateName('reason', action.reason);
    const state = await this.act(domain, commandId, (current) => operatorCancelTransition(current, operator, reason, now()));
    // The reply says why it was cancelled and what went wrong before.
    await this.reply(state, 'CANCELLED', { reason, ...(state.lastError ? { error: state.lastError } : {}) });
  }

  async operatorComplete(action: OperatorAction & { resultData?: JsonValue }): Promise<void> {
    const { domain, commandId, operator } = validateAction(action);
    const resultData = action.resultData ?? null;
    assertJson('resultData', resultData);
    const bytes = Buffer.byteLength(JSON.stringify(resultData), 'utf8');
    if (bytes > MAX_RESULT_BYTES) {
      throw new ValidationError('resultData', `is ${bytes} bytes as JSON; the limit is ${MAX_RESULT_BYTES} bytes (results share the command's 400 KB item)`);
    }
    const state = await this.act(domain, commandId, (current) => operatorCompleteTransition(current, operator, resultData, now()));
    await this.reply(state, 'SUCCESS', { result: resultData });
  }

  /**
   * Removes the TSQ queue's stale copies — parked copies of commands an operator has since retried,
   * cancelled or completed, and duplicate copies — so the queue's depth and age (and their alarms)
   * show what really waits for an operator. Live copies, and messages SQS itself dead-lettered, stay.
   * Run it on a schedule (the stack does, every 5 minutes).
   */
  async sweep(domain: string, options: { maxMessages?: number } = {}): Promise<{ examined: number; removed: number; kept: number }> {
    validateDomain(domain);
    const { store, transport } = this.adapters;
    const maxMessages = options.maxMessages ?? 1000;
    const live = new Set<string>();
    const held: string[] = [];
    let examined = 0;
    let removed = 0;
    try {
      while (examined < maxMessages) {
        // Everything examined stays hidden until released below, so no message is seen twice.
        const messages = await transport.receiveParked(domain, { maxMessages: Math.min(10, maxMessages - examined), visibilityTimeoutSeconds: 60 });
        if (messages.length === 0) break;
        for (const message of messages) {
          examined++;
          const decoded = decodeEnvelope(message.body);
          const parkedByUs = message.attributes[PARKED_ATTRIBUTE] === '1';
          let stale = false;
          if (decoded.ok && parkedByUs) {
            const { commandId, token } = decoded.envelope;
            const state = await store.get(domain, commandId);
            const key = `${commandId}|${token}`;
            stale = !state || state.status !== 'IN_TSQ' || state.token !== token || live.has(key);
            live.add(key);
          }
          if (stale) {
            await transport.deleteParked(domain, message.receiptHandle);
            removed++;
          } else {
            held.push(message.receiptHandle);
          }
        }
      }
    } finally {
      for (const receiptHandle of held) await transport.releaseParked(domain, receiptHandle);
    }
    return { examined, removed, kept: examined - removed };
  }

  /** The action has happened; a reply that cannot be sent is logged, not turned into a failed action. */
  private async reply(state: CommandState, outcome: Reply['outcome'], extra: Partial<Reply>): Promise<void> {
    try {
      await sendReply(this.adapters.transport, state, outcome, extra);
    } catch (error) {
      this.adapters.logger.error('reply could not be sent', { commandId: state.commandId, replyTo: state.replyTo, error: String(error) });
    }
  }

  /** Reads, checks IN_TSQ, writes conditionally; a concurrent change is re-read and re-checked. */
  private async act(domain: string, commandId: string, transition: (current: CommandState) => Transition): Promise<CommandState> {
    let current = await this.adapters.store.get(domain, commandId);
    for (let round = 0; round < 5; round++) {
      if (!current) throw new CommandNotFoundError(domain, commandId);
      const result = await this.adapters.store.apply(transition(current));
      if (result.applied) return current;
      current = result.current;
    }
    throw new InvalidOperationError(`${domain}/${commandId} kept changing; try again`, current?.status ?? 'UNKNOWN');
  }
}

function validateAction<T extends OperatorAction>(action: T): T {
  validateDomain(action.domain);
  validateUuid('commandId', action.commandId);
  validateName('operator', action.operator);
  return { ...action, commandId: action.commandId.toLowerCase() };
}

const now = () => new Date().toISOString();
