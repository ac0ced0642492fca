// Runs the selected scenarios against one redis-server of its own, then builds the results.
// Everything started is stopped at the end, on an error, and on SIGINT/SIGTERM.
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { assertBuilt, startBenchRedis, useServiceNode } from './environment.js';
import { finishHostCheck, startHostCheck } from './host-check.js';
import { autocannonLoad } from './load/autocannon-load.js';
import { heyAvailable, heyLoad } from './load/hey-load.js';
import { collectMeta, sourceState } from './meta.js';
import type { BenchOptions, ScenarioName } from './options.js';
import { Progress } from './progress.js';
import { footprint } from './report/footprint.js';
import type { BenchResults, ScenarioResults } from './report/results.js';
import { evaluateTargets } from './report/targets.js';
import { Resources } from './resources.js';
import type { BenchContext } from './scenarios/context.js';
import { drain } from './scenarios/drain.js';
import { freshness } from './scenarios/freshness.js';
import { ingestBatch } from './scenarios/ingest-batch.js';
import { ingestSingle } from './scenarios/ingest-single.js';

const RUNNERS: { [K in ScenarioName]: (ctx: BenchContext) => Promise<NonNullable<ScenarioResults[K]>> } = {
  'ingest-single': ingestSingle,
  'ingest-batch': ingestBatch,
  drain,
  freshness,
};

export async function runBench(options: BenchOptions, progress = new Progress()): Promise<BenchResults> {
  assertBuilt();
  const servicesNode = useServiceNode(options.node);
  if (options.loader === 'hey' && !heyAvailable()) throw new Error('--loader hey: /usr/bin/hey is not installed');
  const startedAt = new Date();
  const loadBefore = loadavg()[0]!;
  const source = sourceState();
  // Before anything of ours runs, so that the probe times the host alone.
  const host = startHostCheck();
  const resources = new Resources();
  const onSignal = (signal: NodeJS.Signals) => {
    progress.say(`${signal}: stopping everything the benchmark started`);
    void resources.stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const redis = await startBenchRedis();
    resources.add('redis-server', () => redis.cleanup());
    progress.say(`redis-server ${redis.url} (pid ${redis.pid}); load average ${loadBefore.toFixed(2)}${loadBefore > 0.5 ? ' — the machine is busy, expect noise' : ''}`);
    const client = new Redis(redis.url, { maxRetriesPerRequest: 3 });
    resources.add('redis client', () => client.quit().catch(() => client.disconnect()));
    const ctx: BenchContext = {
      options,
      progress,
      redis,
      client,
      load: options.loader === 'hey' ? heyLoad : autocannonLoad,
      resources,
    };
    const scenarios: ScenarioResults = {};
    for (const name of options.only) {
      (scenarios as Record<string, unknown>)[name] = await RUNNERS[name](ctx);
    }
    const meta = await collectMeta(options, client, startedAt, loadBefore, source, servicesNode, finishHostCheck(host));
    const fp = footprint(scenarios);
    return { meta, scenarios, footprint: fp, targets: evaluateTargets(scenarios, fp) };
  } finally {
    await resources.stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
