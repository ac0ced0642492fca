/**
 * Anomaly records live in a sorted set with every score 0, so Redis orders members by their bytes:
 * each member starts with the event id zero-padded, and ZREVRANGEBYLEX returns newest first by
 * event id whatever order the replicas committed in. (A stream would keep commit order.)
 */

/** One anomalous event as GET /anomalies returns it. */
export interface AnomalyRecord {
  readonly id: string;
  readonly timestamp: number;
  readonly cpu: number;
  readonly rps: number;
  readonly zscore_cpu: number | null;
  readonly zscore_rps: number | null;
  readonly is_anomaly_cpu: boolean;
  readonly is_anomaly_rps: boolean;
  /** The previous window the event was judged against. */
  readonly mean_cpu: number | null;
  readonly std_cpu: number | null;
  readonly mean_rps: number | null;
  readonly std_rps: number | null;
}

const SEPARATOR = '|';

/** `1764000000000-5` → `00000001764000000000-00000000000000000005`: byte order = id order. */
export function sortableId(id: string): string {
  const dash = id.indexOf('-');
  return `${id.slice(0, dash).padStart(20, '0')}-${id.slice(dash + 1).padStart(20, '0')}`;
}

export function encodeAnomalyMember(record: AnomalyRecord): string {
  return `${sortableId(record.id)}${SEPARATOR}${JSON.stringify(record)}`;
}

export function decodeAnomalyMember(member: string): AnomalyRecord {
  return JSON.parse(member.slice(member.indexOf(SEPARATOR) + 1)) as AnomalyRecord;
}
