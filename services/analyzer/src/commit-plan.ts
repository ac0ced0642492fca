import { decodeEntry, type Metric } from '@pipeline/metric';
import { encodeAnomalyMember, encodeLatestStats, type LatestStats } from '@pipeline/redis';
import { computeWindowStats, type EventStats, type StatsConfig } from './stats/window-stats.js';

/** A stream entry as Redis returns it: id and flat field/value list. */
export type RawEntry = readonly [id: string, fields: readonly string[]];

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
  const valid: { id: string; metric: Metric }[] = [];
  const dead: DeadEntry[] = [];
  for (const [id, fields] of segment) {
    const decoded = decodeEntry(fields);
    if (decoded.ok) valid.push({ id, metric: decoded.metric });
    else if (!own || own.has(id)) dead.push(deadEntry(id, fields, `malformed: ${decoded.reason}`));
  }
  const results = computeWindowStats(
    context.map((c) => c.metric),
    valid.map((v) => v.metric),
    config,
  );
  const processed: ProcessedEntry[] = [];
  let latestIndex = -1;
  for (let i = 0; i < valid.length; i++) {
    const entry = valid[i]!;
    if (own && !own.has(entry.id)) continue;
    const stats = results[i]!;
    const flags = (stats.cpu.isAnomaly ? 1 : 0) + (stats.rps.isAnomaly ? 2 : 0);
    processed.push({
      id: entry.id,
      anomalyFlags: flags,
      anomalyMember: flags ? encodeAnomalyMember(anomalyRecord(entry.id, entry.metric, stats)) : '',
    });
    latestIndex = i;
  }
  const latest =
    latestIndex < 0
      ? null
      : {
          id: valid[latestIndex]!.id,
          fields: encodeLatestStats(latestStats(valid[latestIndex]!, results[latestIndex]!, config.windowSize)),
        };
  return { processed, dead, latest };
}

/** A dead-letter record for an entry that is not a valid metric, or that crashed consumers. */
export function deadEntry(id: string, fields: readonly string[], reason: string): DeadEntry {
  // fromEntries defines own properties, so a field named __proto__ is kept, not swallowed.
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) pairs.push([fields[i]!, fields[i + 1]!]);
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
