/** Latency summaries and plain-text tables for bench reports. Pure. */

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (q in 0..1). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: ArrayLike<number>): Summary {
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    count: s.length,
    min: s.length ? s[0]! : NaN,
    mean: s.length ? sum / s.length : NaN,
    p50: percentile(s, 0.5),
    p90: percentile(s, 0.9),
    p99: percentile(s, 0.99),
    max: s.length ? s[s.length - 1]! : NaN,
  };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Rounds for display and JSON: 3 significant digits below 100, whole numbers above. */
export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  if (Math.abs(n) >= 100) return Math.round(n);
  return Number(n.toPrecision(3));
}

export function fmt(n: number | undefined, unit = ''): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  const r = round(n);
  return (Math.abs(r) >= 1000 ? r.toLocaleString('en-US') : String(r)) + unit;
}

/** Cores busy, two decimals. */
export const cores = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(2));

/** A table with a header row, columns padded; numeric-looking cells right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = (s: string) => /^(—|[×~]?-?[\d.,]+ ?(ms|MB|%|\/s)?)$/.test(s);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric(c) && i > 0 ? c.padStart(width[i]!) : c.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), width.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Runs of one measurement: their range, median, and each (rounded). */
export interface Spread {
  min: number;
  median: number;
  max: number;
  runs: number[];
}

export const spreadOf = (runs: number[]): Spread => ({ min: round(Math.min(...runs)), median: round(median(runs)), max: round(Math.max(...runs)), runs: runs.map(round) });
