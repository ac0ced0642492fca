import { expect } from 'chai';
import * as fc from 'fast-check';
import { decodeEntry, encodeEntry, type Metric } from '@pipeline/metric';
import { decodeAnomalyMember, encodeLatestStats, sortableId } from '@pipeline/redis';
import { deadEntry, planCommit, type CommitPlan, type ContextEntry, type RawEntry, type TextEntry } from '../../src/commit-plan.js';
import { computeWindowStats, type EventStats, type StatsConfig } from '../../src/stats/window-stats.js';

const CONFIG: StatsConfig = { windowSize: 5, zThreshold: 1.5, minSamples: 2 };

// Few distinct values, so flat windows, spikes and ordinary points all occur.
const level = fc.oneof(fc.constantFrom(10, 10, 10, 12, 90), fc.double({ min: 0, max: 100, noNaN: true }));
const metricArb: fc.Arbitrary<Metric> = fc.record({
  timestamp: fc.integer({ min: 1, max: 2_000_000_000 }),
  cpu: level,
  rps: level.map((v) => v * 10),
});
const malformedArb = fc.constantFrom<readonly string[]>(
  ['ts', '1', 'cpu', 'oops', 'rps', '1'],
  ['ts', '1', 'rps', '1'],
  ['ts', '1', 'cpu', '1', 'rps', '1', 'cpu', '2'],
  ['ts', '1', 'cpu', '-1', 'rps', '1'],
  ['ts', '1e400', 'cpu', '1', 'rps', '1'],
  [],
);
/** Either a valid metric or a malformed field list, as another producer might write. */
const itemArb = fc.oneof({ arbitrary: metricArb, weight: 4 }, { arbitrary: malformedArb, weight: 1 });

const idOf = (i: number) => `1764000000000-${i}`;
const toSegment = (items: readonly (Metric | readonly string[])[]): TextEntry[] =>
  items.map((item, i) => [idOf(i), Array.isArray(item) ? item : encodeEntry(item as Metric)] as const);
const toContext = (metrics: readonly Metric[]): ContextEntry[] =>
  metrics.map((metric, i) => ({ id: `1700000000000-${i}`, metric }));

const streamArb = fc.record({
  context: fc.array(metricArb, { maxLength: 8 }),
  items: fc.array(itemArb, { maxLength: 30 }),
});

/** The valid entries of a segment, decoded, in order. */
function validOf(segment: readonly TextEntry[]): { id: string; metric: Metric }[] {
  return segment.flatMap(([id, fields]) => {
    const decoded = decodeEntry(fields);
    return decoded.ok ? [{ id, metric: decoded.metric }] : [];
  });
}

function flagsOf(s: EventStats): number {
  return (s.cpu.isAnomaly ? 1 : 0) + (s.rps.isAnomaly ? 2 : 0);
}

function expectedLatestFields(entry: { id: string; metric: Metric }, s: EventStats): string[] {
  return encodeLatestStats({
    lastId: entry.id,
    lastTimestamp: entry.metric.timestamp,
    lastCpu: entry.metric.cpu,
    lastRps: entry.metric.rps,
    windowSize: CONFIG.windowSize,
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
  });
}

