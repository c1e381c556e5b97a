import { applyWithRetry } from './application/applyWithRetry.ts';
import { sendReplyOrLog } from './application/replies.ts';
import { retryCommand } from './application/retryProtocol.ts';
import { TsqSweeper, type SweepResult } from './application/TsqSweeper.ts';
import { resolveAdapters, type Adapters, type CommandBusConfig } from './config.ts';
import { operatorCancelTransition, operatorCompleteTransition, type CommandState, type Transition } from './domain/lifecycle.ts';
import { MAX_RESULT_BYTES } from './domain/outcome.ts';
import { validateQuery } from './domain/query.ts';
import { assertJson, validateDomain, validateName, validateUuid } from './domain/validation.ts';
import { toTsqEntry } from './domain/views.ts';
import { CommandNotFoundError, InvalidOperationError, ValidationError } from './errors.ts';
import type { JsonValue, Page, TsqEntry, TsqQuery } from './types.ts';

export interface OperatorAction {
  domain: string;
  commandId: string;
  /** Who acts; always recorded in the audit trail. */
  operator: string;
}

/**
 * The operator's view of failed commands: list them with their errors, then retry, cancel or complete.
 * Every action is allowed only from IN_TSQ and records the operator.
 *
 * @example
 * const tsq = new TroubleshootingQueue({ namespace: 'shop' });
 * const { items } = await tsq.list({ domain: 'payments' });
 * await tsq.operatorRetry({ domain: 'payments', commandId: items[0].commandId, operator: 'alice' });
 */
export class TroubleshootingQueue {
  private readonly adapters: Adapters;

  constructor(config: CommandBusConfig = {}) {
    this.adapters = resolveAdapters(config);
  }

  async list(query: TsqQuery): Promise<Page<TsqEntry>> {
    const page = await this.adapters.store.listTsq(validateQuery(query));
    return { ...page, items: page.items.map(toTsqEntry) };
  }

  /** Re-enqueues the stored payload with a fresh token: the command is PENDING again, attempts reset. */
  async operatorRetry(action: OperatorAction): Promise<void> {
    await retryCommand(this.adapters, validateAction(action));
  }

  async operatorCancel(action: OperatorAction & { reason: string }): Promise<void> {
    const { domain, commandId, operator } = validateAction(action);
    const reason = validateName('reason', action.reason);
    const state = await this.act(domain, commandId, (current) => operatorCancelTransition(current, operator, reason, now()));
    // The reply says why it was cancelled and what went wrong before.
    await sendReplyOrLog(this.adapters.transport, this.adapters.logger, state, 'CANCELLED', { reason, ...(state.lastError ? { error: state.lastError } : {}) });
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
    await sendReplyOrLog(this.adapters.transport, this.adapters.logger, state, 'SUCCESS', { result: resultData });
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

  /** Reads, checks IN_TSQ (the lifecycle does), writes conditionally; returns the state acted on. */
  private act(domain: string, commandId: string, transition: (current: CommandState) => Transition): Promise<CommandState> {
    return applyWithRetry(
      this.adapters.store,
      { domain, commandId },
      (current) => {
        if (!current) throw new CommandNotFoundError(domain, commandId);
        return { write: transition(current), after: () => current };
      },
      { contention: (current) => new InvalidOperationError(`${domain}/${commandId} kept changing; try again`, current?.status ?? 'UNKNOWN') },
    );
  }
}

function validateAction<T extends OperatorAction>(action: T): T {
  validateDomain(action.domain);
  validateUuid('commandId', action.commandId);
  validateName('operator', action.operator);
  return { ...action, commandId: action.commandId.toLowerCase() };
}

const now = () => new Date().toISOString();
