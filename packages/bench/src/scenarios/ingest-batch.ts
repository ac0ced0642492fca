// Scenario 2: batch ingest, POST /ingest with arrays of BATCH_SIZE metrics under closed-loop load,
// api only (no analyzer: the stream just grows). Events/s = 202s × batch size / seconds; the
// stream's length after the run is reported beside it as a cross-check.
import { seriesKeys } from '@pipeline/redis';
import { startApi } from '../environment.js';
import { createMetricSource } from '../metrics-gen.js';
import { fmt } from '../progress.js';
import { cpuMsPer10k, ProcessSampler } from '../proc-sampler.js';
import { summarize, type Summary } from '../stats.js';
import { own, type BenchContext } from './context.js';

export interface BatchRun {
  readonly run: number;
  readonly eventsPerSecond: number;
  /** Entries found in the stream after the run, per second of load. */
  readonly streamEntriesPerSecond: number;
  readonly requestP50Ms: number;
  readonly requestP99Ms: number;
  readonly failed: number;
  readonly cpuMsPer10k: number;
  readonly redisCpuMsPer10k: number;
  readonly maxRssBytes: number;
}

export interface IngestBatchResult {
  readonly tool: string;
  readonly batchSize: number;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly runs: BatchRun[];
  readonly eventsPerSecond: Summary;
}

const PREFIX = 'bench-batch';

export async function ingestBatch(ctx: BenchContext): Promise<IngestBatchResult> {
  const { options, progress, client, redis } = ctx;
  const source = createMetricSource({ seed: 7, anomalyRate: 0.01, startTimestamp: 1764000000, intervalSeconds: 0.01 });
  const body = JSON.stringify(Array.from({ length: options.batchSize }, () => source.next().metric));
  const stream = seriesKeys(PREFIX).events;
  progress.say(`ingest-batch: starting the api (arrays of ${options.batchSize}, ${fmt(body.length / 1024, 1)} KiB per request)`);
  const api = await startApi(redis.url, PREFIX);
  const stop = own(ctx, api);
  try {
    const runs: BatchRun[] = [];
    let tool = '';
    for (let run = 0; run < options.runs; run++) {
      const load = { url: `${api.url}/ingest`, body, connections: options.batchConnections };
      await client.xtrim(stream, 'MAXLEN', 0);
      if (options.warmupSeconds > 0) await ctx.load({ ...load, durationSeconds: options.warmupSeconds });
      await client.xtrim(stream, 'MAXLEN', 0);
      const sampler = new ProcessSampler({ server: api.pid, redis: redis.pid }).start();
      const result = await progress.during(
        `ingest-batch run ${run + 1}/${options.runs}`,
        options.durationSeconds,
        ctx.load({ ...load, durationSeconds: options.durationSeconds }),
        (r) => `${fmt(r.okPerSecond * options.batchSize)} events/s (${fmt(r.okPerSecond)} req/s)  p99 ${fmt(r.latencyP99Ms, 1)} ms${r.failed ? `  failed ${r.failed}` : ''}`,
      );
      const usage = sampler.stop();
      const events = result.ok * options.batchSize;
      tool = result.tool;
      runs.push({
        run,
        eventsPerSecond: result.okPerSecond * options.batchSize,
        streamEntriesPerSecond: (await client.xlen(stream)) / result.seconds,
        requestP50Ms: result.latencyP50Ms,
        requestP99Ms: result.latencyP99Ms,
        failed: result.failed,
        cpuMsPer10k: cpuMsPer10k(usage['server'], events),
        redisCpuMsPer10k: cpuMsPer10k(usage['redis'], events),
        maxRssBytes: usage['server']!.maxRssBytes,
      });
    }
    await client.unlink(stream);
    return {
      tool,
      batchSize: options.batchSize,
      connections: options.batchConnections,
      durationSeconds: options.durationSeconds,
      runs,
      eventsPerSecond: summarize(runs.map((r) => r.eventsPerSecond)),
    };
  } finally {
    await stop();
  }
}
