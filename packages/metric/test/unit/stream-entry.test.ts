import { expect } from 'chai';
import * as fc from 'fast-check';
import { CPU_MAX, RPS_MAX, TIMESTAMP_MAX_SECONDS } from '../../src/limits.js';
import type { Metric } from '../../src/metric.js';
import { decodeEntry, encodeEntries, encodeEntry, ENTRY_WORDS } from '../../src/stream-entry.js';

// Values whose String() needs care: exponents, subnormals, fractions that are not exact in binary.
const TRICKY = [0, 5e-324, 2.2250738585072014e-308, 1e-300, 1.5e-10, 1e-7, 2.5e-7, 0.1, 1 / 3, 0.30000000000000004, 1];

/** Any value a metric field may hold: 0..max inclusive, with the tricky ones mixed in often. */
const valueUpTo = (max: number) =>
  fc.oneof(
    fc.double({ min: 0, max, noNaN: true }),
    fc.double({ min: 0, max: 1e-6, noNaN: true }),
    fc.integer({ min: 0, max: Math.min(max, Number.MAX_SAFE_INTEGER) }),
    fc.constantFrom(...TRICKY.filter((v) => v <= max), max),
  );

const metricArb: fc.Arbitrary<Metric> = fc.record({
  timestamp: valueUpTo(TIMESTAMP_MAX_SECONDS),
  cpu: valueUpTo(CPU_MAX),
  rps: valueUpTo(RPS_MAX),
});

type Pair = readonly [string, string];
const pairsOf = (fields: readonly string[]): Pair[] => {
  const pairs: Pair[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) pairs.push([fields[i]!, fields[i + 1]!]);
  return pairs;
};
const flatten = (pairs: readonly Pair[]): string[] => pairs.flatMap(([name, value]) => [name, value]);

const VALID = { ts: '1764000000', cpu: '42.5', rps: '1200' } as const;
type FieldName = keyof typeof VALID;
const FIELD_NAMES: readonly FieldName[] = ['ts', 'cpu', 'rps'];
const MAX_OF: Record<FieldName, number> = { ts: TIMESTAMP_MAX_SECONDS, cpu: CPU_MAX, rps: RPS_MAX };

/** A valid entry with one field's value replaced. */
const withField = (name: FieldName, value: string): string[] =>
  FIELD_NAMES.flatMap((n) => [n, n === name ? value : VALID[n]]);

function expectMalformed(fields: readonly string[], field: FieldName): string {
  const decoded = decodeEntry(fields);
  if (decoded.ok) return expect.fail(`expected ${JSON.stringify(fields)} to be malformed`);
  expect(decoded.reason).to.include(`field ${field}`);
  return decoded.reason;
}

describe('encodeEntry', () => {
  it('writes ts, cpu and rps as String(number)', () => {
    expect(encodeEntry({ timestamp: 1764000000.5, cpu: 1e-7, rps: 1200 })).to.deep.equal([
      'ts', '1764000000.5', 'cpu', '1e-7', 'rps', '1200',
    ]);
  });
});

describe('encodeEntries', () => {
  it("joins every entry's encodeEntry words with single spaces, ENTRY_WORDS per entry", () => {
    fc.assert(
      fc.property(fc.array(metricArb, { maxLength: 20 }), (metrics) => {
        const joined = encodeEntries(metrics);
        const words = metrics.flatMap((m) => encodeEntry(m));
        expect(joined).to.equal(words.join(' '));
        expect(words.every((w) => w !== '' && !w.includes(' ')), 'no word is empty or holds a space').to.equal(true);
        expect(joined === '' ? 0 : joined.split(' ').length).to.equal(metrics.length * ENTRY_WORDS);
      }),
    );
  });
});

