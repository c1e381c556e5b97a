import { describe, expect, it } from 'vitest';
import { encodeJson } from '../../../src/domain/messageBody.ts';

/** What real SQS accepts in a message body (its documented character ranges). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters SQS allows, listed by code point
const SQS_BODY = /^[\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd]*$/;

describe('Function: encodeJson', () => {
  it('escapes U+FFFE, U+FFFF and characters beyond the BMP, and decodes to the same value', () => {
    // Prepare
    const value = { text: 'emoji 😀, nonchar \ufffe\uffff, control \u0001, é ✓', 'key 🚀': ['\ud83d\ude00'] };

    // Act
    const body = encodeJson(value);

    // Assess
    expect(body).toMatch(SQS_BODY);
    expect(body).toContain('\\ud83d\\ude00');
    expect(body).toContain('é ✓');
    expect(JSON.parse(body)).toEqual(value);
  });

  it('leaves plain text untouched', () => {
    // Prepare
    const value = { a: 'plain', n: 1 };

    // Act
    const body = encodeJson(value);

    // Assess
    expect(body).toBe(JSON.stringify(value));
  });
});
