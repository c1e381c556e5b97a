/**
 * The behaviour mix of a load run (`success=80,fail_permanent=10,…`): which behaviour of the test
 * application each command asks for (in its payload, `data.behavior`), the exact number of each, and
 * the status each must end in.
 */
import { CommandStatus } from '@commandbus/core';

export const MIX_BEHAVIOURS = {
  success: { behavior: { type: 'success' }, ends: CommandStatus.COMPLETED },
  fail_permanent: { behavior: { type: 'fail_permanent', error_code: 'LOAD_PERMANENT' }, ends: CommandStatus.IN_TSQ },
  fail_transient: { behavior: { type: 'fail_transient', error_code: 'LOAD_TRANSIENT' }, ends: CommandStatus.IN_TSQ },
  fail_transient_then_succeed: { behavior: { type: 'fail_transient_then_succeed', transient_failures: 1 }, ends: CommandStatus.COMPLETED },
  timeout: { behavior: { type: 'timeout', timeout_ms: 3_600_000 }, ends: CommandStatus.IN_TSQ },
} as const;
export type MixBehaviour = keyof typeof MIX_BEHAVIOURS;

export type Mix = { behaviour: MixBehaviour; weight: number }[];

export class MixError extends Error {
  override name = 'MixError';
}

export function parseMix(text: string): Mix {
  const mix: Mix = [];
  for (const part of text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const [name, weightText, ...rest] = part.split('=');
    if (!name || weightText === undefined || rest.length > 0) throw new MixError(`"${part}" is not name=weight`);
    if (!(name in MIX_BEHAVIOURS)) throw new MixError(`"${name}" is not a behaviour of the test app (${Object.keys(MIX_BEHAVIOURS).join(', ')})`);
    const weight = Number(weightText);
    if (!Number.isFinite(weight) || weight < 0) throw new MixError(`the weight of ${name} must be a number from 0 (got "${weightText}")`);
    if (mix.some((entry) => entry.behaviour === name)) throw new MixError(`${name} is given twice`);
    mix.push({ behaviour: name as MixBehaviour, weight });
  }
  if (mix.length === 0 || mix.every((entry) => entry.weight === 0)) throw new MixError('needs at least one behaviour with a weight above 0');
  return mix;
}

/**
 * How many commands of `count` get each behaviour: proportional to the weights, rounded so that
 * they add up to `count` exactly (largest remainders first).
 */
export function apportion(mix: Mix, count: number): Record<MixBehaviour, number> {
  const total = mix.reduce((sum, entry) => sum + entry.weight, 0);
  const shares = mix.map((entry) => ({ behaviour: entry.behaviour, exact: (count * entry.weight) / total }));
  const counts = Object.fromEntries(Object.keys(MIX_BEHAVIOURS).map((name) => [name, 0])) as Record<MixBehaviour, number>;
  for (const share of shares) counts[share.behaviour] = Math.floor(share.exact);
  let left = count - shares.reduce((sum, share) => sum + Math.floor(share.exact), 0);
  for (const share of [...shares].sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)))) {
    if (left === 0) break;
    counts[share.behaviour]++;
    left--;
  }
  return counts;
}

/** The behaviour of each command in send order: the apportioned counts, spread evenly over the run. */
export function schedule(counts: Record<MixBehaviour, number>): MixBehaviour[] {
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const order: MixBehaviour[] = [];
  const given = Object.fromEntries(Object.keys(counts).map((name) => [name, 0])) as Record<MixBehaviour, number>;
  for (let i = 0; i < total; i++) {
    // The behaviour furthest behind its share so far goes next: an even interleaving, deterministic.
    let best: MixBehaviour | undefined;
    let bestLag = Number.NEGATIVE_INFINITY;
    for (const [name, n] of Object.entries(counts) as [MixBehaviour, number][]) {
      if (given[name] >= n) continue;
      const lag = ((i + 1) * n) / total - given[name];
      if (lag > bestLag) {
        bestLag = lag;
        best = name;
      }
    }
    order.push(best!);
    given[best!]++;
  }
  return order;
}
