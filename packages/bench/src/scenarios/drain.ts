// Scenario 3: analyzer drain. A stream pre-filled with N entries is drained by one analyzer, and
// (interleaved, run by run) by two; throughput is measured from the first commit (count > 0) to
// count = N, then the stats are checked: count = N, last_id = the last entry, and avg_cpu/avg_rps
// equal to a from-scratch mean of the last WINDOW_SIZE entries.
import { availableParallelism } from 'node:os';
import { ensureGroup, seriesKeys } from '@pipeline/redis';
import { sharedNow } from '../clock.js';
import { startAnalyzer, WINDOW_SIZE, type HttpService } from '../environment.js';
import { fmt } from '../progress.js';
import { cpuMsPer10k, ProcessSampler } from '../proc-sampler.js';
import { parseCommandstats, usPerEvent } from '../redis-commandstats.js';
import { rotate, summarize, type Summary } from '../stats.js';
import { own, type BenchContext } from './context.js';
import { CountWatcher } from './count-watcher.js';
import { exactMean, fillStream, type FilledStream } from './drain-fill.js';

export const DRAIN_VARIANTS = [1, 2] as const;

export interface DrainRun {
  readonly run: number;
  readonly analyzers: number;
  readonly events: number;
  readonly eventsPerSecond: number;
  /** Seconds from the first commit to count = N. */
  readonly seconds: number;
  /**
   * The rate over the second half of the drain (from the poll that saw count past halfway to
   * count = N), which holds less of a fresh process's warm-up. Null when one commit held that half.
   */
  readonly secondHalfEventsPerSecond: number | null;
  /** True when the first commit seen already held every event (too small a drain to time from it). */
  readonly coarse: boolean;
  readonly exact: boolean;
  readonly exactness: { count: number; lastIdMatches: boolean; avgCpuError: number; avgRpsError: number; deadTotal: number };
  /** Summed over the analyzers, per 10,000 events drained while sampled. */
  readonly cpuMsPer10k: number;
  readonly redisCpuMsPer10k: number;
  /** Redis's time per drained event by command, in µs (INFO commandstats; see usPerEvent). */
  readonly redisUsPerEvent: Record<string, number>;
  /**
   * The rates the measured CPU per event allows at most: Redis's one thread busy all the time
   * (1 s ÷ Redis CPU per event), and every core busy with the analyzers and Redis alone
   * (cores × 1 s ÷ their CPU per event). Not measured rates: upper bounds. Null when a drain was
   * too short for the CPU clock (10 ms ticks) to see it.
   */
  readonly bounds: { readonly redisThread: number | null; readonly allCores: number | null };
  /** The largest analyzer's peak VmRSS. */
  readonly maxRssBytes: number;
  /** Seconds the server-side COPY of the pre-filled stream took (not measured in the rate). */
  readonly copySeconds: number;
}

export interface DrainResult {
  readonly events: number;
  readonly windowSize: number;
  readonly runs: DrainRun[];
  readonly oneAnalyzer: Summary;
  /** One analyzer's rate over the second half of each drain (see DrainRun). */
  readonly oneAnalyzerSecondHalf: Summary;
  /** One analyzer's bounds (see DrainRun.bounds). */
  readonly oneAnalyzerBounds: { readonly redisThread: Summary; readonly allCores: Summary };
  readonly twoAnalyzers: Summary;
  /** Per run: two analyzers' rate over one's. */
  readonly twoToOne: { perRun: number[]; summary: Summary };
  readonly allExact: boolean;
}

const RELATIVE_TOLERANCE = 1e-9;

const TEMPLATE = seriesKeys('bench-drain-template').events;

export async function drain(ctx: BenchContext): Promise<DrainResult> {
  const { options, progress, client } = ctx;
  const n = options.drainEvents;
  // Filled once; every run drains a server-side COPY of it (the same data, no refill per run).
  await client.unlink(TEMPLATE);
  const fillStart = sharedNow();
  const filled = await progress.during(`drain: filling a ${fmt(n)}-entry stream`, n / 200_000, fillStream(client, TEMPLATE, n, WINDOW_SIZE, 11), () => `done in ${fmt((sharedNow() - fillStart) / 1000, 1)} s`);
  const runs: DrainRun[] = [];
  try {
    for (let run = 0; run < options.drainRuns; run++) {
      for (const analyzers of rotate(DRAIN_VARIANTS, run)) runs.push(await drainOnce(ctx, run, analyzers, filled));
    }
  } finally {
    await client.unlink(TEMPLATE);
  }
  const rates = (n: number) => runs.filter((r) => r.analyzers === n).map((r) => r.eventsPerSecond);
  // One analyzer's runs, leaving out those where the figure could not be had.
  const ofOneAnalyzer = (pick: (r: DrainRun) => number | null) =>
    summarize(runs.flatMap((r) => (r.analyzers === 1 ? [pick(r)] : [])).filter((v): v is number => v !== null));
  const perRun = Array.from({ length: options.drainRuns }, (_, run) => {
    const one = runs.find((r) => r.run === run && r.analyzers === 1)!;
    const two = runs.find((r) => r.run === run && r.analyzers === 2)!;
    return two.eventsPerSecond / one.eventsPerSecond;
  });
  return {
    events: options.drainEvents,
    windowSize: WINDOW_SIZE,
    runs,
    oneAnalyzer: summarize(rates(1)),
    oneAnalyzerSecondHalf: ofOneAnalyzer((r) => r.secondHalfEventsPerSecond),
    oneAnalyzerBounds: { redisThread: ofOneAnalyzer((r) => r.bounds.redisThread), allCores: ofOneAnalyzer((r) => r.bounds.allCores) },
    twoAnalyzers: summarize(rates(2)),
    twoToOne: { perRun, summary: summarize(perRun) },
    allExact: runs.every((r) => r.exact),
  };
}

