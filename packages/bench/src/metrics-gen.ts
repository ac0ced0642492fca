// Realistic metrics for the load: cpu and rps with a slow drift, Gaussian noise and, with a given
// probability, a spike (what the analyzer exists to flag). Seeded, so runs send the same data.

export interface GeneratedMetric {
  readonly timestamp?: number;
  readonly cpu: number;
  readonly rps: number;
}

export interface MetricSource {
  /** The next metric; `spike` says whether a spike was injected into it. */
  next(): { metric: GeneratedMetric; spike: boolean };
  /** How many spikes were injected so far. */
  readonly spikes: number;
}

export interface MetricSourceOptions {
  /** Probability that an event is a spike (0..1). Default 0. */
  readonly anomalyRate?: number;
  readonly seed?: number;
  /** Unix seconds of the first event and seconds between events; absent: no timestamp (server time). */
  readonly startTimestamp?: number;
  readonly intervalSeconds?: number;
}

/** mulberry32: small, fast, good enough for load data. */
function random32(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;
const round3 = (value: number) => Math.round(value * 1000) / 1000;

export function createMetricSource(opts: MetricSourceOptions = {}): MetricSource {
  const random = random32(opts.seed ?? 1);
  const anomalyRate = opts.anomalyRate ?? 0;
  const gaussian = () => {
    // Box–Muller; 1 - random() is in (0, 1], so the log is finite.
    const u = 1 - random();
    const v = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  let i = 0;
  let spikes = 0;
  return {
    get spikes() {
      return spikes;
    },
    next() {
      const phase = (2 * Math.PI * i) / 6000; // a slow "daily" swing
      let cpu = 50 + 8 * Math.sin(phase) + 3 * gaussian();
      let rps = 1900 + 250 * Math.sin(phase) + 60 * gaussian();
      const spike = random() < anomalyRate;
      if (spike) {
        spikes++;
        const which = random();
        if (which < 0.5) cpu += 35 + 20 * random();
        else if (which < 0.8) rps *= 3 + 2 * random();
        else {
          cpu += 35 + 20 * random();
          rps *= 3 + 2 * random();
        }
      }
      cpu = round2(Math.min(10_000, Math.max(0, cpu)));
      rps = round1(Math.max(0, rps));
      const metric: GeneratedMetric =
        opts.startTimestamp === undefined
          ? { cpu, rps }
          : { timestamp: round3(opts.startTimestamp + i * (opts.intervalSeconds ?? 0.001)), cpu, rps };
      i++;
      return { metric, spike };
    },
  };
}
