// Poison entries of kinds services/analyzer/test/integration/analyzer.test.ts does not write:
// huge numbers, NaN/Infinity and other non-decimal spellings, unicode digits and names, empty
// names and values, binary bytes, prototype-ish field names, a 100 kB value, deleted entries.
import { expect } from 'chai';
import { ANALYZER_GROUP, seriesKeys } from '@pipeline/redis';
import { getJson, waitFor } from '@pipeline/testkit';
import { encodeEntry } from '../../packages/metric/src/index.js';
import { report } from '../support/faults.js';
import {
  expectAnomaliesEqualReference,
  expectStatsEqualReference,
  makeEvents,
  pipelineSuite,
  reference,
  scrapeCounter,
  startAnalyzer,
  startApi,
  waitForCount,
  type Accepted,
} from '../support/pipeline.js';

const WINDOW = { windowSize: 20, zThreshold: 2, minSamples: 5 };
const ok = (cpu: string | Buffer = '40', rps = '1000'): (string | Buffer)[] => ['ts', '1764000000', 'cpu', cpu, 'rps', rps];

/** [fields, expected dead-letter reason] */
const POISON: [(string | Buffer)[], RegExp][] = [
  [ok('9'.repeat(400)), /^malformed: field cpu is out of range/], // parses to Infinity
  [ok('40', '1e308'), /^malformed: field rps is out of range/],
  [['ts', '123456789012345678901234567890', 'cpu', '1', 'rps', '1'], /^malformed: field ts is out of range/],
  [ok('NaN'), /^malformed: field cpu is not a decimal number: "NaN"/],
  [ok('40', 'Infinity'), /^malformed: field rps is not a decimal number/],
  [ok('-Infinity'), /^malformed: field cpu is not a decimal number/],
  [ok('0x1F'), /not a decimal number: "0x1F"/],
  [ok('1_000'), /not a decimal number/],
  [ok('+40'), /not a decimal number/],
  [ok(' 40'), /not a decimal number/],
  [ok('40\n'), /not a decimal number/],
  [ok('4e'), /not a decimal number/],
  [ok('.'), /not a decimal number/],
  [ok('1.2.3'), /not a decimal number/],
  [ok('٤٠'), /^malformed: field cpu is not a decimal number: "٤٠"/], // Arabic-Indic digits
  [ok('４０'), /not a decimal number/], // full-width digits
  [['ts', '1764000000', 'c\u200bpu', '40', 'rps', '1'], /^malformed: field cpu is missing/], // zero-width space in the name
  [['📈', '🔥', 'cpu', '40', 'rps', '1'], /^malformed: field ts is missing/],
  [['', ''], /^malformed: field ts is missing/],
  [ok(''), /^malformed: field cpu is not a decimal number: ""/],
  [ok(Buffer.from([0xff, 0xfe, 0x00, 0x80])), /^malformed: field cpu is not a decimal number/],
  [[Buffer.from([0x00, 0xff]), Buffer.from([0xc3, 0x28]), 'cpu', '1', 'rps', '1'], /^malformed: field ts is missing/],
  [['__proto__', '1', 'constructor', '2', 'cpu', '1', 'rps', '1'], /^malformed: field ts is missing/],
  [ok('x'.repeat(100_000)), /^malformed: field cpu is not a decimal number: "x{40}"$/],
];

