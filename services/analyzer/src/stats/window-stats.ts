// Pure rolling-window statistics (DESIGN.md, "Statistics"). No I/O, no dependencies.
//
// Every window is recomputed directly (two-pass mean, population std, summed oldest first) over
// one combined typed array (context tail + entries): O(N) per event, no drift, and results kept
// in typed columns (scoreWindows), so no allocation per event. Flatness is decided by exact value equality via the
// length of the current run of equal values, so it is O(1) and immune to rounding
// (a computed mean of eight 33.3s is not exactly 33.3).

export interface Metric { readonly timestamp: number; readonly cpu: number; readonly rps: number }
export interface StatsConfig { readonly windowSize: number; readonly zThreshold: number; readonly minSamples: number }
export interface MetricScore {
  /** (x - prevMean) / prevStd; 0 during warm-up (fewer than minSamples previous) or when x equals a flat previous window; null when the previous window is flat and x differs. */
  readonly z: number | null;
  readonly isAnomaly: boolean;
  /** mean / population std of the previous window (the N entries before this one); null during warm-up. For a flat window: exactly the repeated value and exactly 0. */
  readonly prevMean: number | null;
  readonly prevStd: number | null;
}
export interface EventStats {
  readonly windowSizeUsed: number;   // number of entries in the window ending at (and including) this entry: min(position+1, N) counting context
  readonly avgCpu: number;           // mean over last N entries including this one
  readonly avgRps: number;
  readonly cpu: MetricScore;
  readonly rps: MetricScore;
  readonly isAnomaly: boolean;       // cpu.isAnomaly || rps.isAnomaly
}

/**
 * The scores of a run of entries, column by column (row j = the run's j-th entry): the hot path
 * allocates a few arrays per batch instead of objects per event. NaN stands for null.
 */
export interface WindowScores {
  readonly length: number;
  readonly windowSizeUsed: Float64Array;
  readonly avgCpu: Float64Array;
  readonly avgRps: Float64Array;
  readonly cpu: ScoreColumns;
  readonly rps: ScoreColumns;
}
export interface ScoreColumns {
  readonly z: Float64Array;
  readonly isAnomaly: Uint8Array;
  readonly prevMean: Float64Array;
  readonly prevStd: Float64Array;
}

function scoreColumns(length: number): ScoreColumns {
  return { z: new Float64Array(length), isAnomaly: new Uint8Array(length), prevMean: new Float64Array(length), prevStd: new Float64Array(length) };
}

/** Mean of a[from..to) summed oldest first (the same order as a from-scratch two-pass computation). */
function meanOf(a: Float64Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += a[i]!;
  return sum / (to - from);
}

/**
 * Scores a[p] against the `count` values before it into row j of `out`. `run` is the length of
 * the run of equal values ending at a[p - 1]; the previous window is flat iff it covers all of it.
 */
function score(a: Float64Array, p: number, count: number, run: number, minPrev: number, threshold: number, out: ScoreColumns, j: number): void {
  if (count < minPrev) return setScore(out, j, 0, false, NaN, NaN);
  const x = a[p]!;
  if (run >= count) {
    const w = a[p - 1]!;
    return x === w ? setScore(out, j, 0, false, w, 0) : setScore(out, j, NaN, true, w, 0);
  }
  const start = p - count;
  const mean = meanOf(a, start, p);
  let sq = 0;
  for (let i = start; i < p; i++) {
    const d = a[i]! - mean;
    sq += d * d;
  }
  const std = Math.sqrt(sq / count);
  const z = (x - mean) / std;
  if (!Number.isFinite(z)) {
    // Only reachable when the spread of a non-flat window underflows to 0 (values ~1e-160 apart):
    // treat it like a flat window rather than emit NaN/Infinity.
    return x === mean ? setScore(out, j, 0, false, mean, std) : setScore(out, j, NaN, true, mean, std);
  }
  setScore(out, j, z, Math.abs(z) > threshold, mean, std);
}

function setScore(out: ScoreColumns, j: number, z: number, isAnomaly: boolean, prevMean: number, prevStd: number): void {
  out.z[j] = z;
  out.isAnomaly[j] = isAnomaly ? 1 : 0;
  out.prevMean[j] = prevMean;
  out.prevStd[j] = prevStd;
}

