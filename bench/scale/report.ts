/**
 * Figures of the scale benchmark: each is a set of samples summarised as median and spread
 * (min..max, or percentiles for latency distributions), compared against its target, printed as
 * a table for people and as one `BENCH name=value unit` line per figure for machines.
 */

export interface Figure {
  readonly name: string;
  readonly unit: string;
  /** The headline value (median, or the percentile the target is about). */
  readonly value: number;
  /** How it spread across runs, for the table ("min..max of 3", "p50 4.1 / p99 7.9 of 200"). */
  readonly spread: string;
  /** "≤ 2000 ms", or undefined when there is no target. */
  readonly target?: string;
  readonly met?: boolean;
}

export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const s = [...samples].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[idx] as number;
}

export const median = (samples: readonly number[]): number => {
  if (samples.length === 0) return Number.NaN;
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

const round = (v: number) => (Math.abs(v) >= 100 ? Math.round(v) : Number(v.toPrecision(3)));

/** A run-to-run figure: median with min..max. */
export function runsFigure(name: string, unit: string, samples: readonly number[], limit?: number): Figure {
  const value = median(samples);
  const spread = `min ${round(Math.min(...samples))} .. max ${round(Math.max(...samples))} (n=${samples.length})`;
  return limited({ name, unit, value, spread }, limit);
}

/** A latency distribution figure at quantile q (0.5 or 0.99). */
export function quantileFigure(
  name: string,
  unit: string,
  samples: readonly number[],
  q: number,
  limit?: number,
): Figure {
  const spread = `p50 ${round(quantile(samples, 0.5))} / p99 ${round(quantile(samples, 0.99))} / max ${round(Math.max(...samples))} (n=${samples.length})`;
  return limited({ name, unit, value: quantile(samples, q), spread }, limit);
}

export function single(name: string, unit: string, value: number, spread = "", limit?: number): Figure {
  return limited({ name, unit, value, spread }, limit);
}

function limited(f: Figure, limit: number | undefined): Figure {
  if (limit === undefined) return f;
  return { ...f, target: `≤ ${limit} ${f.unit}`, met: f.value <= limit };
}

export function printTable(title: string, figures: readonly Figure[]): void {
  const rows = figures.map((f) => [
    f.name,
    `${round(f.value)} ${f.unit}`,
    f.spread,
    f.target ?? "",
    f.met === undefined ? "" : f.met ? "met" : "MISSED",
  ]);
  const head = ["figure", "value", "spread", "target", ""];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  console.log(`\n${title}`);
  console.log(line(head));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) console.log(line(r));
}

export function printBenchLines(figures: readonly Figure[]): void {
  for (const f of figures) console.log(`BENCH ${f.name}=${round(f.value)} ${f.unit}`);
}