describe('poison entries of every other kind', function () {
  this.timeout(60_000);
  const suite = pipelineSuite(WINDOW);
  const envFor = (extra: Record<string, string> = {}) => suite.envFor({ BLOCK_MS: '100', ...extra });

  it('dead-letters each with its reason, takes none into a window, and keeps going', async () => {
    const env = envFor({ BATCH_SIZE: '7' });
    const keys = seriesKeys(env.KEY_PREFIX);
    const api = await startApi(env);
    const analyzer = await startAnalyzer(env);
    suite.services.push(api, analyzer);
    const valid: Accepted[] = [];
    const poisonIds = new Map<string, RegExp>();
    const events = makeEvents(400, 11);
    const append = async (upTo: number) => {
      for (let i = valid.length; i < upTo; i++) {
        if (i % 9 === 4 && poisonIds.size < POISON.length) {
          const [fields, reason] = POISON[poisonIds.size]!;
          poisonIds.set((await suite.client.xadd(keys.events, '*', ...fields))!, reason);
        }
        valid.push({ id: (await suite.client.xadd(keys.events, '*', ...encodeEntry(events[i]!)))!, metric: events[i]! });
      }
    };
    await append(300);
    expect(poisonIds.size).to.equal(POISON.length);
    let stats = await waitForCount(api.url, valid.length, 20_000, () => analyzer.output());
    expectStatsEqualReference(stats, reference(valid, WINDOW), WINDOW.windowSize);

    const dead = (await suite.client.xrange(keys.dead, '-', '+')) as [string, string[]][];
    expect(dead.length, 'dead letters').to.equal(POISON.length);
    for (const [, fields] of dead) {
      const record = Object.fromEntries([[fields[0], fields[1]], [fields[2], fields[3]], [fields[4], fields[5]]]);
      const expected = poisonIds.get(record.id!);
      expect(expected, `dead letter for ${record.id}`).to.be.instanceOf(RegExp);
      expect(record.reason).to.match(expected!);
      expect(() => JSON.parse(record.fields!), 'the original fields as JSON').not.to.throw();
    }
    expect(Number(await suite.client.hget(keys.stats, 'dead_total'))).to.equal(POISON.length);

    // It keeps going: later entries are counted, judged against windows without the poison.
    await append(400);
    stats = await waitForCount(api.url, valid.length, 20_000, () => analyzer.output());
    const ref = reference(valid, WINDOW);
    expectStatsEqualReference(stats, ref, WINDOW.windowSize);
    await expectAnomaliesEqualReference(api.url, ref);
    expect((await getJson(`${analyzer.url}/ready`)).status).to.equal(200);
    expect(await scrapeCounter(analyzer.url, 'analyzer_events_processed_total')).to.equal(valid.length);
    report('poison', { kinds: POISON.length, valid: valid.length, deadLettered: dead.length });
  });

  it('skips entries deleted from the stream (XDEL) before delivery or while pending with a dead consumer', async () => {
    const env = envFor({ BATCH_SIZE: '10', CLAIM_IDLE_MS: '200' });
    const keys = seriesKeys(env.KEY_PREFIX);
    const api = await startApi(env);
    suite.services.push(api);
    const events = makeEvents(200, 12);
    const written: Accepted[] = [];
    for (const metric of events) written.push({ id: (await suite.client.xadd(keys.events, '*', ...encodeEntry(metric)))!, metric });
    // A consumer read 60 entries and died; then an operator deleted some of them, and some not yet read.
    await suite.client.xreadgroup('GROUP', ANALYZER_GROUP, 'dead-consumer', 'COUNT', 60, 'STREAMS', keys.events, '>');
    const deleted = new Set([written[10]!.id, written[11]!.id, written[59]!.id, written[100]!.id, written[199]!.id]);
    expect(await suite.client.xdel(keys.events, ...deleted)).to.equal(deleted.size);
    const remaining = written.filter((w) => !deleted.has(w.id));

    const analyzer = await startAnalyzer(env);
    suite.services.push(analyzer);
    const stats = await waitForCount(api.url, remaining.length, 20_000, () => analyzer.output());
    const ref = reference(remaining, WINDOW);
    expectStatsEqualReference(stats, ref, WINDOW.windowSize);
    await expectAnomaliesEqualReference(api.url, ref);
    await waitFor(async () => ((await suite.client.xpending(keys.events, ANALYZER_GROUP)) as [number])[0] === 0, {
      timeoutMs: 5000,
      message: 'deleted entries stay pending forever',
    });
    expect(Number(await suite.client.hget(keys.stats, 'count'))).to.equal(remaining.length);
  });

  // decodeEntry's DECIMAL regex once backtracked quadratically on such a value (80,000 digits took
  // ~10 s, and every replica reading it as context paid again).
  it('dead-letters a 200,000-digit value ending in a letter within a few seconds', async () => {
    const env = envFor();
    const keys = seriesKeys(env.KEY_PREFIX);
    const api = await startApi(env);
    const analyzer = await startAnalyzer(env);
    suite.services.push(api, analyzer);
    await suite.client.xadd(keys.events, '*', ...ok('1'.repeat(200_000) + 'x'));
    const metric = { timestamp: 1764000001, cpu: 1, rps: 1 };
    const id = (await suite.client.xadd(keys.events, '*', ...encodeEntry(metric)))!;
    await waitForCount(api.url, 1, 5000, () => analyzer.output());
    expect(Number(await suite.client.hget(keys.stats, 'dead_total'))).to.equal(1);
    expect((await getJson(`${api.url}/stats`)).body.last_id).to.equal(id);
  });

  // deadEntry once assigned into a plain object, which swallowed a field named __proto__.
  it('keeps a field named __proto__ in the dead letter copy of the fields', async () => {
    const env = envFor();
    const keys = seriesKeys(env.KEY_PREFIX);
    const analyzer = await startAnalyzer(env);
    suite.services.push(analyzer);
    await suite.client.xadd(keys.events, '*', '__proto__', 'x', 'cpu', '1');
    await waitFor(async () => (await suite.client.xlen(keys.dead)) === 1, { timeoutMs: 5000, message: 'no dead letter' });
    const [, fields] = ((await suite.client.xrange(keys.dead, '-', '+')) as [string, string[]][])[0]!;
    expect(fields[5]).to.equal('{"__proto__":"x","cpu":"1"}');
  });
});