/**
 * Scores rows ctxLen..total-1 of `cpu` and `rps`, each against the windowSize rows before it
 * (leave-one-out). Rows 0..ctxLen-1 are context: the valid metrics just before the run, oldest
 * first, at most windowSize of them (fewer means the stream starts there).
 */
export function scoreWindows(cpu: Float64Array, rps: Float64Array, ctxLen: number, total: number, config: StatsConfig): WindowScores {
  const n = config.windowSize;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`windowSize must be a positive integer, got ${n}`);
  if (ctxLen > n) throw new RangeError(`at most windowSize (${n}) context rows, got ${ctxLen}`);
  const minPrev = Math.max(1, config.minSamples);
  const threshold = config.zThreshold;
  const length = total - ctxLen;
  const out: WindowScores = {
    length,
    windowSizeUsed: new Float64Array(length),
    avgCpu: new Float64Array(length),
    avgRps: new Float64Array(length),
    cpu: scoreColumns(length),
    rps: scoreColumns(length),
  };

  // Runs of equal values ending at index ctxLen - 1 (the last context entry).
  let runCpu = 0;
  let runRps = 0;
  for (let k = 0; k < ctxLen; k++) {
    runCpu = k > 0 && cpu[k] === cpu[k - 1] ? runCpu + 1 : 1;
    runRps = k > 0 && rps[k] === rps[k - 1] ? runRps + 1 : 1;
  }

  for (let p = ctxLen; p < total; p++) {
    const j = p - ctxLen;
    const prevCount = p < n ? p : n;
    const used = prevCount < n ? prevCount + 1 : n;
    score(cpu, p, prevCount, runCpu, minPrev, threshold, out.cpu, j);
    score(rps, p, prevCount, runRps, minPrev, threshold, out.rps, j);
    out.windowSizeUsed[j] = used;
    out.avgCpu[j] = meanOf(cpu, p + 1 - used, p + 1);
    out.avgRps[j] = meanOf(rps, p + 1 - used, p + 1);
    runCpu = p > 0 && cpu[p] === cpu[p - 1] ? runCpu + 1 : 1;
    runRps = p > 0 && rps[p] === rps[p - 1] ? runRps + 1 : 1;
  }
  return out;
}

const nullable = (v: number): number | null => (Number.isNaN(v) ? null : v);

function metricScoreAt(c: ScoreColumns, j: number): MetricScore {
  return { z: nullable(c.z[j]!), isAnomaly: c.isAnomaly[j] === 1, prevMean: nullable(c.prevMean[j]!), prevStd: nullable(c.prevStd[j]!) };
}

/** Row j of `scores` as one EventStats (for the few rows that need an object: anomalies, the latest). */
export function eventStatsAt(scores: WindowScores, j: number): EventStats {
  const cpu = metricScoreAt(scores.cpu, j);
  const rps = metricScoreAt(scores.rps, j);
  return {
    windowSizeUsed: scores.windowSizeUsed[j]!,
    avgCpu: scores.avgCpu[j]!,
    avgRps: scores.avgRps[j]!,
    cpu,
    rps,
    isAnomaly: cpu.isAnomaly || rps.isAnomaly,
  };
}

/**
 * context: the valid metrics immediately preceding entries[0] in the stream, oldest first (only the last
 * config.windowSize of them matter; fewer means the stream starts there). Returns one EventStats per entry,
 * each judged against the windowSize entries before it (leave-one-out), where entries earlier in `entries` count as previous too.
 */
export function computeWindowStats(context: readonly Metric[], entries: readonly Metric[], config: StatsConfig): EventStats[] {
  const n = config.windowSize;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`windowSize must be a positive integer, got ${n}`);
  const tail = context.slice(Math.max(0, context.length - n));
  const rows = [...tail, ...entries];
  const cpu = Float64Array.from(rows, (m) => m.cpu);
  const rps = Float64Array.from(rows, (m) => m.rps);
  const scores = scoreWindows(cpu, rps, tail.length, rows.length, config);
  return Array.from({ length: scores.length }, (_, j) => eventStatsAt(scores, j));
}
