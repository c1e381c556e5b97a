import { applyOrShrink } from './applyWithRetry.ts';
import { attributeValue, decodeEnvelope, ERROR_CODE_ATTRIBUTE, PARKED_ATTRIBUTE, RECORD_ATTRIBUTE, TOKEN_ATTRIBUTE } from '../domain/envelope.ts';
import { DEAD_LETTERED_ERROR, deadLetteredRecord, deadLetteredTransition, malformedRecord, recordIdOf, withoutPayload } from '../domain/lifecycle.ts';
import type { CommandStore } from '../ports/CommandStore.ts';
import type { TransportMessage, TsqQueue } from '../ports/CommandTransport.ts';
import { CommandStatus, type Logger } from '../types.ts';

export interface SweepResult {
  examined: number;
  /** Stale copies (their command was resolved or enqueued again since) and duplicates, deleted. */
  removed: number;
  /** Messages SQS dead-lettered itself, now recorded IN_TSQ (or recognised) and parked as ours. */
  adopted: number;
  kept: number;
}

/**
 * Keeps a domain's TSQ queue truthful:
 * - a parked copy whose command was since retried, cancelled or completed — or a second copy of the
 *   same one — is deleted, so the queue's depth and age (and their alarms) show only what waits;
 * - a message SQS moved there itself (its redrive policy's maxReceiveCount reached: the store was
 *   unreachable, or every run ended before recording an outcome) is recorded IN_TSQ with the reason
 *   DEAD_LETTERED — or as MALFORMED_MESSAGE, or recognised as stale — and parked as ours, so the
 *   operator sees it in the TSQ listing and can retry, cancel or complete it.
 * Run it on a schedule: the stack does every 5 minutes; the long-running Worker does too.
 */
export class TsqSweeper {
  private readonly store: CommandStore;
  private readonly transport: TsqQueue;
  private readonly logger: Logger;

  constructor(options: { store: CommandStore; transport: TsqQueue; logger: Logger }) {
    this.store = options.store;
    this.transport = options.transport;
    this.logger = options.logger;
  }

  async sweep(domain: string, options: { maxMessages?: number } = {}): Promise<SweepResult> {
    const maxMessages = options.maxMessages ?? 1000;
    const live = new Set<string>();
    const held: string[] = [];
    const result: SweepResult = { examined: 0, removed: 0, adopted: 0, kept: 0 };
    try {
      while (result.examined < maxMessages) {
        // Everything examined stays hidden until released below, so no message is seen twice.
        const messages = await this.transport.receiveParked(domain, {
          maxMessages: Math.min(10, maxMessages - result.examined),
          visibilityTimeoutSeconds: 60,
        });
        if (messages.length === 0) break;
        for (const message of messages) {
          result.examined++;
          const verdict = message.attributes[PARKED_ATTRIBUTE] === undefined ? await this.adopt(domain, message) : await this.judge(domain, message, live);
          if (verdict === 'keep') {
            held.push(message.receiptHandle);
            result.kept++;
            continue;
          }
          await this.transport.deleteParked(domain, message.receiptHandle);
          if (verdict === 'adopted') result.adopted++;
          else result.removed++;
        }
      }
    } finally {
      for (const receiptHandle of held) await this.transport.releaseParked(domain, receiptHandle);
    }
    return result;
  }

  /** A copy we parked: stale unless its record is still IN_TSQ under the same token, and the first such copy. */
  private async judge(domain: string, message: TransportMessage, live: Set<string>): Promise<'keep' | 'remove'> {
    let recordId = message.attributes[RECORD_ATTRIBUTE];
    let token = message.attributes[TOKEN_ATTRIBUTE];
    if (recordId === undefined || token === undefined) {
      // Parked before copies named their record: only command envelopes can be traced.
      const decoded = decodeEnvelope(message.body);
      if (!decoded.ok) return 'keep';
      ({ commandId: recordId, token } = decoded.envelope);
    }
    const state = await this.store.get(domain, recordId);
    const key = `${recordId}|${token}`;
    const stale = !state || state.status !== CommandStatus.IN_TSQ || state.token !== token || live.has(key);
    live.add(key);
    return stale ? 'remove' : 'keep';
  }

  /**
   * A message SQS dead-lettered: record why (unless its command is resolved or enqueued again
   * since), then park a copy of ours — which names its record — in its place.
   */
  private async adopt(domain: string, message: TransportMessage): Promise<'keep' | 'remove' | 'adopted'> {
    const at = new Date().toISOString();
    const decoded = decodeEnvelope(message.body);
    if (!decoded.ok || decoded.envelope.domain !== domain) {
      const reason = decoded.ok ? `the envelope claims domain '${decoded.envelope.domain}' but was dead-lettered from domain '${domain}'` : decoded.reason;
      const recordId = recordIdOf(message.messageId);
      const inserted = await this.store.insert(malformedRecord(domain, recordId, message.body, reason, at));
      if (!inserted.created && inserted.existing.status !== CommandStatus.IN_TSQ) return 'remove';
      await this.parkCopy(domain, message.body, recordId, recordId, 'malformed', 'MALFORMED_MESSAGE');
      return 'adopted';
    }
    const envelope = decoded.envelope;
    const state = await this.store.get(domain, envelope.commandId);
    if (!state) {
      const inserted = await this.store.insert(deadLetteredRecord(envelope, at));
      if (!inserted.created) return 'keep'; // recorded meanwhile: decide on the next sweep
    } else if (state.token !== envelope.token || state.status === CommandStatus.COMPLETED || state.status === CommandStatus.CANCELLED) {
      return 'remove';
    } else if (state.status !== CommandStatus.IN_TSQ) {
      const parking = deadLetteredTransition(state, envelope.data, at);
      const applied = await applyOrShrink(this.store, parking, withoutPayload(parking));
      if (!applied.applied) return 'keep'; // it moved meanwhile: decide on the next sweep
    }
    this.logger.warn('dead-lettered message adopted into the TSQ', { domain, commandId: envelope.commandId, previousStatus: state?.status ?? 'unrecorded' });
    await this.parkCopy(
      domain,
      message.body,
      envelope.commandId,
      envelope.token,
      '1',
      state?.status === CommandStatus.IN_TSQ ? (state.lastError?.code ?? DEAD_LETTERED_ERROR.code) : DEAD_LETTERED_ERROR.code,
    );
    return 'adopted';
  }

  private async parkCopy(domain: string, body: string, recordId: string, token: string, kind: string, errorCode: string): Promise<void> {
    await this.transport.park(domain, body, {
      [PARKED_ATTRIBUTE]: kind,
      [ERROR_CODE_ATTRIBUTE]: attributeValue(errorCode),
      [RECORD_ATTRIBUTE]: recordId,
      [TOKEN_ATTRIBUTE]: attributeValue(token),
    });
  }
}
