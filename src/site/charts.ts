/**
 * Statistics charts drawn on the server as SVG (no client library, no CDN). Every label passes
 * through escapeHtml; styling comes from classes in the site's stylesheet (the CSP allows no
 * inline styles). Each chart has a text alternative next to it in the page (a data table).
 */
import { escapeHtml } from '../text/html';

const fmt = (n: number): string => (Math.round(n * 10) / 10).toString();

/** A step of 1, 2 or 5 × 10^k giving about `target` intervals up to `max`. */
export function niceStep(max: number, target = 4): number {
  if (max <= 0) return 1;
  const raw = max / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  return Math.max(1, step);
}

export interface BarRow {
  label: string;
  value: number;
  /** The value as shown (formatted for the locale). */
  display: string;
}

/**
 * Ranked horizontal bars: real text for labels and values, and a small SVG per bar that scales
 * with its column, so the chart reads well on a phone without shrinking the text.
 */
export function rankedBars(rows: readonly BarRow[], options: { label: string }): string {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const items = rows
    .map((r) => {
      const w = fmt((r.value / max) * 100);
      return (
        `<li><span class="bar-label">${escapeHtml(r.label)}</span>` +
        `<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false"><rect class="bar-track" width="100" height="10"/><rect class="bar-fill" width="${w}" height="10"/></svg>` +
        `<span class="bar-value">${escapeHtml(r.display)}</span></li>`
      );
    })
    .join('');
  return `<ol class="bars" aria-label="${escapeHtml(options.label)}">${items}</ol>`;
}

export interface SeriesPoint {
  /** Label under the x axis (already formatted). */
  label: string;
  value: number;
}

interface Frame {
  w: number;
  h: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const FRAME: Frame = { w: 640, h: 260, left: 52, right: 24, top: 16, bottom: 40 };

function axes(
  f: Frame,
  maxValue: number,
  formatValue: (n: number) => string,
): { y: (v: number) => number; top: number; svg: string } {
  const step = niceStep(maxValue);
  const top = Math.max(step, Math.ceil(maxValue / step) * step);
  const plotH = f.h - f.top - f.bottom;
  const y = (v: number) => f.top + plotH - (v / top) * plotH;
  let svg = '';
  for (let v = 0; v <= top + 1e-9; v += step) {
    const yy = fmt(y(v));
    svg += `<line class="chart-grid" x1="${f.left}" x2="${f.w - f.right}" y1="${yy}" y2="${yy}"/>`;
    svg += `<text class="chart-tick" x="${f.left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">${escapeHtml(formatValue(v))}</text>`;
  }
  svg += `<line class="chart-axis" x1="${f.left}" x2="${f.w - f.right}" y1="${fmt(y(0))}" y2="${fmt(y(0))}"/>`;
  return { y, top, svg };
}

/** Up to `max` evenly spread indices, always including the first and the last. */
function labelIndices(n: number, max = 6): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out = new Set<number>();
  for (let k = 0; k < max; k++) out.add(Math.round((k * (n - 1)) / (max - 1)));
  return [...out];
}

function xLabels(f: Frame, points: readonly SeriesPoint[], x: (i: number) => number): string {
  return labelIndices(points.length, 5)
    .map((i) => {
      const anchor =
        points.length > 1 && i === 0
          ? 'start'
          : points.length > 1 && i === points.length - 1
            ? 'end'
            : 'middle';
      return `<text class="chart-tick" x="${fmt(x(i))}" y="${f.h - f.bottom + 20}" text-anchor="${anchor}">${escapeHtml(points[i].label)}</text>`;
    })
    .join('');
}

function svgOpen(f: Frame, id: string, title: string, desc: string): string {
  return (
    `<svg class="chart" viewBox="0 0 ${f.w} ${f.h}" role="img" aria-labelledby="${id}-title ${id}-desc" focusable="false">` +
    `<title id="${id}-title">${escapeHtml(title)}</title><desc id="${id}-desc">${escapeHtml(desc)}</desc>`
  );
}

export interface ChartOptions {
  id: string;
  title: string;
  desc: string;
  formatValue: (n: number) => string;
}

