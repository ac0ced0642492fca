/**
 * The stats hash: written by the analyzer's commit script, read by the api's GET /stats.
 * Numbers are stored as String(number) (exact round trip), null as '' and booleans as 0/1.
 */

/** Counters the commit script increments. */
export const COUNTER_FIELDS = {
  count: 'count',
  anomaliesTotal: 'anomalies_total',
  anomaliesCpu: 'anomalies_cpu',
  anomaliesRps: 'anomalies_rps',
  deadTotal: 'dead_total',
  updatedAt: 'updated_at',
  lastId: 'last_id',
} as const;

/** The statistics of the newest committed event, replaced as a whole (compare-and-set on last_id). */
export interface LatestStats {
  readonly lastId: string;
  readonly lastTimestamp: number;
  readonly lastCpu: number;
  readonly lastRps: number;
  readonly windowSize: number;
  readonly windowSizeUsed: number;
  readonly avgCpu: number;
  readonly avgRps: number;
  readonly zscoreCpu: number | null;
  readonly zscoreRps: number | null;
  readonly isAnomalyCpu: boolean;
  readonly isAnomalyRps: boolean;
  readonly prevMeanCpu: number | null;
  readonly prevStdCpu: number | null;
  readonly prevMeanRps: number | null;
  readonly prevStdRps: number | null;
}

/** Field/value pairs of the latest stats, without last_id (the script sets it with the CAS). */
export function encodeLatestStats(s: LatestStats): string[] {
  return [
    'last_timestamp', String(s.lastTimestamp),
    'last_cpu', String(s.lastCpu),
    'last_rps', String(s.lastRps),
    'window_size', String(s.windowSize),
    'window_size_used', String(s.windowSizeUsed),
    'avg_cpu', String(s.avgCpu),
    'avg_rps', String(s.avgRps),
    'zscore_cpu', nullable(s.zscoreCpu),
    'zscore_rps', nullable(s.zscoreRps),
    'is_anomaly_cpu', s.isAnomalyCpu ? '1' : '0',
    'is_anomaly_rps', s.isAnomalyRps ? '1' : '0',
    'prev_mean_cpu', nullable(s.prevMeanCpu),
    'prev_std_cpu', nullable(s.prevStdCpu),
    'prev_mean_rps', nullable(s.prevMeanRps),
    'prev_std_rps', nullable(s.prevStdRps),
  ];
}

/** The body of GET /stats: exactly these fields, in this order. */
export interface StatsView {
  count: number;
  window_size: number;
  window_size_used: number;
  avg_cpu: number | null;
  avg_rps: number | null;
  last_cpu: number | null;
  last_rps: number | null;
  last_timestamp: number | null;
  last_id: string | null;
  zscore_cpu: number | null;
  zscore_rps: number | null;
  is_anomaly_cpu: boolean;
  is_anomaly_rps: boolean;
  is_anomaly: boolean;
  anomalies_total: number;
  updated_at: string | null;
}

/** Extra counters operators graph, beside the public view. */
export interface StatsCounters {
  anomalies_cpu: number;
  anomalies_rps: number;
  dead_total: number;
}

/**
 * Reads HGETALL of the stats hash. Before any event the hash is empty: count 0, window_size
 * the configured one, nulls for values.
 */
export function decodeStats(hash: Record<string, string>, configuredWindowSize: number): StatsView {
  const isCpu = hash.is_anomaly_cpu === '1';
  const isRps = hash.is_anomaly_rps === '1';
  return {
    count: int(hash.count),
    window_size: hash.window_size ? Number(hash.window_size) : configuredWindowSize,
    window_size_used: int(hash.window_size_used),
    avg_cpu: num(hash.avg_cpu),
    avg_rps: num(hash.avg_rps),
    last_cpu: num(hash.last_cpu),
    last_rps: num(hash.last_rps),
    last_timestamp: num(hash.last_timestamp),
    last_id: hash.last_id || null,
    zscore_cpu: num(hash.zscore_cpu),
    zscore_rps: num(hash.zscore_rps),
    is_anomaly_cpu: isCpu,
    is_anomaly_rps: isRps,
    is_anomaly: isCpu || isRps,
    anomalies_total: int(hash.anomalies_total),
    updated_at: hash.updated_at || null,
  };
}

export function decodeCounters(hash: Record<string, string>): StatsCounters {
  return {
    anomalies_cpu: int(hash.anomalies_cpu),
    anomalies_rps: int(hash.anomalies_rps),
    dead_total: int(hash.dead_total),
  };
}

function nullable(value: number | null): string {
  return value === null ? '' : String(value);
}

function num(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

function int(text: string | undefined): number {
  return num(text) ?? 0;
}
