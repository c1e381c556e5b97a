import { describe, expect, it } from 'vitest';
import { findUnstorable, MAX_JSON_DEPTH } from '../../../src/domain/storableJson.ts';

const nested = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? { a: value } : [value];
  return value;
};

describe('Function: findUnstorable', () => {
  it('accepts what DynamoDB stores exactly: nesting up to the limit, safe integers, tiny non-zero numbers, emoji, U+FFFE', () => {
    // Prepare
    const value = {
      deep: nested(MAX_JSON_DEPTH - 1),
      big: Number.MAX_SAFE_INTEGER,
      small: -Number.MAX_SAFE_INTEGER,
      tiny: 1e-130,
      zero: -0,
      text: '😀 \ufffe\uffff é',
      'spaced key': '',
      nul: 'a\u0000b',
      list: [],
      map: {},
    };

    // Act
    const problem = findUnstorable(value, 'data');

    // Assess
    expect(problem).toBeUndefined();
  });

  it.each([
    ['one level too deep', { x: nested(MAX_JSON_DEPTH) }, /^data\.x(\[0\]|\.a)+$/, /nests deeper than 28 levels/],
    // biome-ignore lint/correctness/noPrecisionLoss: the precision lost in parsing is the point of the case
    ['an integer beyond 2^53', { amount: 12345678901234567890 }, 'data.amount', /beyond ±9007199254740991.*send it as a string/],
    ['1e308', { n: [1, 1e308] }, 'data.n[1]', /beyond ±9007199254740991/],
    ['a number closer to 0 than 1e-130', { n: 5e-324 }, 'data.n', /closer to 0 than DynamoDB stores/],
    ['an empty key', { a: { '': 1 } }, 'data.a[""]', /empty key/],
    ['a __proto__ key', JSON.parse('{"ok":{"__proto__":{"x":1}}}') as unknown, 'data.ok.__proto__', /__proto__/],
    ['a lone surrogate in a value', { s: 'a\ud800b' }, 'data.s', /well-formed Unicode/],
    ['a lone surrogate in a key', { 'k\udc00': 1 }, 'data["k\ufffd"]', /key that is not well-formed/],
    ['a key over 32 KiB', { ['é'.repeat(16 * 1024 + 1)]: 1 }, /^data\["é+…"\]$/, /key longer than 32768 bytes/],
  ])('refuses %s, naming the path', (_label, value, path, message) => {
    // Act
    const problem = findUnstorable(value, 'data');

    // Assess
    expect(problem?.path).toEqual(typeof path === 'string' ? path : expect.stringMatching(path));
    expect(problem?.message).toMatch(message);
  });

  it('refuses a value nested 6,000 levels deep without overflowing the stack', () => {
    // Prepare
    const value = JSON.parse(`${'['.repeat(6000)}1${']'.repeat(6000)}`) as unknown;

    // Act
    const problem = findUnstorable({ deep: value }, 'data');

    // Assess
    expect(problem?.message).toMatch(/nests deeper than 28 levels/);
    expect(problem?.path.startsWith('data.deep[0][0]')).toBe(true);
  });

  it('counts depth in containers: a scalar at the deepest level is fine, another container is not', () => {
    // Prepare
    const atLimit = nested(MAX_JSON_DEPTH);
    const overLimit = nested(MAX_JSON_DEPTH + 1);

    // Act
    const ok = findUnstorable(atLimit, 'v');
    const refused = findUnstorable(overLimit, 'v');

    // Assess
    expect(ok).toBeUndefined();
    expect(refused).toBeDefined();
  });
});