/** The frame, the value axis scaled to the largest point (at least 1) and the plot's width. */
function plotArea(points: readonly SeriesPoint[], options: ChartOptions) {
  const f = FRAME;
  const max = Math.max(1, ...points.map((p) => p.value));
  const { y, svg: grid } = axes(f, max, options.formatValue);
  return { f, y, grid, plotW: f.w - f.left - f.right };
}

/** A line with a shaded area, e.g. the cumulative number of signatories. */
export function lineChart(points: readonly SeriesPoint[], options: ChartOptions): string {
  const { f, y, grid, plotW } = plotArea(points, options);
  const x = (i: number) =>
    points.length <= 1 ? f.left + plotW / 2 : f.left + (i / (points.length - 1)) * plotW;
  let body = grid;
  if (points.length > 0) {
    const coords = points.map((p, i) => `${fmt(x(i))},${fmt(y(p.value))}`);
    const base = fmt(y(0));
    body += `<polygon class="chart-area" points="${fmt(x(0))},${base} ${coords.join(' ')} ${fmt(x(points.length - 1))},${base}"/>`;
    body += `<polyline class="chart-line" points="${coords.join(' ')}"/>`;
    const last = points.length - 1;
    body += `<circle class="chart-dot" cx="${fmt(x(last))}" cy="${fmt(y(points[last].value))}" r="4"/>`;
    body += xLabels(f, points, x);
  }
  return `${svgOpen(f, options.id, options.title, options.desc)}${body}</svg>`;
}

/** Vertical columns, e.g. new signatories per day or month. */
export function columnChart(points: readonly SeriesPoint[], options: ChartOptions): string {
  const { f, y, grid, plotW } = plotArea(points, options);
  const slot = plotW / Math.max(1, points.length);
  const barW = Math.max(1, Math.min(48, slot * 0.7));
  const x = (i: number) => f.left + slot * i + slot / 2;
  let body = grid;
  points.forEach((p, i) => {
    const top = y(p.value);
    const h = y(0) - top;
    if (h > 0)
      body += `<rect class="chart-col" x="${fmt(x(i) - barW / 2)}" y="${fmt(top)}" width="${fmt(barW)}" height="${fmt(h)}"/>`;
  });
  body += xLabels(f, points, x);
  return `${svgOpen(f, options.id, options.title, options.desc)}${body}</svg>`;
}

const DAY_MS = 86_400_000;

/** Calendar days from `first` to `last` (YYYY-MM-DD, inclusive); dates are compared at UTC noon to dodge DST. */
export function daysBetween(first: string, last: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${last}T12:00:00Z`);
  for (let t = Date.parse(`${first}T12:00:00Z`); t <= end && out.length < 20_000; t += DAY_MS) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

export interface TimeBuckets {
  unit: 'day' | 'month';
  /** Bucket keys: YYYY-MM-DD for days, YYYY-MM for months. */
  keys: string[];
  added: number[];
  cumulative: number[];
}

/**
 * Fills the days without signatures and, for long spans, groups by month so columns stay
 * readable. Input: counts per day (YYYY-MM-DD), in any order.
 */
export function bucketByTime(
  byDay: ReadonlyArray<{ day: string; count: number }>,
  maxDailyBuckets = 92,
): TimeBuckets {
  if (byDay.length === 0) return { unit: 'day', keys: [], added: [], cumulative: [] };
  const counts = new Map(byDay.map((d) => [d.day, d.count]));
  const sorted = [...counts.keys()].sort();
  const days = daysBetween(sorted[0], sorted[sorted.length - 1]);
  const unit = days.length > maxDailyBuckets ? 'month' : 'day';
  const keys: string[] = [];
  const added: number[] = [];
  for (const day of days) {
    const key = unit === 'day' ? day : day.slice(0, 7);
    if (keys[keys.length - 1] !== key) {
      keys.push(key);
      added.push(0);
    }
    added[added.length - 1] += counts.get(day) ?? 0;
  }
  let sum = 0;
  const cumulative = added.map((n) => (sum += n));
  return { unit, keys, added, cumulative };
}

/** The bucket before `key` (the day or month before), for a line that starts from zero. */
export function previousKey(unit: TimeBuckets['unit'], key: string): string {
  if (unit === 'day')
    return new Date(Date.parse(`${key}T12:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
  const [y, m] = key.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}
