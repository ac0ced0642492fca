import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import * as fc from 'fast-check';
import { computeWindowStats } from '../../src/stats/window-stats.js';
import type { EventStats, Metric, MetricScore, StatsConfig } from '../../src/stats/window-stats.js';
import { referenceStats } from '../support/reference-stats.js';

// ---- shared vectors ---------------------------------------------------------------------------

interface VectorRow {
  count: number;
  window_size_used: number;
  avg_cpu: number;
  avg_rps: number;
  zscore_cpu: number | null;
  zscore_rps: number | null;
  is_anomaly_cpu: boolean;
  is_anomaly_rps: boolean;
  is_anomaly: boolean;
  anomalies_total: number;
  prev_mean_cpu: number | null;
  prev_std_cpu: number | null;
  prev_mean_rps: number | null;
  prev_std_rps: number | null;
}
interface VectorCase {
  name: string;
  about: string;
  config: { window: number; threshold: number; minSamples: number };
  events: Metric[];
  expected: VectorRow[];
}

const ROW_KEYS: readonly (keyof VectorRow)[] = [
  'count', 'window_size_used', 'avg_cpu', 'avg_rps', 'zscore_cpu', 'zscore_rps',
  'is_anomaly_cpu', 'is_anomaly_rps', 'is_anomaly', 'anomalies_total',
  'prev_mean_cpu', 'prev_std_cpu', 'prev_mean_rps', 'prev_std_rps',
];

const vectors = JSON.parse(
  readFileSync(new URL('../fixtures/stats-vectors.json', import.meta.url), 'utf8'),
) as { cases: VectorCase[] };

const toConfig = (c: VectorCase['config']): StatsConfig => ({
  windowSize: c.window,
  zThreshold: c.threshold,
  minSamples: c.minSamples,
});

/** /stats rows for consecutive results, the first being stream entry `firstIndex`. */
function toRows(stats: readonly EventStats[], firstIndex = 0, anomaliesBefore = 0): VectorRow[] {
  let anomalies = anomaliesBefore;
  return stats.map((s, j) => {
    if (s.isAnomaly) anomalies++;
    return {
      count: firstIndex + j + 1,
      window_size_used: s.windowSizeUsed,
      avg_cpu: s.avgCpu,
      avg_rps: s.avgRps,
      zscore_cpu: s.cpu.z,
      zscore_rps: s.rps.z,
      is_anomaly_cpu: s.cpu.isAnomaly,
      is_anomaly_rps: s.rps.isAnomaly,
      is_anomaly: s.isAnomaly,
      anomalies_total: anomalies,
      prev_mean_cpu: s.cpu.prevMean,
      prev_std_cpu: s.cpu.prevStd,
      prev_mean_rps: s.rps.prevMean,
      prev_std_rps: s.rps.prevStd,
    };
  });
}

const REL_TOLERANCE = 1e-9;
const ABS_TOLERANCE = 1e-12;

function sameValue(actual: number | boolean | null, expected: number | boolean | null): boolean {
  if (typeof actual === 'number' && typeof expected === 'number') {
    return Math.abs(actual - expected) <= Math.max(ABS_TOLERANCE, REL_TOLERANCE * Math.abs(expected));
  }
  return actual === expected; // null and booleans exactly
}

