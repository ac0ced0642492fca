// bench/results/<name>.svg: hand-written SVG, throughput and latency per scenario as horizontal
// bars (median) with min–max whiskers and the target as a dashed line; each group has its own scale.
import type { Summary } from '../stats.js';
import { num } from './format.js';
import type { BenchResults } from './results.js';

interface Row {
  readonly label: string;
  readonly value: Summary;
  /** Ours (the api / analyzer) or a reference. */
  readonly ours: boolean;
}

interface Group {
  readonly title: string;
  readonly unit: string;
  readonly rows: Row[];
  readonly target?: { value: number; label: string };
}

const WIDTH = 860;
const LABEL_W = 230;
const BAR_W = 460;
const ROW_H = 22;
const TITLE_H = 26;
const GAP = 14;
const COLORS = { ours: '#2b6cb0', reference: '#a0aec0', target: '#c53030', text: '#1a202c', muted: '#4a5568' };

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function svgChart(r: BenchResults): string {
  const s = r.scenarios;
  const throughput: Group[] = [];
  const latency: Group[] = [];
  const single = s['ingest-single'];
  if (single) {
    throughput.push({
      title: `Single-metric ingest, ${single.connections} connections`,
      unit: 'req/s',
      rows: [
        { label: 'api', value: single.servers.api.okPerSecond, ours: true },
        { label: 'ceiling (node:http + XADD)', value: single.servers.ceiling.okPerSecond, ours: false },
        { label: 'ceiling, coalesced writes', value: single.servers.coalesced.okPerSecond, ours: false },
        { label: 'bare Express 5, no work', value: single.servers.express.okPerSecond, ours: false },
      ],
      target: { value: 0.9 * single.servers.ceiling.okPerSecond.median, label: '0.9 × ceiling' },
    });
    latency.push({
      title: 'Single-metric ingest, request p99',
      unit: 'ms',
      rows: [
        { label: 'api', value: single.servers.api.latencyP99Ms, ours: true },
        { label: 'ceiling (node:http + XADD)', value: single.servers.ceiling.latencyP99Ms, ours: false },
        { label: 'ceiling, coalesced writes', value: single.servers.coalesced.latencyP99Ms, ours: false },
        { label: 'bare Express 5, no work', value: single.servers.express.latencyP99Ms, ours: false },
      ],
    });
  }
  const batch = s['ingest-batch'];
  if (batch) {
    throughput.push({
      title: `Batch ingest, arrays of ${batch.batchSize}`,
      unit: 'events/s',
      rows: [{ label: 'api', value: batch.eventsPerSecond, ours: true }],
      target: { value: 250_000, label: '250k' },
    });
  }
  const drain = s.drain;
  if (drain) {
    throughput.push({
      title: `Analyzer drain of ${num(drain.events)} entries`,
      unit: 'events/s',
      rows: [
        { label: '1 analyzer', value: drain.oneAnalyzer, ours: true },
        { label: '2 analyzers', value: drain.twoAnalyzers, ours: true },
      ],
      target: { value: 250_000, label: '250k' },
    });
  }
  const fresh = s.freshness;
  if (fresh) {
    latency.push({
      title: `Freshness at ${num(fresh.rate)}/s: 202 → /stats`,
      unit: 'ms',
      rows: [
        { label: 'api + analyzer, p50', value: fresh.targets.api.p50Ms, ours: true },
        { label: 'api + analyzer, p99', value: fresh.targets.api.p99Ms, ours: true },
        { label: 'null server (floor), p50', value: fresh.targets.null.p50Ms, ours: false },
        { label: 'null server (floor), p99', value: fresh.targets.null.p99Ms, ours: false },
      ],
      target: { value: 15, label: 'p99 ≤ 15' },
    });
  }

  const parts: string[] = [];
  let y = 36;
  const heading = (text: string) => {
    parts.push(`<text x="12" y="${y}" font-size="16" font-weight="bold" fill="${COLORS.text}">${esc(text)}</text>`);
    y += 12;
  };
  const group = (g: Group) => {
    y += TITLE_H - 8;
    parts.push(`<text x="12" y="${y}" font-size="13" font-weight="bold" fill="${COLORS.text}">${esc(g.title)} <tspan font-weight="normal" fill="${COLORS.muted}">(${esc(g.unit)}, median; whisker: min–max)</tspan></text>`);
    y += 8;
    const finite = (v: number) => (Number.isFinite(v) ? v : 0);
    const scaleMax = Math.max(1e-9, ...g.rows.map((row) => finite(row.value.max)), finite(g.target?.value ?? 0)) * 1.08;
    const x = (v: number) => LABEL_W + (finite(v) / scaleMax) * BAR_W;
    const top = y;
    for (const row of g.rows) {
      const cy = y + ROW_H / 2;
      parts.push(`<text x="${LABEL_W - 8}" y="${cy + 4}" font-size="12" text-anchor="end" fill="${COLORS.text}">${esc(row.label)}</text>`);
      parts.push(`<rect x="${LABEL_W}" y="${y + 4}" width="${(x(row.value.median) - LABEL_W).toFixed(1)}" height="${ROW_H - 8}" fill="${row.ours ? COLORS.ours : COLORS.reference}"/>`);
      if (row.value.n > 1) {
        parts.push(`<line x1="${x(row.value.min).toFixed(1)}" x2="${x(row.value.max).toFixed(1)}" y1="${cy}" y2="${cy}" stroke="${COLORS.text}" stroke-width="1"/>`);
        for (const v of [row.value.min, row.value.max]) parts.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${cy - 4}" y2="${cy + 4}" stroke="${COLORS.text}"/>`);
      }
      parts.push(`<text x="${(Math.max(x(row.value.median), x(row.value.max)) + 6).toFixed(1)}" y="${cy + 4}" font-size="12" fill="${COLORS.text}">${esc(num(row.value.median))}</text>`);
      y += ROW_H;
    }
    if (g.target && Number.isFinite(g.target.value)) {
      const tx = x(g.target.value).toFixed(1);
      parts.push(`<line x1="${tx}" x2="${tx}" y1="${top}" y2="${y}" stroke="${COLORS.target}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
      parts.push(`<text x="${tx}" y="${y + 11}" font-size="10" text-anchor="middle" fill="${COLORS.target}">${esc(g.target.label)}</text>`);
      y += 10;
    }
    y += GAP;
  };

  if (throughput.length) {
    heading('Throughput');
    throughput.forEach(group);
  }
  if (latency.length) {
    y += 8;
    heading('Latency');
    latency.forEach(group);
  }
  const note = `${r.meta.mode} run, ${r.meta.startedAt.slice(0, 10)}, ${r.meta.cpus.count} CPUs, load average before ${num(r.meta.loadAverage.before)}, CPU probe ${num(r.meta.host.probeMs.before)} ms`;
  parts.push(`<text x="12" y="${y + 6}" font-size="11" fill="${COLORS.muted}">${esc(note)}</text>`);
  const height = y + 18;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="18" font-size="13" fill="${COLORS.muted}">metrics-pipeline benchmark · blue: this pipeline · grey: reference servers · red dashed: target</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
