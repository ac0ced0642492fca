import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The analyzer's Prometheus metrics, on a registry of its own (tests build many analyzers). */
export function createAnalyzerMetrics() {
  const register = new Registry();
  collectDefaultMetrics({ register });
  const registers = [register];
  const metrics = {
    register,
    eventsProcessed: new Counter({
      name: 'analyzer_events_processed_total',
      help: 'Events whose effects this analyzer committed (counted once, XACK returned 1)',
      registers,
    }),
    duplicatesSkipped: new Counter({
      name: 'analyzer_duplicates_skipped_total',
      help: 'Entries in a commit that another consumer had already committed',
      registers,
    }),
    anomalies: new Counter({
      name: 'analyzer_anomalies_total',
      help: 'Anomalous events committed, by metric (any = either metric)',
      labelNames: ['metric'] as const,
      registers,
    }),
    batchSize: new Histogram({
      name: 'analyzer_batch_size',
      help: 'Entries per batch read from the stream',
      labelNames: ['source'] as const,
      buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    batchDuration: new Histogram({
      name: 'analyzer_batch_duration_seconds',
      help: 'Time to analyze and commit one batch (from planning, or from the context read for claimed batches, to the commit reply)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    commitDuration: new Histogram({
      name: 'analyzer_commit_duration_seconds',
      help: 'Duration of the commit script',
      buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
    claimed: new Counter({
      name: 'analyzer_claimed_entries_total',
      help: 'Entries taken over from idle consumers (XCLAIM)',
      registers,
    }),
    deadLettered: new Counter({
      name: 'analyzer_dead_lettered_total',
      help: 'Entries moved to the dead-letter stream, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    trimmed: new Counter({
      name: 'analyzer_trimmed_entries_total',
      help: 'Committed entries trimmed from the stream',
      registers,
    }),
    errors: new Counter({
      name: 'analyzer_errors_total',
      help: 'Failed steps, by stage (read, process, claim, maintenance)',
      labelNames: ['stage'] as const,
      registers,
    }),
    streamLag: new Gauge({
      name: 'analyzer_stream_lag',
      help: 'Entries in the stream not yet delivered to any consumer',
      registers,
    }),
    streamPending: new Gauge({
      name: 'analyzer_stream_pending',
      help: 'Entries delivered and not yet committed',
      registers,
    }),
    streamLength: new Gauge({
      name: 'analyzer_stream_length',
      help: 'Entries in the stream (uncommitted plus retained context)',
      registers,
    }),
    groupConsumers: new Gauge({
      name: 'analyzer_group_consumers',
      help: 'Consumers registered in the analyzer group',
      registers,
    }),
    lastCommit: new Gauge({
      name: 'analyzer_last_commit_timestamp_seconds',
      help: 'Unix time of this analyzer\'s last successful commit',
      registers,
    }),
  };
  // Known label values exist from the start at 0, so a first increment is an increase
  // Prometheus sees (a series born at 1 shows no increase).
  for (const metric of ['any', 'cpu', 'rps']) metrics.anomalies.inc({ metric }, 0);
  for (const reason of ['malformed', 'max_deliveries']) metrics.deadLettered.inc({ reason }, 0);
  for (const stage of ['read', 'process', 'claim', 'maintenance']) metrics.errors.inc({ stage }, 0);
  return metrics;
}

export type AnalyzerMetrics = ReturnType<typeof createAnalyzerMetrics>;
