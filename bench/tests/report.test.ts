import { describe, expect, it } from 'vitest';
import { ratioVerdict } from '../report.ts';

describe('Function: ratioVerdict', () => {
  it.each([
    [0.795, 0.8, 'at-least', '0.795', false],
    [0.8, 0.8, 'at-least', '0.800', true],
    [0.8049, 0.8, 'at-least', '0.805', true],
    [1.2, 1.25, 'at-most', '1.200', true],
    [1.2504, 1.25, 'at-most', '1.2504', false],
  ] as const)('prints %f against %f (%s) as %s, pass %s', (ratio, target, direction, text, pass) => {
    // Act
    const result = ratioVerdict(ratio, target, direction);

    // Assess
    expect(result).toEqual({ text, pass });
  });

  it('adds digits rather than print a miss that rounds up to the target', () => {
    // Act
    const result = ratioVerdict(0.79996, 0.8, 'at-least');

    // Assess
    expect(result).toEqual({ text: '0.79996', pass: false });
  });

  it('adds digits rather than print a pass that rounds down past an at-most target', () => {
    // Act
    const result = ratioVerdict(1.2500004, 1.25, 'at-most');

    // Assess
    expect(result.pass).toBe(false);
    expect(Number(result.text)).toBeGreaterThan(1.25);
  });

  it('reports a ratio that is not a number as n/a and a miss', () => {
    // Act
    const result = ratioVerdict(Number.NaN, 0.8, 'at-least');

    // Assess
    expect(result).toEqual({ text: 'n/a', pass: false });
  });
});
