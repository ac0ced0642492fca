import { decodeEntryInto, wordText, type EntryWord, type Metric, type MetricColumns } from '@pipeline/metric';
import { encodeAnomalyMember, encodeLatestStats, type LatestStats } from '@pipeline/redis';
import { eventStatsAt, scoreWindows, type EventStats, type StatsConfig } from './stats/window-stats.js';

/** A stream entry as Redis returns it: id and flat field/value list, as text or raw bytes. */
export type RawEntry = readonly [id: EntryWord, fields: readonly EntryWord[]];
/** A stream entry read as text. */
export type TextEntry = readonly [id: string, fields: readonly string[]];

/** A valid metric entry already in the stream, usable as window context. */
export interface ContextEntry {
  readonly id: string;
  readonly metric: Metric;
}

export interface ProcessedEntry {
  readonly id: string;
  /** 0 none, 1 cpu, 2 rps, 3 both (the commit script's encoding). */
  readonly anomalyFlags: number;
  /** The anomaly record's sorted-set member, '' when not anomalous. */
  readonly anomalyMember: string;
}

export interface DeadEntry {
  readonly id: string;
  readonly reason: string;
  /** The entry's original fields as a JSON object, for operators. */
  readonly fieldsJson: string;
}

/** Everything one commit writes. */
export interface CommitPlan {
  readonly processed: readonly ProcessedEntry[];
  readonly dead: readonly DeadEntry[];
  /** Stats of the newest valid entry the batch owns, candidate for last_*. */
  readonly latest: { readonly id: string; readonly fields: readonly string[] } | null;
}

/**
 * A stream segment decoded into typed columns: rows 0..contextRows-1 are the window context, row
 * contextRows + i is the segment's i-th valid entry, `ids[i]`. Decoding a batch as soon as it is
 * read lets the reply's many small objects die young (they never survive a scavenge).
 */
export interface DecodedSegment {
  readonly contextRows: number;
  readonly columns: MetricColumns;
  readonly ids: readonly string[];
  /** The segment's entries that are not valid metrics, as dead letters. */
  readonly malformed: readonly DeadEntry[];
  /** Entries in the segment, valid or not. */
  readonly size: number;
}

/**
 * `context` holds the valid entries just before `segment`, oldest first (only the last
 * windowSize of them are kept); `segment` is a contiguous run of the stream.
 */
export function decodeSegment(context: readonly ContextEntry[], segment: readonly RawEntry[], windowSize: number): DecodedSegment {
  const contextRows = Math.min(context.length, windowSize);
  const rows = contextRows + segment.length;
  const columns: MetricColumns = { timestamp: new Float64Array(rows), cpu: new Float64Array(rows), rps: new Float64Array(rows) };
  for (let k = 0; k < contextRows; k++) {
    const metric = context[context.length - contextRows + k]!.metric;
    columns.timestamp[k] = metric.timestamp;
    columns.cpu[k] = metric.cpu;
    columns.rps[k] = metric.rps;
  }
  const ids: string[] = [];
  const malformed: DeadEntry[] = [];
  for (const [idWord, fields] of segment) {
    const id = wordText(idWord);
    const reason = decodeEntryInto(fields, columns, contextRows + ids.length);
    if (reason === null) ids.push(id);
    else malformed.push(deadEntry(id, fields, `malformed: ${reason}`));
  }
  return { contextRows, columns, ids, malformed, size: segment.length };
}

/**
 * Turns a stream segment into a commit (pure: the same inputs give the same commit on any replica).
 * `context` holds the valid entries just before the segment, oldest first; `segment` is a
 * contiguous run of the stream; only ids in `own` (all of the segment when null) are emitted,
 * the rest serve as window context (DESIGN.md invariant 3).
 */
export function planCommit(
  context: readonly ContextEntry[],
  segment: readonly RawEntry[],
  own: ReadonlySet<string> | null,
  config: StatsConfig,
): CommitPlan {
  return planDecoded(decodeSegment(context, segment, config.windowSize), own, config);
}

/** planCommit for a segment already decoded. Objects are made only for anomalies and the latest. */
export function planDecoded(segment: DecodedSegment, own: ReadonlySet<string> | null, config: StatsConfig): CommitPlan {
  const { contextRows, columns, ids } = segment;
  const scores = scoreWindows(columns.cpu, columns.rps, contextRows, contextRows + ids.length, config);
  const metricAt = (i: number): Metric => ({
    timestamp: columns.timestamp[contextRows + i]!,
    cpu: columns.cpu[contextRows + i]!,
    rps: columns.rps[contextRows + i]!,
  });
  const processed: ProcessedEntry[] = [];
  let latestIndex = -1;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (own && !own.has(id)) continue;
    const flags = scores.cpu.isAnomaly[i]! + 2 * scores.rps.isAnomaly[i]!;
    processed.push({
      id,
      anomalyFlags: flags,
      anomalyMember: flags ? encodeAnomalyMember(anomalyRecord(id, metricAt(i), eventStatsAt(scores, i))) : '',
    });
    latestIndex = i;
  }
  const latest =
    latestIndex < 0
      ? null
      : {
          id: ids[latestIndex]!,
          fields: encodeLatestStats(latestStats({ id: ids[latestIndex]!, metric: metricAt(latestIndex) }, eventStatsAt(scores, latestIndex), config.windowSize)),
        };
  const dead = own ? segment.malformed.filter((d) => own.has(d.id)) : segment.malformed;
  return { processed, dead, latest };
}

/** A dead-letter record for an entry that is not a valid metric, or that crashed consumers. */
export function deadEntry(id: string, fields: readonly EntryWord[], reason: string): DeadEntry {
  // fromEntries defines own properties, so a field named __proto__ is kept, not swallowed.
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) pairs.push([wordText(fields[i]!), wordText(fields[i + 1]!)]);
  return { id, reason, fieldsJson: JSON.stringify(Object.fromEntries(pairs)) };
}

function latestStats(entry: ContextEntry, s: EventStats, windowSize: number): LatestStats {
  return {
    lastId: entry.id,
    lastTimestamp: entry.metric.timestamp,
    lastCpu: entry.metric.cpu,
    lastRps: entry.metric.rps,
    windowSize,
    windowSizeUsed: s.windowSizeUsed,
    avgCpu: s.avgCpu,
    avgRps: s.avgRps,
    zscoreCpu: s.cpu.z,
    zscoreRps: s.rps.z,
    isAnomalyCpu: s.cpu.isAnomaly,
    isAnomalyRps: s.rps.isAnomaly,
    prevMeanCpu: s.cpu.prevMean,
    prevStdCpu: s.cpu.prevStd,
    prevMeanRps: s.rps.prevMean,
    prevStdRps: s.rps.prevStd,
  };
}

function anomalyRecord(id: string, metric: Metric, s: EventStats) {
  return {
    id,
    timestamp: metric.timestamp,
    cpu: metric.cpu,
    rps: metric.rps,
    zscore_cpu: s.cpu.z,
    zscore_rps: s.rps.z,
    is_anomaly_cpu: s.cpu.isAnomaly,
    is_anomaly_rps: s.rps.isAnomaly,
    mean_cpu: s.cpu.prevMean,
    std_cpu: s.cpu.prevStd,
    mean_rps: s.rps.prevMean,
    std_rps: s.rps.prevStd,
  };
}