describe('planCommit', () => {
  describe('for a batch read with > (own = null)', () => {
    it('processes every valid entry in order with the flags and records of computeWindowStats', () => {
      fc.assert(
        fc.property(streamArb, ({ context, items }) => {
          const segment = toSegment(items);
          const plan = planCommit(toContext(context), segment, null, CONFIG);
          const valid = validOf(segment);
          const stats = computeWindowStats(context, valid.map((v) => v.metric), CONFIG);

          expect(plan.processed.map((p) => p.id)).to.deep.equal(valid.map((v) => v.id));
          plan.processed.forEach((p, i) => {
            const { id, metric } = valid[i]!;
            const s = stats[i]!;
            expect(p.anomalyFlags, id).to.equal(flagsOf(s));
            if (p.anomalyFlags === 0) {
              expect(p.anomalyMember, id).to.equal('');
              return;
            }
            expect(p.anomalyMember.startsWith(`${sortableId(id)}|`), id).to.equal(true);
            expect(decodeAnomalyMember(p.anomalyMember), id).to.deep.equal({
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
            });
          });
        }),
        { numRuns: 200 },
      );
    });

    it('dead-letters each malformed entry with its reason and fields', () => {
      fc.assert(
        fc.property(streamArb, ({ context, items }) => {
          const segment = toSegment(items);
          const plan = planCommit(toContext(context), segment, null, CONFIG);
          const expected = segment.flatMap(([id, fields]) => {
            const decoded = decodeEntry(fields);
            if (decoded.ok) return [];
            const object: Record<string, string> = {};
            for (let i = 0; i + 1 < fields.length; i += 2) object[fields[i]!] = fields[i + 1]!;
            return [{ id, reason: `malformed: ${decoded.reason}`, fieldsJson: JSON.stringify(object) }];
          });
          expect(plan.dead).to.deep.equal(expected);
        }),
        { numRuns: 100 },
      );
    });

    it('gives malformed entries no place in any window', () => {
      fc.assert(
        fc.property(streamArb, ({ context, items }) => {
          const withBad = planCommit(toContext(context), toSegment(items), null, CONFIG);
          const onlyValid = toSegment(items).filter(([, fields]) => decodeEntry(fields).ok);
          const without = planCommit(toContext(context), onlyValid, null, CONFIG);
          expect(withBad.processed).to.deep.equal(without.processed);
          expect(withBad.latest).to.deep.equal(without.latest);
          expect(without.dead).to.deep.equal([]);
        }),
        { numRuns: 100 },
      );
    });

    it('offers the newest valid entry, with encodeLatestStats fields, as the latest', () => {
      fc.assert(
        fc.property(streamArb, ({ context, items }) => {
          const segment = toSegment(items);
          const plan = planCommit(toContext(context), segment, null, CONFIG);
          const valid = validOf(segment);
          if (valid.length === 0) {
            expect(plan.latest).to.equal(null);
            return;
          }
          const stats = computeWindowStats(context, valid.map((v) => v.metric), CONFIG);
          const last = valid.length - 1;
          expect(plan.latest).to.deep.equal({ id: valid[last]!.id, fields: expectedLatestFields(valid[last]!, stats[last]!) });
        }),
        { numRuns: 100 },
      );
    });

    it('flags a cpu spike after a flat window with z null and the flat mean and std 0', () => {
      const context = toContext(Array.from({ length: 5 }, (_, i) => ({ timestamp: 100 + i, cpu: 10, rps: 100 })));
      const plan = planCommit(context, toSegment([{ timestamp: 200, cpu: 90, rps: 100 }]), null, CONFIG);
      expect(plan.processed).to.have.length(1);
      expect(plan.processed[0]!.anomalyFlags).to.equal(1);
      expect(decodeAnomalyMember(plan.processed[0]!.anomalyMember)).to.deep.equal({
        id: idOf(0),
        timestamp: 200,
        cpu: 90,
        rps: 100,
        zscore_cpu: null,
        zscore_rps: 0,
        is_anomaly_cpu: true,
        is_anomaly_rps: false,
        mean_cpu: 10,
        std_cpu: 0,
        mean_rps: 100,
        std_rps: 0,
      });
    });

    it('encodes rps-only anomalies as 2 and both as 3', () => {
      const context = toContext(Array.from({ length: 5 }, (_, i) => ({ timestamp: 100 + i, cpu: 10, rps: 100 })));
      const rpsOnly = planCommit(context, toSegment([{ timestamp: 200, cpu: 10, rps: 900 }]), null, CONFIG);
      const both = planCommit(context, toSegment([{ timestamp: 200, cpu: 90, rps: 900 }]), null, CONFIG);
      const none = planCommit(context, toSegment([{ timestamp: 200, cpu: 10, rps: 100 }]), null, CONFIG);
      expect(rpsOnly.processed[0]!.anomalyFlags).to.equal(2);
      expect(both.processed[0]!.anomalyFlags).to.equal(3);
      expect(none.processed[0]).to.deep.equal({ id: idOf(0), anomalyFlags: 0, anomalyMember: '' });
    });

    it('has no latest when the batch holds only malformed entries', () => {
      const plan = planCommit([], toSegment([['cpu', '1'], ['ts', 'x', 'cpu', '1', 'rps', '1']]), null, CONFIG);
      expect(plan.processed).to.deep.equal([]);
      expect(plan.latest).to.equal(null);
      expect(plan.dead.map((d) => d.id)).to.deep.equal([idOf(0), idOf(1)]);
      expect(plan.dead[1]).to.deep.equal({
        id: idOf(1),
        reason: 'malformed: field ts is not a decimal number: "x"',
        fieldsJson: '{"ts":"x","cpu":"1","rps":"1"}',
      });
    });
  });

  describe('for a claimed segment (own = a subset of its ids)', () => {
    const claimedArb = streamArb.chain(({ context, items }) =>
      fc.record({
        context: fc.constant(context),
        items: fc.constant(items),
        ownMask: fc.array(fc.boolean(), { minLength: items.length, maxLength: items.length }),
      }),
    );

    function claimed({ context, items, ownMask }: { context: Metric[]; items: (Metric | readonly string[])[]; ownMask: boolean[] }) {
      const segment = toSegment(items);
      const own = new Set(segment.filter((_, i) => ownMask[i]).map(([id]) => id));
      return { segment, own, plan: planCommit(toContext(context), segment, own, CONFIG), whole: planCommit(toContext(context), segment, null, CONFIG) };
    }

    it('emits only own entries, each exactly as processing the whole segment gives it', () => {
      fc.assert(
        fc.property(claimedArb, (input) => {
          const { own, plan, whole } = claimed(input);
          expect(plan.processed).to.deep.equal(whole.processed.filter((p) => own.has(p.id)));
          expect(plan.dead).to.deep.equal(whole.dead.filter((d) => own.has(d.id)));
        }),
        { numRuns: 200 },
      );
    });

    it('uses entries it does not own as window context', () => {
      // Five flat entries committed by others, then an own spike: only the context makes it an anomaly.
      const items = [...Array.from({ length: 5 }, (_, i) => ({ timestamp: i, cpu: 10, rps: 100 })), { timestamp: 9, cpu: 90, rps: 100 }];
      const segment = toSegment(items);
      const plan = planCommit([], segment, new Set([idOf(5)]), CONFIG);
      expect(plan.processed).to.have.length(1);
      expect(plan.processed[0]).to.include({ id: idOf(5), anomalyFlags: 1 });
      expect(decodeAnomalyMember(plan.processed[0]!.anomalyMember)).to.include({ mean_cpu: 10, std_cpu: 0 });
    });

    it('does not dead-letter malformed entries it does not own', () => {
      const segment = toSegment([['cpu', 'x'], { timestamp: 1, cpu: 1, rps: 1 }, ['rps', 'y']]);
      const plan = planCommit([], segment, new Set([idOf(1), idOf(2)]), CONFIG);
      expect(plan.dead.map((d) => d.id)).to.deep.equal([idOf(2)]);
      expect(plan.dead[0]!.reason).to.match(/^malformed: /);
      expect(plan.processed.map((p) => p.id)).to.deep.equal([idOf(1)]);
    });

    it('offers the newest own valid entry as the latest, as if the stream ended there', () => {
      fc.assert(
        fc.property(claimedArb, (input) => {
          const { segment, own, plan } = claimed(input);
          let last = -1;
          segment.forEach(([id, fields], i) => {
            if (own.has(id) && decodeEntry(fields).ok) last = i;
          });
          if (last < 0) {
            expect(plan.latest).to.equal(null);
            return;
          }
          const upToIt: CommitPlan = planCommit(toContext(input.context), segment.slice(0, last + 1), null, CONFIG);
          expect(plan.latest).to.deep.equal(upToIt.latest);
          expect(plan.latest!.id).to.equal(segment[last]![0]);
        }),
        { numRuns: 200 },
      );
    });

    it('has no latest when it owns no valid entry', () => {
      const segment = toSegment([{ timestamp: 1, cpu: 1, rps: 1 }, ['cpu', 'x']]);
      expect(planCommit([], segment, new Set([idOf(1)]), CONFIG).latest).to.equal(null);
      expect(planCommit([], segment, new Set(), CONFIG)).to.deep.equal({ processed: [], dead: [], latest: null });
    });
  });
});

