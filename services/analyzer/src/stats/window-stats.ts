// Pure rolling-window statistics (DESIGN.md, "Statistics"). No I/O, no dependencies.
//
// Every window is recomputed directly (two-pass mean, population std, summed oldest first) over
// one combined typed array (context tail + entries): O(N) per event, no drift, no per-event
// allocation other than the result objects. Flatness is decided by exact value equality via the
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

const WARM_UP: MetricScore = Object.freeze({ z: 0, isAnomaly: false, prevMean: null, prevStd: null });

/** Mean of a[from..to) summed oldest first (the same order as a from-scratch two-pass computation). */
function meanOf(a: Float64Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += a[i]!;
  return sum / (to - from);
}

/**
 * Scores a[p] against the `count` values before it. `run` is the length of the run of equal
 * values ending at a[p - 1]; the previous window is flat iff that run covers all of it.
 */
function score(a: Float64Array, p: number, count: number, run: number, minPrev: number, threshold: number): MetricScore {
  if (count < minPrev) return WARM_UP;
  const x = a[p]!;
  if (run >= count) {
    const w = a[p - 1]!;
    return x === w
      ? { z: 0, isAnomaly: false, prevMean: w, prevStd: 0 }
      : { z: null, isAnomaly: true, prevMean: w, prevStd: 0 };
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
    return x === mean
      ? { z: 0, isAnomaly: false, prevMean: mean, prevStd: std }
      : { z: null, isAnomaly: true, prevMean: mean, prevStd: std };
  }
  return { z, isAnomaly: Math.abs(z) > threshold, prevMean: mean, prevStd: std };
}

/**
 * context: the valid metrics immediately preceding entries[0] in the stream, oldest first (only the last
 * config.windowSize of them matter; fewer means the stream starts there). Returns one EventStats per entry,
 * each judged against the windowSize entries before it (leave-one-out), where entries earlier in `entries` count as previous too.
 */
export function computeWindowStats(context: readonly Metric[], entries: readonly Metric[], config: StatsConfig): EventStats[] {
  const n = config.windowSize;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`windowSize must be a positive integer, got ${n}`);
  const minPrev = Math.max(1, config.minSamples);
  const threshold = config.zThreshold;

  const ctxLen = Math.min(context.length, n);
  const ctxStart = context.length - ctxLen;
  const total = ctxLen + entries.length;
  const cpu = new Float64Array(total);
  const rps = new Float64Array(total);
  for (let k = 0; k < ctxLen; k++) {
    const m = context[ctxStart + k]!;
    cpu[k] = m.cpu;
    rps[k] = m.rps;
  }
  for (let j = 0; j < entries.length; j++) {
    const m = entries[j]!;
    cpu[ctxLen + j] = m.cpu;
    rps[ctxLen + j] = m.rps;
  }

  // Runs of equal values ending at index ctxLen - 1 (the last context entry).
  let runCpu = 0;
  let runRps = 0;
  for (let k = 0; k < ctxLen; k++) {
    runCpu = k > 0 && cpu[k] === cpu[k - 1] ? runCpu + 1 : 1;
    runRps = k > 0 && rps[k] === rps[k - 1] ? runRps + 1 : 1;
  }

  const out: EventStats[] = new Array<EventStats>(entries.length);
  for (let p = ctxLen; p < total; p++) {
    const prevCount = p < n ? p : n;
    const used = prevCount < n ? prevCount + 1 : n;
    const c = score(cpu, p, prevCount, runCpu, minPrev, threshold);
    const r = score(rps, p, prevCount, runRps, minPrev, threshold);
    out[p - ctxLen] = {
      windowSizeUsed: used,
      avgCpu: meanOf(cpu, p + 1 - used, p + 1),
      avgRps: meanOf(rps, p + 1 - used, p + 1),
      cpu: c,
      rps: r,
      isAnomaly: c.isAnomaly || r.isAnomaly,
    };
    runCpu = p > 0 && cpu[p] === cpu[p - 1] ? runCpu + 1 : 1;
    runRps = p > 0 && rps[p] === rps[p - 1] ? runRps + 1 : 1;
  }
  return out;
}
