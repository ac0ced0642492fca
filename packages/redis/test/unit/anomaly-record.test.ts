import { expect } from 'chai';
import * as fc from 'fast-check';
import { decodeAnomalyMember, encodeAnomalyMember, sortableId, type AnomalyRecord } from '../../src/anomaly-record.js';

const U64_MAX = 2n ** 64n - 1n;
// Small values too, so equal ms (ties decided by seq) come up often.
const u64 = fc.oneof(fc.bigInt({ min: 0n, max: U64_MAX }), fc.bigInt({ min: 0n, max: 20n }));
const idArb = fc.tuple(u64, u64);
const idText = ([ms, seq]: readonly [bigint, bigint]) => `${ms}-${seq}`;
const compareIds = ([ams, aseq]: readonly [bigint, bigint], [bms, bseq]: readonly [bigint, bigint]) =>
  ams !== bms ? (ams < bms ? -1 : 1) : aseq !== bseq ? (aseq < bseq ? -1 : 1) : 0;
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

// JSON has no -0, and records never hold one: a window statistic of values >= 0 is never -0.
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v));
const nonNegative = fc.double({ min: 0, max: 1e9, noNaN: true });
const recordArb: fc.Arbitrary<AnomalyRecord> = fc.record({
  id: idArb.map(idText),
  timestamp: nonNegative,
  cpu: nonNegative,
  rps: nonNegative,
  zscore_cpu: fc.option(finite, { nil: null }),
  zscore_rps: fc.option(finite, { nil: null }),
  is_anomaly_cpu: fc.boolean(),
  is_anomaly_rps: fc.boolean(),
  mean_cpu: fc.option(nonNegative, { nil: null }),
  std_cpu: fc.option(nonNegative, { nil: null }),
  mean_rps: fc.option(nonNegative, { nil: null }),
  std_rps: fc.option(nonNegative, { nil: null }),
});

describe('sortableId', () => {
  it('zero-pads both parts to 20 digits', () => {
    expect(sortableId('1764000000000-5')).to.equal('00000001764000000000-00000000000000000005');
    expect(sortableId(`${U64_MAX}-${U64_MAX}`)).to.equal(`${U64_MAX}-${U64_MAX}`);
  });

  it('orders ids by (ms, seq) where the raw text does not', () => {
    expect('9-0' > '10-0').to.equal(true);
    expect(sortableId('9-0') < sortableId('10-0')).to.equal(true);
    expect(sortableId('5-9') < sortableId('5-10')).to.equal(true);
  });

  it('compares as strings exactly as the ids compare as (ms, seq) number pairs', () => {
    fc.assert(
      fc.property(idArb, idArb, (a, b) => {
        expect(compareText(sortableId(idText(a)), sortableId(idText(b)))).to.equal(compareIds(a, b));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('encodeAnomalyMember / decodeAnomalyMember', () => {
  it('round-trips a record exactly', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        expect(decodeAnomalyMember(encodeAnomalyMember(record))).to.deep.equal(record);
      }),
      { numRuns: 300 },
    );
  });

  it('starts the member with the sortable id, so members sort in event order', () => {
    fc.assert(
      fc.property(recordArb, idArb, idArb, (record, a, b) => {
        const ma = encodeAnomalyMember({ ...record, id: idText(a) });
        const mb = encodeAnomalyMember({ ...record, id: idText(b), cpu: record.cpu + 1 });
        expect(ma.startsWith(`${sortableId(idText(a))}|`)).to.equal(true);
        if (compareIds(a, b) !== 0) expect(compareText(ma, mb)).to.equal(compareIds(a, b));
      }),
      { numRuns: 300 },
    );
  });
});
