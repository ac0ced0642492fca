/** The consumer group every analyzer replica joins. */
export const ANALYZER_GROUP = 'analyzer';

/** The series served today; the layout leaves room for many (DESIGN.md, Redis layout). */
export const DEFAULT_SERIES = 'default';

export interface SeriesKeys {
  /** Stream of accepted metric events (group `analyzer`). */
  readonly events: string;
  /** Hash of the latest statistics and the counters. */
  readonly stats: string;
  /** Sorted set of anomaly records, ordered by event id. */
  readonly anomalies: string;
  /** Stream of dead-lettered entries with their reason. */
  readonly dead: string;
  /**
   * The record of one `Idempotency-Key` (string: request fingerprint + the 202 body, with a TTL).
   * Inside the series' hash tag, so the append script may write it beside the events stream.
   */
  idempotency(key: string): string;
}

/**
 * Key names of one series. The `{series}` hash tag keeps them on one Redis Cluster slot, so the
 * commit script may touch all of them.
 */
export function seriesKeys(prefix: string, series: string = DEFAULT_SERIES): SeriesKeys {
  const base = `${prefix}:{${series}}`;
  return {
    events: `${base}:events`,
    stats: `${base}:stats`,
    anomalies: `${base}:anomalies`,
    dead: `${base}:dead`,
    idempotency: (key) => `${base}:idem:${key}`,
  };
}
