// Writes <dir>/<name>.json, .md and .svg.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { markdownReport } from './markdown-report.js';
import type { BenchResults } from './results.js';
import { svgChart } from './svg-chart.js';

/** JSON has no NaN or Infinity: those become null. */
function toJson(results: BenchResults): string {
  return `${JSON.stringify(results, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
}

export async function writeReports(results: BenchResults, dir: string, name: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = {
    json: join(dir, `${name}.json`),
    md: join(dir, `${name}.md`),
    svg: join(dir, `${name}.svg`),
  };
  await writeFile(files.json, toJson(results));
  await writeFile(files.md, markdownReport(results, `${name}.svg`));
  await writeFile(files.svg, svgChart(results));
  return Object.values(files);
}
