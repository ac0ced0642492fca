// Scenario 1: single-metric POST /ingest under the same closed-loop load, run by run interleaved:
// the api, the ceiling (bare node:http + XADD, auto-pipelined: the issue's reference), the same
// ceiling with the api's write coalescing, and a bare Express 5 app. The ratios are taken within
// each run (adjacent measurements), then summarized.
import { seriesKeys } from '@pipeline/redis';
import { startApi, startReferenceServer, type HttpService } from '../environment.js';
import { fmt } from '../progress.js';
import { cpuMsPer10k, ProcessSampler } from '../proc-sampler.js';
import { rotate, summarize, type Summary } from '../stats.js';
import { own, type BenchContext, type ClosedLoopRun } from './context.js';

export const SERVERS = ['api', 'ceiling', 'coalesced', 'express'] as const;
export type SingleServer = (typeof SERVERS)[number];

export interface IngestSingleResult {
  readonly tool: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly body: string;
  readonly servers: Record<SingleServer, { runs: ClosedLoopRun[]; okPerSecond: Summary; latencyP99Ms: Summary }>;
  readonly ratios: {
    readonly apiToCeiling: { perRun: number[]; summary: Summary };
    /** The api's own cost: the ceiling writing to Redis the way the api does. */
    readonly apiToCoalesced: { perRun: number[]; summary: Summary };
    readonly apiToExpress: { perRun: number[]; summary: Summary };
  };
}

const BODY = JSON.stringify({ timestamp: 1764000000, cpu: 55.5, rps: 1800 });
const PREFIX = { api: 'bench-single-api', ceiling: 'bench-single-ceiling', coalesced: 'bench-single-coalesced' } as const;

export async function ingestSingle(ctx: BenchContext): Promise<IngestSingleResult> {
  const { options, progress, client, redis } = ctx;
  progress.say('ingest-single: starting the api, the ceiling servers and the bare Express server');
  const services = {} as Record<SingleServer, HttpService>;
  const stops: (() => Promise<void>)[] = [];
  try {
    services.api = await startApi(redis.url, PREFIX.api);
    stops.push(own(ctx, services.api));
    services.ceiling = await startReferenceServer('ceiling', { REDIS_URL: redis.url, KEY_PREFIX: PREFIX.ceiling });
    stops.push(own(ctx, services.ceiling));
    services.coalesced = await startReferenceServer('ceiling', { REDIS_URL: redis.url, KEY_PREFIX: PREFIX.coalesced, REDIS_WRITES: 'coalesced' });
    stops.push(own(ctx, services.coalesced));
    services.express = await startReferenceServer('express');
    stops.push(own(ctx, services.express));

    const runs: Record<SingleServer, ClosedLoopRun[]> = { api: [], ceiling: [], coalesced: [], express: [] };
    let tool = '';
    for (let run = 0; run < options.runs; run++) {
      for (const name of rotate(SERVERS, run)) {
        const service = services[name];
        const load = { url: `${service.url}/ingest`, body: BODY, connections: options.connections };
        await trimStreams(ctx);
        if (options.warmupSeconds > 0) await ctx.load({ ...load, durationSeconds: options.warmupSeconds });
        const sampler = new ProcessSampler({ server: service.pid, redis: redis.pid }).start();
        const result = await progress.during(
          `ingest-single run ${run + 1}/${options.runs} ${name.padEnd(9)}`,
          options.durationSeconds,
          ctx.load({ ...load, durationSeconds: options.durationSeconds }),
          (r) => `${fmt(r.okPerSecond)} req/s  p99 ${fmt(r.latencyP99Ms, 1)} ms${r.failed ? `  failed ${r.failed}` : ''}`,
        );
        const usage = sampler.stop();
        tool = result.tool;
        runs[name].push({
          run,
          okPerSecond: result.okPerSecond,
          latencyP50Ms: result.latencyP50Ms,
          latencyP99Ms: result.latencyP99Ms,
          failed: result.failed,
          cpuMsPer10k: cpuMsPer10k(usage['server'], result.ok),
          redisCpuMsPer10k: name === 'express' ? Number.NaN : cpuMsPer10k(usage['redis'], result.ok),
          maxRssBytes: usage['server']!.maxRssBytes,
        });
      }
    }
    await trimStreams(ctx);
    const ratio = (a: SingleServer, b: SingleServer) => runs[a].map((r, i) => r.okPerSecond / runs[b][i]!.okPerSecond);
    const apiToCeiling = ratio('api', 'ceiling');
    const apiToCoalesced = ratio('api', 'coalesced');
    const apiToExpress = ratio('api', 'express');
    const median = (ratios: number[]) => `${fmt(summarize(ratios).median, 2)}×`;
    progress.say(
      `ingest-single: api/ceiling ${median(apiToCeiling)}, api/coalesced ceiling ${median(apiToCoalesced)}, api/express ${median(apiToExpress)} (medians of per-run ratios)`,
    );
    const servers = Object.fromEntries(
      SERVERS.map((name) => [
        name,
        { runs: runs[name], okPerSecond: summarize(runs[name].map((r) => r.okPerSecond)), latencyP99Ms: summarize(runs[name].map((r) => r.latencyP99Ms)) },
      ]),
    ) as IngestSingleResult['servers'];
    return {
      tool,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      body: BODY,
      servers,
      ratios: {
        apiToCeiling: { perRun: apiToCeiling, summary: summarize(apiToCeiling) },
        apiToCoalesced: { perRun: apiToCoalesced, summary: summarize(apiToCoalesced) },
        apiToExpress: { perRun: apiToExpress, summary: summarize(apiToExpress) },
      },
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

/** Empties the two streams (keeping the group): every run starts from the same Redis memory. */
async function trimStreams(ctx: BenchContext): Promise<void> {
  for (const prefix of Object.values(PREFIX)) await ctx.client.xtrim(seriesKeys(prefix).events, 'MAXLEN', 0);
}
