// An independent, deliberately naive reference for DESIGN.md "Statistics": for every event it
// slices the windows out of the full history and recomputes everything from scratch.
import type { EventStats, Metric, MetricScore, StatsConfig } from '../../src/stats/window-stats.js';

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function populationStd(values: readonly number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, v) => sum + (v - m) * (v - m), 0) / values.length);
}

function referenceScore(previous: readonly number[], x: number, config: StatsConfig): MetricScore {
  if (previous.length === 0 || previous.length < config.minSamples) {
    return { z: 0, isAnomaly: false, prevMean: null, prevStd: null };
  }
  const first = previous[0]!;
  if (previous.every((v) => v === first)) {
    return x === first
      ? { z: 0, isAnomaly: false, prevMean: first, prevStd: 0 }
      : { z: null, isAnomaly: true, prevMean: first, prevStd: 0 };
  }
  const m = mean(previous);
  const s = populationStd(previous);
  const z = (x - m) / s;
  return { z, isAnomaly: Math.abs(z) > config.zThreshold, prevMean: m, prevStd: s };
}

/** Statistics for every event of a whole stream, from its start. */
export function referenceStats(history: readonly Metric[], config: StatsConfig): EventStats[] {
  const n = config.windowSize;
  return history.map((event, i) => {
    const previous = history.slice(Math.max(0, i - n), i);
    const including = history.slice(Math.max(0, i + 1 - n), i + 1);
    const cpu = referenceScore(previous.map((m) => m.cpu), event.cpu, config);
    const rps = referenceScore(previous.map((m) => m.rps), event.rps, config);
    return {
      windowSizeUsed: including.length,
      avgCpu: mean(including.map((m) => m.cpu)),
      avgRps: mean(including.map((m) => m.rps)),
      cpu,
      rps,
      isAnomaly: cpu.isAnomaly || rps.isAnomaly,
    };
  });
}
