import { describe, expect, it } from 'vitest';
import { cpuPerCommand, pairedRatios, ratioVerdict } from '../report.ts';

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

describe('Function: pairedRatios', () => {
  it('divides each round of the bus by the same round of the floor and takes the median', () => {
    // Act
    const result = pairedRatios([80, 90, 100, 70], [100, 100, 100, 100]);

    // Assess
    expect(result.ratios).toEqual([0.8, 0.9, 1, 0.7]);
    expect(result.median).toBeCloseTo(0.85, 10);
  });

  it('takes the middle value of an odd number of rounds', () => {
    // Act
    const result = pairedRatios([1, 3, 2], [1, 1, 1]);

    // Assess
    expect(result.median).toBe(2);
  });
});

describe('Function: cpuPerCommand', () => {
  it('divides the CPU time used by the commands of the run', () => {
    // Prepare
    const result = { ids: ['a', 'b', 'c', 'd'], cpu: { nodeMs: 8, jvmMs: 10, nodePercent: 0, eventLoopPercent: 0, jvmPercent: 0 } };

    // Act
    const perCommand = cpuPerCommand(result);

    // Assess
    expect(perCommand).toEqual({ node: 2, jvm: 2.5, total: 4.5 });
  });

  it('leaves the JVM out when it could not be measured', () => {
    // Prepare
    const result = { ids: ['a'], cpu: { nodeMs: 3, jvmMs: undefined, nodePercent: 0, eventLoopPercent: 0, jvmPercent: undefined } };

    // Act
    const perCommand = cpuPerCommand(result);

    // Assess
    expect(perCommand).toEqual({ node: 3, jvm: undefined, total: undefined });
  });
});
