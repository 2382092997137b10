/** Small helpers shared by the benchmarks: percentiles, RSS of a process, and report lines. */
import fs from 'node:fs';

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const i = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[i];
}

export function summarize(samplesMs: number[]): {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
} {
  const s = [...samplesMs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), mean };
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs `fn` with `concurrency` workers until `total` calls are done; returns elapsed ms. */
export async function runConcurrent(
  total: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const start = nowMs();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await fn(next++);
    }),
  );
  return nowMs() - start;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  baselineName?: string;
  baseline?: number;
  target?: string;
  /** Whether the target holds; undefined when there is no target. */
  met?: boolean;
}

const fmt = (n: number): string =>
  Number.isInteger(n) || Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(3);

export function printFigures(title: string, figures: Figure[]): void {
  process.stdout.write(`\n== ${title}\n`);
  for (const f of figures) {
    let line = `  ${f.name}: ${fmt(f.value)} ${f.unit}`;
    if (f.baseline !== undefined)
      line += `  | baseline ${f.baselineName}: ${fmt(f.baseline)} (ratio ${(f.value / f.baseline).toFixed(2)}×)`;
    if (f.target) line += `  | target ${f.target}: ${f.met ? 'MET' : 'NOT MET'}`;
    process.stdout.write(line + '\n');
  }
}
