// Scenario results → the footprint: peak RSS of the api and the analyzer, CPU per 10k events.
import { summarize, type Summary } from '../stats.js';
import type { Footprint, ScenarioResults } from './results.js';

export function footprint(s: ScenarioResults): Footprint {
  const apiRss: number[] = [];
  const analyzerRss: number[] = [];
  const cpu: Record<string, Summary> = {};
  const add = (name: string, values: number[]) => {
    const summary = summarize(values);
    if (summary.n > 0) cpu[name] = summary;
  };
  const single = s['ingest-single'];
  if (single) {
    apiRss.push(...single.servers.api.runs.map((r) => r.maxRssBytes));
    add('api, single-metric ingest', single.servers.api.runs.map((r) => r.cpuMsPer10k));
    add('ceiling server, single-metric ingest', single.servers.ceiling.runs.map((r) => r.cpuMsPer10k));
    add('ceiling server with coalesced writes, single-metric ingest', single.servers.coalesced.runs.map((r) => r.cpuMsPer10k));
    add('redis, single-metric ingest (api)', single.servers.api.runs.map((r) => r.redisCpuMsPer10k));
  }
  const batch = s['ingest-batch'];
  if (batch) {
    apiRss.push(...batch.runs.map((r) => r.maxRssBytes));
    add('api, batch ingest', batch.runs.map((r) => r.cpuMsPer10k));
    add('redis, batch ingest', batch.runs.map((r) => r.redisCpuMsPer10k));
  }
  const drain = s.drain;
  if (drain) {
    analyzerRss.push(...drain.runs.map((r) => r.maxRssBytes));
    add('analyzer, drain (1 analyzer)', drain.runs.filter((r) => r.analyzers === 1).map((r) => r.cpuMsPer10k));
    add('analyzers, drain (2 analyzers, summed)', drain.runs.filter((r) => r.analyzers === 2).map((r) => r.cpuMsPer10k));
    add('redis, drain (1 analyzer)', drain.runs.filter((r) => r.analyzers === 1).map((r) => r.redisCpuMsPer10k));
  }
  const fresh = s.freshness;
  if (fresh) {
    const api = fresh.runs.filter((r) => r.target === 'api');
    apiRss.push(...api.map((r) => r.apiMaxRssBytes));
    analyzerRss.push(...api.map((r) => r.analyzerMaxRssBytes));
    add(`api, steady ${fresh.rate}/s (incl. serving the poller's /stats)`, api.map((r) => r.apiCpuMsPer10k));
    add(`analyzer, steady ${fresh.rate}/s`, api.map((r) => r.analyzerCpuMsPer10k));
    add(`redis, steady ${fresh.rate}/s`, api.map((r) => r.redisCpuMsPer10k));
  }
  const peak = (values: number[]) => {
    const finite = values.filter(Number.isFinite);
    return finite.length ? Math.max(...finite) : Number.NaN;
  };
  return { maxRssBytes: { api: peak(apiRss), analyzer: peak(analyzerRss) }, cpuMsPer10k: cpu };
}
