/**
 * "Did you mean": the nearest of a set of words to a typo, for verbs (`nanovisor bulid`),
 * flags (`--evn`) and template names. One distance, one nearness rule, used everywhere.
 */

/** Edit distance with adjacent transpositions (optimal string alignment): `bulid` → `build` is 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate `word` is most likely a typo of: within 1 edit of a candidate of up to 4
 * letters, 2 of a longer one (case ignored); undefined when none is that near, or when two
 * are equally near.
 *
 * @example
 * nearest('bulid', ['build', 'run']); // 'build'
 * nearest('hello', ['build', 'run']); // undefined
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  let tie = false;
  for (const c of new Set(candidates)) {
    const d = editDistance(w, c.toLowerCase());
    if (d > (c.length <= 4 ? 1 : 2)) continue;
    if (d < bestDistance) [best, bestDistance, tie] = [c, d, false];
    else if (d === bestDistance) tie = true;
  }
  return tie ? undefined : best;
}