describe('decodeEntry', () => {
  it('round-trips every valid metric exactly', () => {
    fc.assert(
      fc.property(metricArb, (metric) => {
        const decoded = decodeEntry(encodeEntry(metric));
        if (!decoded.ok) return expect.fail(`rejected ${JSON.stringify(encodeEntry(metric))}: ${decoded.reason}`);
        expect(Object.is(decoded.metric.timestamp, metric.timestamp), 'timestamp').to.equal(true);
        expect(Object.is(decoded.metric.cpu, metric.cpu), 'cpu').to.equal(true);
        expect(Object.is(decoded.metric.rps, metric.rps), 'rps').to.equal(true);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips values that print with an exponent', () => {
    for (const value of [5e-324, 1e-300, 1.5e-10, 1e-7, 2.5e-7]) {
      const fields = encodeEntry({ timestamp: value, cpu: value, rps: value });
      expect(fields[1]).to.include('e-');
      expect(decodeEntry(fields)).to.deep.equal({ ok: true, metric: { timestamp: value, cpu: value, rps: value } });
    }
  });

  it('accepts 0 and each bound exactly', () => {
    expect(decodeEntry(['ts', '0', 'cpu', '0', 'rps', '0'])).to.deep.equal({ ok: true, metric: { timestamp: 0, cpu: 0, rps: 0 } });
    expect(decodeEntry(encodeEntry({ timestamp: TIMESTAMP_MAX_SECONDS, cpu: CPU_MAX, rps: RPS_MAX }))).to.deep.equal({
      ok: true,
      metric: { timestamp: TIMESTAMP_MAX_SECONDS, cpu: CPU_MAX, rps: RPS_MAX },
    });
  });

  it('does not depend on field order and tolerates unknown extra fields', () => {
    const extraName = fc.string({ maxLength: 8 }).filter((s) => !(FIELD_NAMES as readonly string[]).includes(s));
    const extras = fc.array(fc.tuple(extraName, fc.string({ maxLength: 8 })), { maxLength: 4 });
    // Any order of the known fields and the unknown ones.
    const shuffled = fc.tuple(metricArb, extras).chain(([metric, extra]) => {
      const pairs = [...pairsOf(encodeEntry(metric)), ...extra];
      return fc.tuple(fc.constant(metric), fc.shuffledSubarray(pairs, { minLength: pairs.length }));
    });
    fc.assert(
      fc.property(shuffled, ([metric, pairs]) => {
        expect(decodeEntry(flatten(pairs))).to.deep.equal({ ok: true, metric });
      }),
      { numRuns: 300 },
    );
  });

  for (const field of FIELD_NAMES) {
    it(`rejects an entry without ${field}, naming the field`, () => {
      const fields = flatten(pairsOf(withField(field, '1')).filter(([name]) => name !== field));
      expect(expectMalformed(fields, field)).to.include('missing');
    });

    it(`rejects ${field} given twice, even with the same value`, () => {
      expect(expectMalformed([...withField(field, '1'), field, '1'], field)).to.include('twice');
    });

    const bad = ['', ' 1', '1 ', '0x10', '+1', '1,5', 'Infinity', '-Infinity', 'NaN', '1e400', '-1', '-0.5', 'abc', '1e', '.'];
    it(`rejects a ${field} that is not a plain decimal in range, naming the field`, () => {
      for (const value of [...bad, String(MAX_OF[field] * (1 + 1e-12)), String(MAX_OF[field] * 10)]) {
        expectMalformed(withField(field, value), field);
      }
    });
  }

  it('rejects an entry with no fields', () => {
    expect(decodeEntry([]).ok).to.equal(false);
  });

  it('quotes a non-numeric value in the reason, cut to 40 characters', () => {
    const reason = expectMalformed(withField('cpu', 'x'.repeat(100)), 'cpu');
    expect(reason).to.include(JSON.stringify('x'.repeat(40)));
    expect(reason).not.to.include('x'.repeat(41));
  });
});

describe('decodeEntry on raw bytes (the analyzer reads replies as Buffers)', () => {
  const bytes = (fields: readonly string[]) => fields.map((f) => Buffer.from(f, 'utf8'));
  // Plain decimals near the fast path's edges: long digit runs around 2^53, many fraction digits,
  // leading zeros, signs, and text that only looks numeric.
  const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
  const numberText = fc.oneof(
    fc.tuple(fc.constantFrom('', '-'), digits(0, 20), fc.constantFrom('', '.'), digits(0, 26)).map((p) => p.join('')),
    fc.constantFrom('9007199254740991', '9007199254740992', '9007199254740993', '0.9007199254740993', '1.0000000000000000000001', '0.00000000000000000000000000000001', '-0', '-0.0', '00.5', '.5', '5.', '1e5', '1E-7'),
    valueUpTo(RPS_MAX).map(String),
    fc.string({ maxLength: 8 }),
  );

  it('gives exactly what decoding the text gives: the same metric bit for bit, or the same reason', () => {
    fc.assert(
      fc.property(fc.tuple(numberText, numberText, numberText), fc.boolean(), ([ts, cpu, rps], extra) => {
        const fields = ['ts', ts, 'cpu', cpu, 'rps', rps, ...(extra ? ['note', 'x'] : [])];
        const fromBytes = decodeEntry(bytes(fields));
        const fromText = decodeEntry(fields);
        expect(fromBytes).to.deep.equal(fromText);
        if (fromText.ok && fromBytes.ok) {
          for (const key of ['timestamp', 'cpu', 'rps'] as const) expect(Object.is(fromBytes.metric[key], fromText.metric[key])).to.equal(true);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('compares field names by their bytes, including look-alikes', () => {
    for (const name of ['tS', 'ts ', 'cpv', 'rpz', 'cp', 'rpss', 'CPU']) {
      const fields = [...withField('cpu', '1'), name, '2'];
      expect(decodeEntry(bytes(fields))).to.deep.equal(decodeEntry(fields));
    }
    expect(decodeEntry(bytes(['ts', '1', 'cpu', '2', 'cpu', '3', 'rps', '4']))).to.deep.equal({ ok: false, reason: 'field cpu appears twice' });
  });

  it('decodes invalid UTF-8 in a value as its replacement characters in the reason', () => {
    const fields = [...bytes(['ts', '1', 'rps', '2', 'cpu']), Buffer.from([0x31, 0xff, 0x32])];
    expect(decodeEntry(fields)).to.deep.equal({ ok: false, reason: 'field cpu is not a decimal number: "1\uFFFD2"' });
  });
});
