/**
 * Query rules, checked before anything is read: domain, limit, command type, error code and type,
 * status, cursor shape and time bounds. Pure: the store trusts what passes here.
 */
import { ValidationError } from '../errors.ts';
import { CommandStatus, type ErrorKind } from '../types.ts';
import { validateDomain, validateName } from './validation.ts';

/**
 * Time bounds are instants of the years 0000–9999, so that, written as toISOString writes them, they
 * sort as the index's `<timestamp>#<commandId>` keys do (toISOString writes other years as ±YYYYYY).
 */
export const EARLIEST_TIME = Date.parse('0000-01-01T00:00:00.000Z');
export const LATEST_TIME = Date.parse('9999-12-31T23:59:59.999Z');
/** The error types a TSQ listing can be filtered on (lastError.type). */
const ERROR_KINDS: readonly ErrorKind[] = ['TRANSIENT', 'PERMANENT', 'TIMEOUT'];
/** ISO-8601 as RFC 3339 has it: a date, or a date and time with Z or an offset. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2}))?$/;

/** A time bound, checked and written as toISOString writes it; a ValidationError naming `field` else. */
export function parseTimestamp(field: string, value: unknown): string {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value);
  const refuse = (why: string) => new ValidationError(field, `must be an ISO-8601 timestamp such as 2026-01-31T12:00:00Z or 2026-01-31 ${why} (got ${shown})`);
  if (typeof value !== 'string') throw refuse('as a string');
  const match = TIMESTAMP.exec(value);
  if (!match) throw refuse('(a date, or a date and time with Z or an offset)');
  const [, year, month, day, hour = '00', minute = '00', second = '00', offset = 'Z'] = match;
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  const calendarDay = date.getUTCMonth() === Number(month) - 1 && date.getUTCDate() === Number(day);
  const offsetOk = /^[Zz]$/.test(offset) || (Number(offset.slice(1, 3)) <= 23 && Number(offset.slice(4, 6)) <= 59);
  if (!calendarDay || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59 || !offsetOk) throw refuse('on a real calendar day and time');
  const time = Date.parse(value.toUpperCase());
  if (Number.isNaN(time) || time < EARLIEST_TIME || time > LATEST_TIME) throw refuse('within the years 0000 to 9999');
  return new Date(time).toISOString();
}

/**
 * Checks a query before anything is read: domain, limit, command type and correlation id (as send
 * checks them), error code (a name: non-empty,
 * at most 128 characters), error type (TRANSIENT, PERMANENT or TIMEOUT), status, and the time bounds
 * (ISO-8601, years 0000–9999, `from` not later than `to`), which come back normalised as
 * toISOString writes them (cursors are bound to the normalised query).
 */
export function validateQuery<
  T extends {
    domain: string;
    limit?: number;
    commandType?: string;
    correlationId?: string;
    errorCode?: string;
    errorType?: string;
    from?: string;
    to?: string;
    status?: string;
    cursor?: string;
  },
>(query: T): T {
  validateDomain(query.domain);
  if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 100)) {
    throw new ValidationError('limit', `must be an integer from 1 to 100 (got ${query.limit})`);
  }
  if (query.commandType !== undefined) validateName('commandType', query.commandType);
  if (query.correlationId !== undefined) validateName('correlationId', query.correlationId);
  if (query.errorCode !== undefined) validateName('errorCode', query.errorCode);
  if (query.errorType !== undefined && !(ERROR_KINDS as readonly unknown[]).includes(query.errorType)) {
    throw new ValidationError('errorType', `must be one of ${ERROR_KINDS.join(', ')} (got ${JSON.stringify(query.errorType)})`);
  }
  if (query.status !== undefined && !Object.values(CommandStatus).includes(query.status as CommandStatus)) {
    throw new ValidationError('status', `must be one of ${Object.values(CommandStatus).join(', ')} (got ${JSON.stringify(query.status)})`);
  }
  if (query.cursor !== undefined && (typeof query.cursor !== 'string' || query.cursor.length === 0)) {
    throw new ValidationError('cursor', 'must be a non-empty string returned as nextCursor');
  }
  const from = query.from === undefined ? undefined : parseTimestamp('from', query.from);
  const to = query.to === undefined ? undefined : parseTimestamp('to', query.to);
  if (from !== undefined && to !== undefined && from > to) throw new ValidationError('from', `must not be later than to (${from} > ${to})`);
  return { ...query, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}
