import { describe, expect, it } from 'vitest';
import { HandlerTimeoutError, MAX_DETAILS_BYTES, classifyError } from '../../../src/domain/outcome.ts';
import { PermanentCommandError, TransientCommandError } from '../../../src/errors.ts';

const LONG = 'x'.repeat(1001);
const TRUNCATED = `${'x'.repeat(1000)}… (truncated)`;

describe('Function: classifyError', () => {
  it('keeps the code, message and details of a PermanentCommandError', () => {
    // Prepare
    const error = new PermanentCommandError('CARD_DECLINED', 'card declined', { last4: '4242' });

    // Act
    const classified = classifyError(error);

    // Assess
    expect(classified).toEqual({ type: 'PERMANENT', code: 'CARD_DECLINED', message: 'card declined', details: { last4: '4242' } });
  });

  it('keeps the code, message and details of a TransientCommandError', () => {
    // Prepare
    const error = new TransientCommandError('GATEWAY_DOWN', 'gateway unavailable', { retryAfter: 5 });

    // Act
    const classified = classifyError(error);

    // Assess
    expect(classified).toEqual({ type: 'TRANSIENT', code: 'GATEWAY_DOWN', message: 'gateway unavailable', details: { retryAfter: 5 } });
  });

  it('leaves details out when the command error has none', () => {
    // Prepare
    const permanent = new PermanentCommandError('BAD_INPUT', 'bad input');
    const transient = new TransientCommandError('BUSY', 'busy');

    // Act
    const classifiedPermanent = classifyError(permanent);
    const classifiedTransient = classifyError(transient);

    // Assess
    expect(classifiedPermanent).toEqual({ type: 'PERMANENT', code: 'BAD_INPUT', message: 'bad input' });
    expect('details' in classifiedPermanent).toBe(false);
    expect('details' in classifiedTransient).toBe(false);
  });

  it('classifies a HandlerTimeoutError as TIMEOUT', () => {
    // Prepare
    const error = new HandlerTimeoutError(2500);

    // Act
    const classified = classifyError(error);

    // Assess
    expect(classified).toEqual({ type: 'TIMEOUT', code: 'TIMEOUT', message: 'handler did not finish within 2500 ms' });
    expect(error.name).toBe('HandlerTimeoutError');
    expect(error.timeoutMs).toBe(2500);
  });

  it('classifies any other Error as transient, with its name as the code', () => {
    // Prepare
    const plain = new Error('socket hang up');
    const typeError = new TypeError('cannot read properties of undefined');

    // Act
    const classifiedPlain = classifyError(plain);
    const classifiedTypeError = classifyError(typeError);

    // Assess
    expect(classifiedPlain).toEqual({ type: 'TRANSIENT', code: 'Error', message: 'socket hang up' });
    expect(classifiedTypeError).toEqual({ type: 'TRANSIENT', code: 'TypeError', message: 'cannot read properties of undefined' });
  });

  it("uses 'Error' as the code when an Error's name is empty", () => {
    // Prepare
    const error = new Error('anonymous');
    error.name = '';

    // Act
    const classified = classifyError(error);

    // Assess
    expect(classified).toEqual({ type: 'TRANSIENT', code: 'Error', message: 'anonymous' });
  });

  it.each([
    ['a string', 'boom', 'non-Error thrown: boom'],
    ['an object', { reason: 'nope', code: 7 }, 'non-Error thrown: {"reason":"nope","code":7}'],
    ['a number', 42, 'non-Error thrown: 42'],
    ['null', null, 'non-Error thrown: null'],
    ['undefined', undefined, 'non-Error thrown: undefined'],
    ['a bigint', 10n, 'non-Error thrown: 10'],
  ])('classifies a thrown non-Error (%s) as transient UNKNOWN with its value in the message', (_label, thrown, message) => {
    // Prepare: the thrown value

    // Act
    const classified = classifyError(thrown);

    // Assess
    expect(classified).toEqual({ type: 'TRANSIENT', code: 'UNKNOWN', message });
  });

  it('describes a circular non-Error without throwing', () => {
    // Prepare
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;

    // Act
    const classified = classifyError(circular);

    // Assess
    expect(classified).toEqual({ type: 'TRANSIENT', code: 'UNKNOWN', message: 'non-Error thrown: [object Object]' });
  });

  it('keeps a message of exactly 1000 characters whole', () => {
    // Prepare
    const message = 'y'.repeat(1000);

    // Act
    const classified = classifyError(new Error(message));

    // Assess
    expect(classified.message).toBe(message);
  });

  it('truncates messages longer than 1000 characters, whatever was thrown', () => {
    // Prepare
    const thrown = [new PermanentCommandError('P', LONG), new TransientCommandError('T', LONG), new Error(LONG)];

    // Act
    const messages = thrown.map((error) => classifyError(error).message);
    const nonError = classifyError(LONG).message;

    // Assess
    expect(messages).toEqual([TRUNCATED, TRUNCATED, TRUNCATED]);
    expect(nonError).toBe(`non-Error thrown: ${'x'.repeat(1000 - 'non-Error thrown: '.length)}… (truncated)`);
  });
});

describe('Function: classifyError (details)', () => {
  it('keeps small details and replaces oversized ones with a note, so the item stays writable', () => {
    // Prepare
    const small = new PermanentCommandError('X', 'x', { field: 'a' });
    const huge = new TransientCommandError('Y', 'y', { blob: 'z'.repeat(MAX_DETAILS_BYTES) });

    // Act
    const kept = classifyError(small);
    const dropped = classifyError(huge);

    // Assess
    expect(kept.details).toEqual({ field: 'a' });
    expect(String(dropped.details?.dropped)).toMatch(/^error details of \d+ bytes exceed 8192$/);
  });
});
