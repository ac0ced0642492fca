// Scenario 4: freshness. At a steady rate, the time from an event's 202 to /stats reflecting it.
// A sender process sends at the fixed rate and stamps each 202 (id, shared clock); a poller
// process reads GET /stats in a tight loop and stamps each change; the latencies are matched up
// afterwards (freshness/latency.ts). The same harness runs against the null server (ids assigned
// and reflected at once), interleaved run by run, to show the harness's own floor.
import { fileURLToPath } from 'node:url';
import { compareStreamIds } from '@pipeline/redis';
import { startAnalyzer, startApi, startReferenceServer, type HttpService } from '../environment.js';
import { forkChild } from '../child-ipc.js';
import { freshnessLatencies } from '../freshness/latency.js';
import type { PollerReport, SenderReport } from '../freshness/messages.js';
import { fmt } from '../progress.js';
import { cpuMsPer10k, ProcessSampler } from '../proc-sampler.js';
import { latencyPercentiles, rotate, summarize, type Summary } from '../stats.js';
import { own, type BenchContext } from './context.js';

const SENDER = fileURLToPath(new URL('../freshness/sender-process.js', import.meta.url));
const POLLER = fileURLToPath(new URL('../freshness/poller-process.js', import.meta.url));
const PREFIX = 'bench-fresh';

export const FRESHNESS_TARGETS = ['api', 'null'] as const;
export type FreshnessTarget = (typeof FRESHNESS_TARGETS)[number];

