import { expect } from 'chai';
import * as fc from 'fast-check';
import { decodeStats, encodeLatestStats, type LatestStats } from '../../src/stats-hash.js';

const VIEW_FIELDS = [
  'count', 'window_size', 'window_size_used', 'avg_cpu', 'avg_rps', 'last_cpu', 'last_rps',
  'last_timestamp', 'last_id', 'zscore_cpu', 'zscore_rps', 'is_anomaly_cpu', 'is_anomaly_rps',
  'is_anomaly', 'anomalies_total', 'updated_at',
];

const nonNegative = fc.oneof(fc.double({ min: 0, max: 1e11, noNaN: true }), fc.constantFrom(0, 5e-324, 1e-7, 0.1, 1 / 3));
// A z-score is never -0 (x - mean is +0 when they are equal), and String(-0) is '0'.
const zscore = fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v)), { nil: null });
const latestArb: fc.Arbitrary<LatestStats> = fc.record({
  lastId: fc.tuple(fc.nat(), fc.nat()).map(([ms, seq]) => `${ms}-${seq}`),
  lastTimestamp: nonNegative,
  lastCpu: nonNegative,
  lastRps: nonNegative,
  windowSize: fc.integer({ min: 1, max: 10000 }),
  windowSizeUsed: fc.integer({ min: 1, max: 10000 }),
  avgCpu: nonNegative,
  avgRps: nonNegative,
  zscoreCpu: zscore,
  zscoreRps: zscore,
  isAnomalyCpu: fc.boolean(),
  isAnomalyRps: fc.boolean(),
  prevMeanCpu: fc.option(nonNegative, { nil: null }),
  prevStdCpu: fc.option(nonNegative, { nil: null }),
  prevMeanRps: fc.option(nonNegative, { nil: null }),
  prevStdRps: fc.option(nonNegative, { nil: null }),
});

const SAMPLE: LatestStats = {
  lastId: '5-0', lastTimestamp: 1764000000, lastCpu: 1, lastRps: 2, windowSize: 50, windowSizeUsed: 1,
  avgCpu: 1, avgRps: 2, zscoreCpu: null, zscoreRps: 0, isAnomalyCpu: true, isAnomalyRps: false,
  prevMeanCpu: null, prevStdCpu: null, prevMeanRps: 2, prevStdRps: 0,
};

/** HGETALL of a hash after HSET of these pairs. */
function asHash(pairs: readonly string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) hash[pairs[i]!] = pairs[i + 1]!;
  return hash;
}

const same = (actual: unknown, expected: unknown, what: string) =>
  expect(Object.is(actual, expected), `${what}: ${String(actual)} vs ${String(expected)}`).to.equal(true);

describe('decodeStats', () => {
  it('reads an empty hash as count 0, the configured window size, nulls and false', () => {
    expect(decodeStats({}, 7)).to.deep.equal({
      count: 0,
      window_size: 7,
      window_size_used: 0,
      avg_cpu: null,
      avg_rps: null,
      last_cpu: null,
      last_rps: null,
      last_timestamp: null,
      last_id: null,
      zscore_cpu: null,
      zscore_rps: null,
      is_anomaly_cpu: false,
      is_anomaly_rps: false,
      is_anomaly: false,
      anomalies_total: 0,
      updated_at: null,
    });
  });

  it('has exactly the 16 documented fields, in order', () => {
    expect(Object.keys(decodeStats({}, 50))).to.deep.equal(VIEW_FIELDS);
    const full = asHash([
      ...encodeLatestStats(SAMPLE),
      'last_id', '1-1', 'count', '3', 'anomalies_total', '1', 'anomalies_cpu', '1', 'dead_total', '2',
      'updated_at', '2025-01-01T00:00:00.000Z',
    ]);
    expect(Object.keys(decodeStats(full, 50))).to.deep.equal(VIEW_FIELDS);
  });

  it('keeps exact numbers and nulls through encodeLatestStats and the hash', () => {
    fc.assert(
      fc.property(latestArb, fc.nat(), fc.nat(), (s, count, anomalies) => {
        const hash = asHash([
          ...encodeLatestStats(s),
          'last_id', s.lastId,
          'count', String(count),
          'anomalies_total', String(anomalies),
          'updated_at', '2025-11-24T16:00:00.123Z',
        ]);
        const view = decodeStats(hash, s.windowSize + 1);
        same(view.count, count, 'count');
        same(view.window_size, s.windowSize, 'window_size');
        same(view.window_size_used, s.windowSizeUsed, 'window_size_used');
        same(view.avg_cpu, s.avgCpu, 'avg_cpu');
        same(view.avg_rps, s.avgRps, 'avg_rps');
        same(view.last_cpu, s.lastCpu, 'last_cpu');
        same(view.last_rps, s.lastRps, 'last_rps');
        same(view.last_timestamp, s.lastTimestamp, 'last_timestamp');
        same(view.last_id, s.lastId, 'last_id');
        same(view.zscore_cpu, s.zscoreCpu, 'zscore_cpu');
        same(view.zscore_rps, s.zscoreRps, 'zscore_rps');
        same(view.is_anomaly_cpu, s.isAnomalyCpu, 'is_anomaly_cpu');
        same(view.is_anomaly_rps, s.isAnomalyRps, 'is_anomaly_rps');
        same(view.is_anomaly, s.isAnomalyCpu || s.isAnomalyRps, 'is_anomaly');
        same(view.anomalies_total, anomalies, 'anomalies_total');
        same(view.updated_at, '2025-11-24T16:00:00.123Z', 'updated_at');
      }),
      { numRuns: 300 },
    );
  });

  it('sets is_anomaly when either metric is anomalous', () => {
    expect(decodeStats({ is_anomaly_cpu: '1', is_anomaly_rps: '0' }, 50).is_anomaly).to.equal(true);
    expect(decodeStats({ is_anomaly_cpu: '0', is_anomaly_rps: '1' }, 50).is_anomaly).to.equal(true);
    expect(decodeStats({ is_anomaly_cpu: '0', is_anomaly_rps: '0' }, 50).is_anomaly).to.equal(false);
  });
});

describe('encodeLatestStats', () => {
  it('writes null as an empty string and booleans as 0/1, leaving last_id to the commit script', () => {
    const fields = asHash(encodeLatestStats(SAMPLE));
    expect(fields).to.not.have.property('last_id');
    expect(fields).to.include({
      zscore_cpu: '', zscore_rps: '0', is_anomaly_cpu: '1', is_anomaly_rps: '0',
      prev_mean_cpu: '', prev_std_cpu: '', prev_mean_rps: '2', prev_std_rps: '0',
    });
  });
});
