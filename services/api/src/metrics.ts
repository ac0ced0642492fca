import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BacklogMonitor } from './backlog-monitor.js';
import type { EventStore } from './event-store.js';

const STATS_CACHE_MS = 250;

/** Why POST /ingest refuses events (the problem kinds it answers with). */
export const INGEST_REJECTION_REASONS = [
  'unauthorized',
  'forbidden',
  'invalid-metric',
  'invalid-json',
  'invalid-body',
  'body-too-large',
  'batch-too-large',
  'unsupported-media-type',
  'backpressure',
  'redis-unavailable',
  'invalid-idempotency-key',
  'idempotency-key-reused',
] as const;

/** The api's Prometheus metrics, on a registry of its own (tests build many apps). */
export function createApiMetrics(store: EventStore, backlog: BacklogMonitor, maxBacklog: number) {
  const register = new Registry();
  collectDefaultMetrics({ register });
  const registers = [register];

  // One HGETALL per scrape serves every stats gauge.
  let cached: { at: number; read: ReturnType<EventStore['readStats']> } | undefined;
  const readStats = async () => {
    if (!cached || Date.now() - cached.at > STATS_CACHE_MS) cached = { at: Date.now(), read: store.readStats() };
    try {
      return await cached.read;
    } catch {
      return null; // Redis down: the gauges keep their last values
    }
  };
  const statsGauge = <L extends string>(name: string, help: string, labelNames: readonly L[], set: (g: Gauge<L>, s: NonNullable<Awaited<ReturnType<typeof readStats>>>) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const stats = await readStats();
        if (stats) set(this, stats);
      },
    });
  const setNullable = (g: Gauge<'metric'>, metric: string, value: number | null) => {
    if (value === null) g.remove({ metric });
    else g.set({ metric }, value);
  };

  statsGauge('pipeline_stats_count', 'Events processed by the analyzers (GET /stats count)', [], (g, s) => g.set(s.view.count));
  statsGauge('pipeline_stats_anomalies', 'Anomalous events so far, by metric (any = either)', ['metric'], (g, s) => {
    g.set({ metric: 'any' }, s.view.anomalies_total);
    g.set({ metric: 'cpu' }, s.counters.anomalies_cpu);
    g.set({ metric: 'rps' }, s.counters.anomalies_rps);
  });
  statsGauge('pipeline_stats_dead_lettered', 'Entries moved to the dead-letter stream', [], (g, s) => g.set(s.counters.dead_total));
  statsGauge('pipeline_stats_window_size_used', 'Entries in the current window', [], (g, s) => g.set(s.view.window_size_used));
  statsGauge('pipeline_stats_window_average', 'Mean of the current window, by metric', ['metric'], (g, s) => {
    setNullable(g, 'cpu', s.view.avg_cpu);
    setNullable(g, 'rps', s.view.avg_rps);
  });
  statsGauge('pipeline_stats_last_value', 'Value of the newest event, by metric', ['metric'], (g, s) => {
    setNullable(g, 'cpu', s.view.last_cpu);
    setNullable(g, 'rps', s.view.last_rps);
  });
  statsGauge('pipeline_stats_zscore', 'z-score of the newest event against its previous window, by metric', ['metric'], (g, s) => {
    setNullable(g, 'cpu', s.view.zscore_cpu);
    setNullable(g, 'rps', s.view.zscore_rps);
  });
  statsGauge('pipeline_stats_is_anomaly', '1 when the newest event is anomalous, by metric', ['metric'], (g, s) => {
    g.set({ metric: 'cpu' }, s.view.is_anomaly_cpu ? 1 : 0);
    g.set({ metric: 'rps' }, s.view.is_anomaly_rps ? 1 : 0);
  });
  statsGauge('pipeline_stats_last_event_timestamp_seconds', 'Timestamp of the newest processed event', [], (g, s) => {
    if (s.view.last_timestamp !== null) g.set(s.view.last_timestamp);
  });

  new Gauge({
    name: 'api_backlog_limit',
    help: 'MAX_BACKLOG: the backlog at which /ingest answers 503',
    registers,
  }).set(maxBacklog);

  const eventsRejected = new Counter({
    name: 'api_events_rejected_total',
    help: 'Events refused, by reason (a body that is not a list of metrics counts as one)',
    labelNames: ['reason'] as const,
    registers,
  });
  // Every reason exists from the start at 0, so the first refusal is an increase Prometheus sees.
  for (const reason of INGEST_REJECTION_REASONS) eventsRejected.inc({ reason }, 0);

  // Labelled HTTP series by "method route status" (see observeRequest). Requests are counted in
  // a plain number per series and added to http_requests_total when Prometheus scrapes: a
  // prom-client child re-validates and re-hashes its labels on every inc, which POST /ingest's
  // hot path would pay per request (measured, issue 7).
  const requestSeries = new Map<string, RequestSeries>();
  return {
    register,
    eventsRejected,
    requestSeries,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
      collect() {
        for (const series of requestSeries.values()) {
          if (series.uncounted === 0) continue;
          this.inc(series.labels, series.uncounted);
          series.uncounted = 0;
        }
      },
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration, by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    eventsAccepted: new Counter({
      name: 'api_events_accepted_total',
      help: 'Events accepted into the stream (202)',
      registers,
    }),
    idempotentReplays: new Counter({
      name: 'api_idempotent_replays_total',
      help: 'POST /ingest requests answered from an Idempotency-Key record (202 replayed, nothing appended)',
      registers,
    }),
    backlog: new Gauge({
      name: 'api_backlog_entries',
      help: 'Consumer-group backlog (lag + pending) as last read by this api',
      registers,
      collect() {
        if (backlog.current !== null) this.set(backlog.current);
      },
    }),
    backpressure: new Gauge({
      name: 'api_backpressure_active',
      help: '1 while /ingest answers 503 because the backlog reached MAX_BACKLOG',
      registers,
      collect() {
        this.set(backlog.overLimit ? 1 : 0);
      },
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/** One method/route/status: its requests not yet added to http_requests_total, its duration child. */
interface RequestSeries {
  readonly labels: { method: string; route: string; status: string };
  uncounted: number;
  readonly duration: { observe(value: number): void };
}

/** Records one answered request in the HTTP metrics; `startedMs` is its `performance.now()`. */
export function observeRequest(metrics: ApiMetrics, method: string, route: string, status: number, startedMs: number): void {
  record(requestSeries(metrics, method, route, status), startedMs);
}

/**
 * {@link observeRequest} for one route, its series looked up by status alone: no label string
 * is built per request (POST /ingest's hot path).
 */
export function routeObserver(metrics: ApiMetrics, method: string, route: string): (status: number, startedMs: number) => void {
  const byStatus = new Map<number, RequestSeries>();
  return (status, startedMs) => {
    let series = byStatus.get(status);
    if (!series) byStatus.set(status, (series = requestSeries(metrics, method, route, status)));
    record(series, startedMs);
  };
}

// The histogram's labelled children are cached: resolving labels hashes them on every call.
// Methods, routes and statuses are few.
function requestSeries(metrics: ApiMetrics, method: string, route: string, status: number): RequestSeries {
  const key = `${method} ${route} ${status}`;
  let series = metrics.requestSeries.get(key);
  if (!series) {
    const labels = { method, route, status: String(status) };
    series = { labels, uncounted: 0, duration: metrics.httpDuration.labels(labels) };
    metrics.requestSeries.set(key, series);
  }
  return series;
}

function record(series: RequestSeries, startedMs: number): void {
  series.uncounted++;
  series.duration.observe((performance.now() - startedMs) / 1000);
}
