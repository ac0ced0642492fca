import { expect } from 'chai';
import { Redis } from 'ioredis';
import { silentLogger } from '@pipeline/logger';
import { encodeEntry, type Metric } from '@pipeline/metric';
import { ensureGroup, seriesKeys, type SeriesKeys } from '@pipeline/redis';
import { getJson, startTestRedis, waitFor, type TestRedis } from '@pipeline/testkit';
import { createAnalyzer, type Analyzer } from '../../src/analyzer.js';
import { loadAnalyzerConfig } from '../../src/config.js';
import type { RawEntry } from '../../src/commit-plan.js';
import { referenceStats } from '../support/reference-stats.js';

const WINDOW = { windowSize: 20, zThreshold: 2, minSamples: 5 };

describe('the analyzer (in-process, real Redis)', function () {
  this.timeout(30_000);
  let redis: TestRedis;
  let client: Redis;
  let keys: SeriesKeys;
  let keyPrefix: string;
  let analyzer: Analyzer | undefined;
  let run = 0;

  before(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
  });
  beforeEach(() => {
    keyPrefix = `${redis.keyPrefix}-${++run}`;
    keys = seriesKeys(keyPrefix);
  });
  afterEach(async () => {
    await analyzer?.stop();
    analyzer = undefined;
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  async function start(extra: Record<string, string> = {}) {
    const config = loadAnalyzerConfig({
      REDIS_URL: redis.url,
      KEY_PREFIX: keyPrefix,
      METRICS_PORT: '0',
      WINDOW_SIZE: String(WINDOW.windowSize),
      MIN_SAMPLES: String(WINDOW.minSamples),
      BLOCK_MS: '100',
      CONSUMER_NAME: 'in-process',
      ...extra,
    });
    analyzer = createAnalyzer(config, silentLogger());
    return analyzer.start();
  }

  const metric = (i: number): Metric => ({ timestamp: 1764000000 + i, cpu: 40 + ((i * 7) % 11), rps: i % 50 === 49 ? 9000 : 1000 + ((i * 13) % 17) });
  const waitForCount = (count: number) =>
    waitFor(async () => Number(await client.hget(keys.stats, 'count')) === count, { timeoutMs: 10_000, message: `count never reached ${count}` });

  it('dead-letters poison entries written straight into the stream and keeps going', async () => {
    const valid: Metric[] = [];
    const poison = [
      ['cpu', '40', 'rps', '1000'], // no ts
      ['ts', '1764000000', 'cpu', 'forty', 'rps', '1000'],
      ['ts', '1764000000', 'cpu', '1e999', 'rps', '1000'],
      ['ts', '1764000000', 'cpu', '40', 'rps', '-1'],
      ['ts', '1764000000', 'cpu', '40', 'cpu', '41', 'rps', '1'],
      ['something', 'else'],
    ];
    for (let i = 0; i < 60; i++) {
      if (i % 10 === 3) await client.xadd(keys.events, '*', ...poison[(i / 10) | 0]!);
      const m = metric(i);
      valid.push(m);
      await client.xadd(keys.events, '*', ...encodeEntry(m));
    }
    await start();
    await waitForCount(valid.length);
    await waitFor(async () => Number(await client.hget(keys.stats, 'dead_total')) === poison.length, { timeoutMs: 5000, message: 'dead_total' });

    // Malformed entries take no place in any window: the stats are those of the valid stream.
    const ref = referenceStats(valid, WINDOW);
    const stats = await client.hgetall(keys.stats);
    expect(Number(stats.anomalies_total)).to.equal(ref.filter((r) => r.isAnomaly).length);
    expect(Number(stats.avg_cpu)).to.be.closeTo(ref.at(-1)!.avgCpu, 1e-9);
    const dead = (await client.xrange(keys.dead, '-', '+')) as RawEntry[];
    expect(dead.map(([, f]) => f[3])).to.satisfy((reasons: string[]) => reasons.every((r) => r.startsWith('malformed: ')));
    expect(dead.map(([, f]) => f[3])).to.include.members([
      'malformed: field ts is missing',
      'malformed: field cpu appears twice',
    ]);
  });

  it('dead-letters an entry delivered more than MAX_DELIVERIES times but keeps it as context', async () => {
    const metrics = Array.from({ length: 30 }, (_, i) => metric(i));
    const ids: string[] = [];
    for (const m of metrics) ids.push((await client.xadd(keys.events, '*', ...encodeEntry(m)))!);
    await ensureGroup(client, keys.events);
    // A poison pill that has crashed consumers again and again: read by a consumer that died,
    // its delivery count already past the limit.
    await client.xreadgroup('GROUP', 'analyzer', 'crashed', 'COUNT', 1, 'STREAMS', keys.events, '>');
    await client.xclaim(keys.events, 'analyzer', 'crashed', 0, ids[0]!, 'RETRYCOUNT', 11);
    const { metricsPort } = await start({ CLAIM_IDLE_MS: '50', MAX_DELIVERIES: '10' });

    await waitForCount(29);
    await waitFor(async () => Number(await client.hget(keys.stats, 'dead_total')) === 1, { timeoutMs: 5000, message: 'dead_total 1' });
    const dead = (await client.xrange(keys.dead, '-', '+')) as RawEntry[];
    expect(dead[0]![1].slice(0, 4)).to.deep.equal(['id', ids[0], 'reason', 'delivered 11 times (MAX_DELIVERIES 10)']);
    // It stays in the stream as context: the others are judged with it in their windows.
    const ref = referenceStats(metrics, WINDOW).slice(1);
    expect(await client.hget(keys.stats, 'anomalies_total')).to.equal(String(ref.filter((r) => r.isAnomaly).length));
    expect(Number(await client.hget(keys.stats, 'avg_rps'))).to.be.closeTo(ref.at(-1)!.avgRps, 1e-9);
    const scrape = (await getJson(`http://127.0.0.1:${metricsPort}/metrics`)).body as string;
    expect(scrape).to.match(/^analyzer_dead_lettered_total\{reason="max_deliveries"\} 1$/m);
  });

  it('trims committed entries but keeps the window that unprocessed entries need', async () => {
    await start({ BATCH_SIZE: '100' });
    for (let i = 0; i < 3000; i++) await client.xadd(keys.events, '*', ...encodeEntry(metric(i)));
    await waitForCount(3000);
    await waitFor(async () => (await client.xlen(keys.events)) < 1000, { timeoutMs: 5000, message: 'stream was never trimmed' });
    // Trimming is approximate (whole macro nodes), never past the last WINDOW_SIZE entries.
    const length = await client.xlen(keys.events);
    expect(length).to.be.at.least(WINDOW.windowSize);
    // New events are still judged against a full window read from the stream.
    const more = Array.from({ length: 10 }, (_, i) => metric(3000 + i));
    for (const m of more) await client.xadd(keys.events, '*', ...encodeEntry(m));
    await waitForCount(3010);
    const all = Array.from({ length: 3010 }, (_, i) => metric(i));
    const ref = referenceStats(all, WINDOW);
    expect(Number(await client.hget(keys.stats, 'zscore_cpu'))).to.be.closeTo(ref.at(-1)!.cpu.z!, 1e-9);
    expect(await client.hget(keys.stats, 'anomalies_total')).to.equal(String(ref.filter((r) => r.isAnomaly).length));
  });

  it('answers /health, /ready and /metrics on METRICS_PORT', async () => {
    const { metricsPort } = await start();
    const base = `http://127.0.0.1:${metricsPort}`;
    expect((await getJson(`${base}/health`)).status).to.equal(200);
    expect((await getJson(`${base}/ready`)).body).to.deep.equal({ ready: true });
    const scrape = (await getJson(`${base}/metrics`)).body as string;
    for (const name of ['analyzer_events_processed_total', 'analyzer_batch_size', 'analyzer_commit_duration_seconds', 'analyzer_stream_lag', 'analyzer_stream_pending', 'process_cpu_seconds_total']) {
      expect(scrape, name).to.include(name);
    }
  });
});
