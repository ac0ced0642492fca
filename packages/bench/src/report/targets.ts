// Every target of the issue, checked against the measured medians (benchmarks, not tests: the
// report says met / not met, nothing fails).
import { summarize, type Summary } from '../stats.js';
import type { Footprint, ScenarioResults, TargetCheck } from './results.js';

const MB = 1024 * 1024;
const none: Summary = { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
const single = (v: number): Summary => summarize([v]);

function check(id: string, label: string, value: Summary | undefined, unit: string, target: string): TargetCheck {
  const v = value ?? none;
  const m = /^([≥≤]) (.+)$/.exec(target);
  const goal = m ? { op: m[1] as '≥' | '≤', value: Number(m[2]) } : null;
  const met = goal && v.n > 0 ? (goal.op === '≥' ? v.median >= goal.value : v.median <= goal.value) : null;
  return { id, label, value: v, unit, target: goal, met };
}

export function evaluateTargets(s: ScenarioResults, fp: Footprint): TargetCheck[] {
  const single1 = s['ingest-single'];
  const batch = s['ingest-batch'];
  const drain = s.drain;
  const fresh = s.freshness;
  const checks: TargetCheck[] = [
    check('single.api', 'single-metric ingest, api', single1?.servers.api.okPerSecond, 'req/s', ''),
    check('single.apiToCeiling', 'single-metric ingest, api ÷ ceiling (node:http + XADD)', single1?.ratios.apiToCeiling.summary, '×', '≥ 0.9'),
    check('single.apiToCoalesced', "single-metric ingest, api ÷ the ceiling writing as the api does (the api's own cost)", single1?.ratios.apiToCoalesced.summary, '×', ''),
    check('single.apiToExpress', 'single-metric ingest, api ÷ bare Express 5', single1?.ratios.apiToExpress.summary, '×', '≥ 2'),
    check('batch.eventsPerSecond', `batch ingest (arrays of ${batch?.batchSize ?? 1000}), api`, batch?.eventsPerSecond, 'events/s', '≥ 250000'),
    check('drain.one', `drain of ${drain ? drain.events.toLocaleString('en-US') : 'N'} entries, 1 analyzer`, drain?.oneAnalyzer, 'events/s', '≥ 250000'),
    check('drain.oneSecondHalf', 'drain, 1 analyzer, over the second half of each drain (less of the process warm-up)', drain?.oneAnalyzerSecondHalf, 'events/s', ''),
    check('drain.oneRedisBound', "drain, 1 analyzer, the most Redis's measured CPU per event allows (its one thread busy all the time)", drain?.oneAnalyzerBounds.redisThread, 'events/s', ''),
    check('drain.oneAllCoresBound', 'drain, 1 analyzer, the most the analyzer and Redis CPU per event allow with every core busy', drain?.oneAnalyzerBounds.allCores, 'events/s', ''),
    check('drain.twoToOne', 'drain, 2 analyzers ÷ 1', drain?.twoToOne.summary, '×', '≥ 0.8'),
    check('drain.inexact', 'drain, runs whose stats were not exact (count, last_id, avg_cpu, avg_rps)', drain ? single(drain.runs.filter((r) => !r.exact).length) : undefined, 'runs', '≤ 0'),
    check('freshness.apiP99', `freshness at ${fresh?.rate ?? 2000}/s, api: p99 202 → /stats`, fresh?.targets.api.p99Ms, 'ms', '≤ 15'),
    check('freshness.apiUnreflected', 'freshness, api: events never reflected', fresh ? single(fresh.targets.api.unreflected) : undefined, 'events', '≤ 0'),
    check('freshness.nullP99', 'freshness, null server (harness floor): p99', fresh?.targets.null.p99Ms, 'ms', ''),
    check('footprint.apiRss', 'api peak RSS under load', Number.isFinite(fp.maxRssBytes.api) ? single(fp.maxRssBytes.api / MB) : undefined, 'MB', '≤ 120'),
    check('footprint.analyzerRss', 'analyzer peak RSS under load', Number.isFinite(fp.maxRssBytes.analyzer) ? single(fp.maxRssBytes.analyzer / MB) : undefined, 'MB', '≤ 120'),
  ];
  return checks.filter((c) => c.value.n > 0);
}
