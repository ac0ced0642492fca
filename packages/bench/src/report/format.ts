// Number formatting shared by the Markdown and SVG reports.
import type { Summary } from '../stats.js';

/** Significant-looking formatting: 1234567 → "1,234,567", 0.934 → "0.93", 3.14159 → "3.1". */
export function num(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) + unit;
}

export function spread(s: Summary): string {
  if (s.n <= 1) return '–';
  return `${num(s.min)} – ${num(s.max)}`;
}

export const mb = (bytes: number) => num(bytes / (1024 * 1024));

/** A target as text: "≥ 250,000 events/s". */
export function targetText(target: { op: string; value: number } | null, unit: string): string {
  if (!target) return '–';
  const value = Number.isInteger(target.value) ? target.value.toLocaleString('en-US') : String(target.value);
  return `${target.op} ${value}${unit === '×' ? '×' : ` ${unit}`}`;
}

/** A measured value with its unit: "0.93×", "12,345 req/s". */
export function valueText(value: number, unit: string): string {
  if (unit === '×') return `${num(value)}×`;
  return `${Number.isInteger(value) ? value.toLocaleString('en-US') : num(value)} ${unit}`;
}