async function drainOnce(ctx: BenchContext, run: number, analyzers: number, filled: FilledStream): Promise<DrainRun> {
  const { options, progress, client, redis } = ctx;
  const n = options.drainEvents;
  const prefix = `bench-drain-${run}-${analyzers}`;
  const keys = seriesKeys(prefix);
  const label = `drain run ${run + 1}/${options.drainRuns} ${analyzers} analyzer${analyzers > 1 ? 's' : ' '}`;
  await client.unlink(keys.events, keys.stats, keys.anomalies, keys.dead);

  const copyStart = sharedNow();
  await client.copy(TEMPLATE, keys.events);
  const copySeconds = (sharedNow() - copyStart) / 1000;
  await ensureGroup(client, keys.events);

  const watcher = new CountWatcher(client, keys.stats, n, Math.max(60_000, (n / 20_000) * 1000));
  const started: HttpService[] = [];
  const stops: (() => Promise<void>)[] = [];
  // Redis's per-command times count from here (the bench owns this Redis).
  await client.config('RESETSTAT');
  try {
    const spawnedAt = sharedNow();
    await Promise.all(
      Array.from({ length: analyzers }, async (_, i) => {
        const service = await startAnalyzer(redis.url, prefix, `analyzer-${i + 1}`);
        started.push(service);
        stops.push(own(ctx, service));
      }),
    );
    const countAtSampling = watcher.latest;
    const pids: Record<string, number> = { redis: redis.pid };
    started.forEach((s, i) => (pids[`analyzer${i}`] = s.pid));
    const sampler = new ProcessSampler(pids).start();
    const timing = await progress.during(`${label} drain`, n / 250_000, watcher.done, (t) => {
      const coarse = t.firstCount >= n;
      const rate = coarse ? n / ((t.doneAt - spawnedAt) / 1000) : (n - t.firstCount) / ((t.doneAt - t.firstAt) / 1000);
      return `${fmt(rate)} events/s${coarse ? ' (coarse: one commit held everything)' : ''}`;
    });
    const usage = sampler.stop();
    const commandUsec = parseCommandstats(await client.info('commandstats'));
    const coarse = timing.firstCount >= n;
    const seconds = coarse ? (timing.doneAt - spawnedAt) / 1000 : (timing.doneAt - timing.firstAt) / 1000;
    const eventsPerSecond = (coarse ? n : n - timing.firstCount) / seconds;
    const secondHalfEventsPerSecond = timing.doneAt > timing.halfAt ? (n - timing.halfCount) / ((timing.doneAt - timing.halfAt) / 1000) : null;

    const stats = await client.hgetall(keys.stats);
    const relError = (actual: string | undefined, expected: number) => Math.abs(Number(actual) - expected) / Math.max(Math.abs(expected), 1e-300);
    const exactness = {
      count: Number(stats['count']),
      lastIdMatches: stats['last_id'] === filled.lastId,
      avgCpuError: relError(stats['avg_cpu'], exactMean(filled.tail.map((m) => m.cpu))),
      avgRpsError: relError(stats['avg_rps'], exactMean(filled.tail.map((m) => m.rps))),
      deadTotal: Number(stats['dead_total'] ?? 0),
    };
    const exact =
      exactness.count === n &&
      exactness.lastIdMatches &&
      exactness.avgCpuError <= RELATIVE_TOLERANCE &&
      exactness.avgRpsError <= RELATIVE_TOLERANCE &&
      exactness.deadTotal === 0;
    if (!exact) progress.say(`${label}: STATS NOT EXACT ${JSON.stringify(exactness)}`);

    const analyzerUsage = Object.entries(usage).filter(([name]) => name.startsWith('analyzer'));
    const sampledEvents = n - countAtSampling;
    const analyzerCpuMs = cpuMsPer10k({ cpuSeconds: analyzerUsage.reduce((sum, [, u]) => sum + u.cpuSeconds, 0), maxRssBytes: 0 }, sampledEvents);
    const redisCpuMs = cpuMsPer10k(usage['redis'], sampledEvents);
    return {
      run,
      analyzers,
      events: n,
      eventsPerSecond,
      seconds,
      secondHalfEventsPerSecond,
      coarse,
      exact,
      exactness,
      cpuMsPer10k: analyzerCpuMs,
      redisCpuMsPer10k: redisCpuMs,
      redisUsPerEvent: usPerEvent(commandUsec, n, 0.05),
      bounds: { redisThread: rateAllowedBy(redisCpuMs, 1), allCores: rateAllowedBy(analyzerCpuMs + redisCpuMs, availableParallelism()) },
      maxRssBytes: Math.max(...analyzerUsage.map(([, u]) => u.maxRssBytes)),
      copySeconds,
    };
  } finally {
    watcher.cancel();
    await watcher.done.catch(() => undefined);
    await Promise.all(stops.map((stop) => stop()));
    await client.unlink(keys.events, keys.stats, keys.anomalies, keys.dead);
  }
}

/** The rate `cores` fully busy cores allow at `cpuMsPer10k` (1e7 ms per 10k events = 1 event/s). */
function rateAllowedBy(cpuMsPer10k: number, cores: number): number | null {
  return cpuMsPer10k > 0 ? (cores * 1e7) / cpuMsPer10k : null;
}
