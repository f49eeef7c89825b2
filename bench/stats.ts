/** Summaries for benchmark samples: median and spread, never a single run. */

export interface Summary {
  n: number;
  median: number;
  p10: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i]!;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    median: quantile(s, 0.5),
    p10: quantile(s, 0.1),
    p90: quantile(s, 0.9),
    p99: quantile(s, 0.99),
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
  };
}

/** Times `fn` `iterations` times after `warmup` untimed runs; returns µs per call. */
export function sampleMicros(fn: () => void, iterations: number, warmup = Math.min(200, iterations)): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return out;
}

/** One row of a results table. */
export interface Row {
  group: string;
  name: string;
  unit: string;
  summary: Summary;
  /** Ratio against the row named as baseline in the same group (baseline / this for times). */
  ratio?: number;
  note?: string;
}

export function formatTable(rows: readonly Row[]): string {
  const header = ['group', 'benchmark', 'median', 'p10..p90', 'p99', 'n', 'ratio', 'note'];
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const lines = rows.map((r) => [
    r.group,
    r.name,
    `${fmt(r.summary.median)} ${r.unit}`,
    `${fmt(r.summary.p10)}..${fmt(r.summary.p90)}`,
    fmt(r.summary.p99),
    String(r.summary.n),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render)].join('\n');
}

/**
 * Like sampleMicros, but lets the event loop turn between runs (as a server does between
 * requests), so work a component defers off the request path is not counted in it.
 */
export async function sampleMicrosYielding(fn: () => void, iterations: number, warmup = Math.min(200, iterations)): Promise<number[]> {
  const turn = () => new Promise<void>((r) => setImmediate(r));
  for (let i = 0; i < warmup; i++) {
    fn();
    await turn();
  }
  const out: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t) / 1000);
    await turn();
  }
  return out;
}