/** Description of the first difference between two row lists, or null when they match. */
function firstMismatch(actual: readonly VectorRow[], expected: readonly VectorRow[]): string | null {
  if (actual.length !== expected.length) return `got ${actual.length} rows, want ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    for (const key of ROW_KEYS) {
      if (!sameValue(a[key], e[key])) return `event ${i} ${key}: got ${a[key]}, want ${e[key]}`;
    }
  }
  return null;
}

/** Runs the stream in consecutive batches of `size`, each given the earlier events as context. */
function runInBatches(events: readonly Metric[], config: StatsConfig, size: number, wholeHistory: boolean): EventStats[] {
  const out: EventStats[] = [];
  for (let start = 0; start < events.length; start += size) {
    const from = wholeHistory ? 0 : Math.max(0, start - config.windowSize);
    out.push(...computeWindowStats(events.slice(from, start), events.slice(start, start + size), config));
  }
  return out;
}

function batchSizesFor(n: number): number[] {
  if (n <= 400) return Array.from({ length: n }, (_, i) => i + 1);
  const sizes = Array.from({ length: 64 }, (_, i) => i + 1);
  return [...sizes, 97, 128, 251, 499, 997, 1024, Math.floor(n / 2), n - 1, n];
}

// ---- generators for property tests ------------------------------------------------------------

/** Values that are not exactly representable (33.3, 0.1, ...) make "flat" hard to detect by arithmetic. */
const FLAT_VALUES = [33.3, 0.1, 0.3, 50, 1000, 1234.5, 0, 99.99] as const;
const SPIKES = [1e4, 9999.99, -50, 0.1000001, 33.30000000000001, 0] as const;

const noisyValue = fc.oneof(
  fc.integer({ min: 0, max: 100_000 }).map((v) => v / 100), // cpu-like, two decimals
  fc.integer({ min: 0, max: 5_000_000 }).map((v) => v / 10), // rps-like
  fc.integer({ min: -5, max: 5 }).map((k) => 33.3 + k * 1e-9), // tiny spread around a flat value
  fc.constantFrom(...FLAT_VALUES),
);

const segment = (len: number): fc.Arbitrary<number[]> =>
  fc.oneof(
    fc.constantFrom(...FLAT_VALUES).map((v) => new Array<number>(len).fill(v)),
    fc.array(noisyValue, { minLength: len, maxLength: len }),
    fc
      .tuple(fc.constantFrom(...FLAT_VALUES), fc.constantFrom(...SPIKES), fc.nat({ max: len - 1 }))
      .map(([v, spike, at]) => {
        const values = new Array<number>(len).fill(v);
        values[at] = spike;
        return values;
      }),
  );

const streamArb: fc.Arbitrary<Metric[]> = fc
  .array(
    fc.integer({ min: 1, max: 60 }).chain((len) => fc.tuple(segment(len), segment(len))),
    { maxLength: 10 },
  )
  .map((segments) =>
    segments
      .flatMap(([cpu, rps]) => cpu.map((c, i) => ({ cpu: c, rps: rps[i]! })))
      .slice(0, 300)
      .map((m, i) => ({ timestamp: 1_764_000_000 + i, ...m })),
  );

const configArb: fc.Arbitrary<StatsConfig> = fc.integer({ min: 1, max: 60 }).chain((windowSize) =>
  fc.record({
    windowSize: fc.constant(windowSize),
    minSamples: fc.integer({ min: 1, max: windowSize + 2 }),
    zThreshold: fc.double({ min: 0.5, max: 4, noNaN: true }),
  }),
);

const isFiniteScore = (s: MetricScore): boolean =>
  (s.z === null ? s.isAnomaly && s.prevStd === 0 : Number.isFinite(s.z)) &&
  (s.prevMean === null ? s.prevStd === null : Number.isFinite(s.prevMean) && Number.isFinite(s.prevStd));

// ---- tests ------------------------------------------------------------------------------------

const metrics = (cpu: readonly number[], rps?: readonly number[]): Metric[] =>
  cpu.map((c, i) => ({ timestamp: 1_764_000_000 + i, cpu: c, rps: rps?.[i] ?? 100 }));

describe('computeWindowStats', () => {
  describe('against the shared vectors', () => {
    it('the vectors hold a row with every /stats field for every event', () => {
      expect(vectors.cases).to.have.length.greaterThan(0);
      const wanted = [...ROW_KEYS].sort().join();
      for (const c of vectors.cases) {
        expect(c.expected, c.name).to.have.length(c.events.length);
        const odd = c.expected.findIndex((row) => Object.keys(row).sort().join() !== wanted);
        expect(odd, `${c.name}: row with other fields`).to.equal(-1);
      }
    });

    it('the reference implementation reproduces the vectors', () => {
      for (const c of vectors.cases) {
        const mismatch = firstMismatch(toRows(referenceStats(c.events, toConfig(c.config))), c.expected);
        expect(mismatch, c.name).to.equal(null);
      }
    });

    for (const c of vectors.cases) {
      it(`matches the shared vectors whatever the batch size (${c.name}: ${c.events.length} events)`, () => {
        const config = toConfig(c.config);
        for (const size of batchSizesFor(c.events.length)) {
          for (const wholeHistory of [false, true]) {
            const mismatch = firstMismatch(toRows(runInBatches(c.events, config, size, wholeHistory)), c.expected);
            expect(mismatch, `batch size ${size}, ${wholeHistory ? 'whole history' : 'last N'} as context`).to.equal(null);
          }
        }
      });
    }
  });

  describe('behaviour', () => {
    const config: StatsConfig = { windowSize: 10, zThreshold: 2, minSamples: 5 };

    it('flags a spike after a flat line as an anomaly with z null', () => {
      const events = metrics([...new Array<number>(10).fill(50), 50], [...new Array<number>(10).fill(1000), 1001]);
      const last = computeWindowStats(events.slice(0, 10), events.slice(10), config)[0]!;
      expect(last.rps).to.deep.equal({ z: null, isAnomaly: true, prevMean: 1000, prevStd: 0 });
      expect(last.cpu).to.deep.equal({ z: 0, isAnomaly: false, prevMean: 50, prevStd: 0 });
      expect(last.isAnomaly).to.equal(true);
    });

    it('does not flag a value equal to a flat line and reports z 0 with the exact repeated value', () => {
      // Arithmetic would not notice these windows are flat: the computed means are off by an ulp.
      expect(new Array<number>(8).fill(33.3).reduce((a, b) => a + b, 0) / 8).to.not.equal(33.3);
      expect(new Array<number>(8).fill(0.1).reduce((a, b) => a + b, 0) / 8).to.not.equal(0.1);
      const events = metrics(new Array<number>(9).fill(33.3), new Array<number>(9).fill(0.1));
      const last = computeWindowStats([], events, { windowSize: 8, zThreshold: 2, minSamples: 4 })[8]!;
      expect(last.cpu).to.deep.equal({ z: 0, isAnomaly: false, prevMean: 33.3, prevStd: 0 });
      expect(last.rps).to.deep.equal({ z: 0, isAnomaly: false, prevMean: 0.1, prevStd: 0 });
      expect(last.isAnomaly).to.equal(false);
    });

    it('never flags during warm-up, however large the jump', () => {
      const warm: StatsConfig = { windowSize: 50, zThreshold: 2, minSamples: 10 };
      const events = metrics([40, 41, 39, 40, 41, 39, 40, 41, 39, 1e6], [1, 2, 1, 2, 1, 2, 1, 2, 1, -1e6]);
      const stats = computeWindowStats([], events, warm);
      for (const s of stats) {
        expect(s.isAnomaly).to.equal(false);
        for (const score of [s.cpu, s.rps]) expect(score).to.deep.equal({ z: 0, isAnomaly: false, prevMean: null, prevStd: null });
      }
      // One more previous entry (here from the context) ends the warm-up and the jump is flagged.
      const withContext = computeWindowStats(metrics([40]), events, warm)[9]!;
      expect(withContext.cpu.isAnomaly).to.equal(true);
      expect(withContext.rps.isAnomaly).to.equal(true);
    });

    it('leave-one-out finds a spike in window 5 that an including-the-point z would cap at the threshold', () => {
      const small: StatsConfig = { windowSize: 5, zThreshold: 2, minSamples: 5 };
      const cpu = [40, 41, 39, 40.5, 39.5, 90];
      const s = computeWindowStats([], metrics(cpu), small)[5]!;
      expect(s.cpu.isAnomaly).to.equal(true);
      expect(s.cpu.z).to.be.greaterThan(50);
      // The same spike judged against the last 5 values including itself: with n points one of them
      // can be at most sqrt(n-1) population stds (= 2 here) or (n-1)/sqrt(n) sample stds from their
      // mean, so `|z| > 2` could never fire in a window of 5.
      const window = cpu.slice(1);
      const n = window.length;
      const mean = window.reduce((a, b) => a + b, 0) / n;
      const squares = window.reduce((a, v) => a + (v - mean) ** 2, 0);
      const populationZ = (90 - mean) / Math.sqrt(squares / n);
      const sampleZ = (90 - mean) / Math.sqrt(squares / (n - 1));
      expect(populationZ).to.be.at.most(Math.sqrt(n - 1));
      expect(sampleZ).to.be.at.most((n - 1) / Math.sqrt(n));
      expect(populationZ > small.zThreshold).to.equal(false);
    });

    it('flags only a |z| strictly greater than the threshold', () => {
      const pair: StatsConfig = { windowSize: 2, zThreshold: 2, minSamples: 2 }; // previous [0, 2]: mean 1, std 1
      const [atUp, atDown, above] = [3, -1, 3.000001].map((x) => computeWindowStats(metrics([0, 2]), metrics([x]), pair)[0]!.cpu);
      expect(atUp).to.deep.equal({ z: 2, isAnomaly: false, prevMean: 1, prevStd: 1 });
      expect(atDown).to.deep.equal({ z: -2, isAnomaly: false, prevMean: 1, prevStd: 1 });
      expect(above!.isAnomaly).to.equal(true);
    });

    it('counts context entries in window_size_used and in the averages', () => {
      const stats = computeWindowStats(metrics([1, 2, 3]), metrics([4, 5]), { windowSize: 4, zThreshold: 2, minSamples: 1 });
      expect(stats.map((s) => s.windowSizeUsed)).to.deep.equal([4, 4]);
      expect(stats.map((s) => s.avgCpu)).to.deep.equal([2.5, 3.5]);
    });

    it('returns nothing for no entries and rejects a window size that is not a positive integer', () => {
      expect(computeWindowStats(metrics([1, 2]), [], config)).to.deep.equal([]);
      for (const windowSize of [0, -1, 2.5, Number.NaN]) {
        expect(() => computeWindowStats([], metrics([1]), { ...config, windowSize })).to.throw(RangeError);
      }
    });

    it('stays finite when the spread of a window underflows to zero', () => {
      const tiny = metrics([1e-200, 2e-200, 1e-200, 2e-200, 1e-200, 3e-200], [5e-324, 0, 5e-324, 0, 5e-324, 1e-323]);
      for (const s of computeWindowStats([], tiny, { windowSize: 5, zThreshold: 2, minSamples: 2 })) {
        expect(Number.isFinite(s.avgCpu) && Number.isFinite(s.avgRps)).to.equal(true);
        expect(isFiniteScore(s.cpu) && isFiniteScore(s.rps), JSON.stringify(s)).to.equal(true);
      }
    });
  });

  describe('properties', () => {
    it('equals the from-scratch reference however the stream is cut into context and batches', () => {
      fc.assert(
        fc.property(
          streamArb,
          configArb,
          fc.array(fc.nat({ max: 300 }), { maxLength: 12 }),
          fc.nat({ max: 80 }),
          (events, config, cutPoints, extraContext) => {
            const cuts = [...new Set(cutPoints.filter((c) => c > 0 && c < events.length))].sort((a, b) => a - b);
            const bounds = [0, ...cuts, events.length];
            const batched: EventStats[] = [];
            for (let b = 0; b + 1 < bounds.length; b++) {
              const start = bounds[b]!;
              const context = events.slice(Math.max(0, start - config.windowSize - extraContext), start);
              batched.push(...computeWindowStats(context, events.slice(start, bounds[b + 1]), config));
            }
            expect(firstMismatch(toRows(batched), toRows(referenceStats(events, config)))).to.equal(null);
            // Cutting changes nothing at all, not even the last bit.
            expect(batched).to.deep.equal(computeWindowStats([], events, config));
          },
        ),
        { numRuns: 200 },
      );
    });

    it('outputs only finite numbers, with null only for z (after a flat window) and during warm-up for prev_*', () => {
      fc.assert(
        fc.property(streamArb, configArb, (events, config) => {
          for (const s of computeWindowStats([], events, config)) {
            expect(Number.isFinite(s.avgCpu) && Number.isFinite(s.avgRps), JSON.stringify(s)).to.equal(true);
            expect(Number.isInteger(s.windowSizeUsed)).to.equal(true);
            expect(isFiniteScore(s.cpu) && isFiniteScore(s.rps), JSON.stringify(s)).to.equal(true);
            expect(s.isAnomaly).to.equal(s.cpu.isAnomaly || s.rps.isAnomaly);
          }
        }),
        { numRuns: 200 },
      );
    });
  });
});