describe('planCommit on a reply read as bytes', () => {
  it('plans exactly what it plans for the same entries read as text', () => {
    fc.assert(
      fc.property(streamArb, ({ context, items }) => {
        const segment = toSegment(items);
        const asBytes: RawEntry[] = segment.map(([id, fields]) => [Buffer.from(String(id)), fields.map((f) => Buffer.from(String(f)))]);
        expect(planCommit(toContext(context), asBytes, null, CONFIG)).to.deep.equal(planCommit(toContext(context), segment, null, CONFIG));
      }),
    );
  });
});

describe('deadEntry', () => {
  it('keeps the reason verbatim and the fields as a JSON object', () => {
    expect(deadEntry('1-2', ['ts', '1', 'cpu', '2', 'rps', '3'], 'delivered 11 times')).to.deep.equal({
      id: '1-2',
      reason: 'delivered 11 times',
      fieldsJson: '{"ts":"1","cpu":"2","rps":"3"}',
    });
  });

  it('writes {} for an entry without fields and drops a trailing name without value', () => {
    expect(deadEntry('1-0', [], 'r').fieldsJson).to.equal('{}');
    expect(deadEntry('1-0', ['a', 'b', 'c'], 'r').fieldsJson).to.equal('{"a":"b"}');
  });
});