export interface FreshnessRun {
  readonly run: number;
  readonly target: FreshnessTarget;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Events measured (202'd after the warm-up), and those never seen in /stats. */
  readonly events: number;
  readonly unreflected: number;
  readonly achievedRate: number;
  readonly failed: number;
  readonly skipped: number;
  readonly pollsPerSecond: number;
  readonly medianPollMs: number;
  /** api and analyzer (api target only): CPU ms per 10k events and peak RSS during the run. */
  readonly apiCpuMsPer10k: number;
  readonly analyzerCpuMsPer10k: number;
  readonly redisCpuMsPer10k: number;
  readonly apiMaxRssBytes: number;
  readonly analyzerMaxRssBytes: number;
}

export interface FreshnessResult {
  readonly rate: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly runs: FreshnessRun[];
  readonly targets: Record<FreshnessTarget, { p50Ms: Summary; p99Ms: Summary; maxMs: Summary; unreflected: number }>;
}

const isReady = (m: unknown): m is 'ready' => m === 'ready';
const isSender = (m: unknown): m is SenderReport => (m as SenderReport | null)?.kind === 'sender';
const isPoller = (m: unknown): m is PollerReport => (m as PollerReport | null)?.kind === 'poller';

export async function freshness(ctx: BenchContext): Promise<FreshnessResult> {
  const { options, progress, redis } = ctx;
  progress.say('freshness: starting the api, one analyzer and the null server');
  const stops: (() => Promise<void>)[] = [];
  try {
    const api = await startApi(redis.url, PREFIX);
    stops.push(own(ctx, api));
    const analyzer = await startAnalyzer(redis.url, PREFIX, 'analyzer-1');
    stops.push(own(ctx, analyzer));
    const nullServer = await startReferenceServer('null');
    stops.push(own(ctx, nullServer));

    const runs: FreshnessRun[] = [];
    for (let run = 0; run < options.freshnessRuns; run++) {
      for (const target of rotate(FRESHNESS_TARGETS, run)) {
        const server = target === 'api' ? api : nullServer;
        const pids: Record<string, number> = target === 'api' ? { api: api.pid, analyzer: analyzer.pid, redis: redis.pid } : { null: nullServer.pid };
        runs.push(await freshnessOnce(ctx, run, target, server, pids));
      }
    }
    const targets = Object.fromEntries(
      FRESHNESS_TARGETS.map((target) => {
        const mine = runs.filter((r) => r.target === target);
        return [
          target,
          {
            p50Ms: summarize(mine.map((r) => r.p50Ms)),
            p99Ms: summarize(mine.map((r) => r.p99Ms)),
            maxMs: summarize(mine.map((r) => r.maxMs)),
            unreflected: mine.reduce((sum, r) => sum + r.unreflected, 0),
          },
        ];
      }),
    ) as FreshnessResult['targets'];
    return { rate: options.freshnessRate, durationSeconds: options.freshnessSeconds, warmupSeconds: options.freshnessWarmupSeconds, runs, targets };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

async function freshnessOnce(
  ctx: BenchContext,
  run: number,
  target: FreshnessTarget,
  server: HttpService,
  pids: Record<string, number>,
): Promise<FreshnessRun> {
  const { options, progress } = ctx;
  const durationMs = (options.freshnessWarmupSeconds + options.freshnessSeconds) * 1000;
  const poller = forkChild(POLLER, { url: server.url });
  const stopPoller = ctx.resources.add('freshness poller', () => poller.stop(0));
  let stopSender = async () => {};
  try {
    await poller.next(isReady, 15_000);
    const sampler = new ProcessSampler(pids).start();
    const sender = forkChild(SENDER, { url: server.url, rate: options.freshnessRate, durationMs, seed: 100 + run });
    stopSender = ctx.resources.add('freshness sender', () => sender.stop(0));
    const label = `freshness run ${run + 1}/${options.freshnessRuns} ${target.padEnd(4)} @ ${fmt(options.freshnessRate)}/s`;
    const sent = await progress.during(label, durationMs / 1000, sender.next(isSender, durationMs + 60_000), (s) => `sent ${fmt(s.sent)}, 202 ${fmt(s.ids.length)}, achieved ${fmt(s.achievedRate)}/s`);
    const lastId = sent.ids.reduce<string | null>((max, id) => (max === null || compareStreamIds(id, max) > 0 ? id : max), null);
    if (lastId !== null) await waitReflected(server.url, lastId);
    const usage = sampler.stop();
    poller.send('stop');
    const polled = await poller.next(isPoller, 15_000);
    await poller.stop();
    await sender.stop();

    const matched = freshnessLatencies(sent, polled, { warmupMs: options.freshnessWarmupSeconds * 1000, useCount: sent.failed === 0 });
    const p = latencyPercentiles(matched.latenciesMs);
    progress.say(
      `${label}  202→/stats p50 ${fmt(p.p50, 2)} ms  p99 ${fmt(p.p99, 2)} ms  max ${fmt(p.max, 1)} ms` +
        `  (${fmt(p.n)} events, ${fmt(polled.pollsPerSecond)} polls/s${matched.unreflected ? `, ${matched.unreflected} never reflected` : ''})`,
    );
    const accepted = sent.ids.length;
    return {
      run,
      target,
      p50Ms: p.p50,
      p90Ms: p.p90,
      p99Ms: p.p99,
      maxMs: p.max,
      events: p.n,
      unreflected: matched.unreflected,
      achievedRate: sent.achievedRate,
      failed: sent.failed,
      skipped: sent.skipped,
      pollsPerSecond: polled.pollsPerSecond,
      medianPollMs: polled.medianPollMs,
      apiCpuMsPer10k: cpuMsPer10k(usage['api'], accepted),
      analyzerCpuMsPer10k: cpuMsPer10k(usage['analyzer'], accepted),
      redisCpuMsPer10k: cpuMsPer10k(usage['redis'], accepted),
      apiMaxRssBytes: usage['api']?.maxRssBytes ?? Number.NaN,
      analyzerMaxRssBytes: usage['analyzer']?.maxRssBytes ?? Number.NaN,
    };
  } finally {
    await stopSender();
    await stopPoller();
  }
}

/** Waits (≤ 5 s) until GET /stats shows `lastId`, so the poller has seen every event. */
async function waitReflected(url: string, lastId: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      const stats = (await (await fetch(`${url}/stats`)).json()) as { last_id: string | null };
      if (stats.last_id !== null && compareStreamIds(stats.last_id, lastId) >= 0) break;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // One more poll period for the poller to record it.
  await new Promise((resolve) => setTimeout(resolve, 50));
}
