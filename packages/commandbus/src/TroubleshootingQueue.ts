import { randomUUID } from 'node:crypto';
import { sendReply } from './application/CommandProcessor.ts';
import { toCommand, validateQuery } from './CommandBus.ts';
import { resolveAdapters, type Adapters, type CommandBusConfig } from './config.ts';
import {
  MALFORMED_COMMAND_TYPE,
  operatorCancelTransition,
  operatorCompleteTransition,
  PAYLOAD_NOT_STORED,
  retryRequestTransition,
  type CommandState,
  type Transition,
} from './domain/lifecycle.ts';
import { assertJson, validateDomain, validateName, validateUuid } from './domain/validation.ts';
import { CommandNotFoundError, InvalidOperationError, ValidationError } from './errors.ts';
import { MAX_RESULT_BYTES } from './domain/outcome.ts';
import { requeueCommand } from './application/retryProtocol.ts';
import { TsqSweeper, type SweepResult } from './application/TsqSweeper.ts';
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
      if (current.status === 'IN_TSQ' && current.commandType === MALFORMED_COMMAND_TYPE) {
        throw new InvalidOperationError(
          `${domain}/${commandId} is a message that is not a command (${current.lastError?.message ?? 'malformed'}); it cannot be retried — cancel or complete it`,
          current.status,
        );
      }
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
   * Keeps the TSQ queue truthful (see TsqSweeper): deletes stale and duplicate parked copies, and
   * records messages SQS dead-lettered itself as IN_TSQ (DEAD_LETTERED) so an operator can act on
   * them. Run it on a schedule (the stack does, every 5 minutes; so does the Worker).
   */
  async sweep(domain: string, options: { maxMessages?: number } = {}): Promise<SweepResult> {
    validateDomain(domain);
    return new TsqSweeper(this.adapters).sweep(domain, options);
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
