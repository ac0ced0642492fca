import { expect } from 'chai';
import { Redis } from 'ioredis';
import { encodeEntry } from '@pipeline/metric';
import { ensureGroup, seriesKeys, type SeriesKeys } from '@pipeline/redis';
import { startTestRedis, type TestRedis } from '@pipeline/testkit';
import { planCommit, type TextEntry } from '../../src/commit-plan.js';
import { StreamStore } from '../../src/stream-store.js';

const STATS = { windowSize: 5, zThreshold: 2, minSamples: 3 };

describe('the commit script', function () {
  let redis: TestRedis;
  let client: Redis;
  let keys: SeriesKeys;
  let store: StreamStore;
  let run = 0;

  before(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
  });
  beforeEach(async () => {
    keys = seriesKeys(`${redis.keyPrefix}-${++run}`);
    store = new StreamStore(client, client, keys, 'tester', { anomalies: 100, deadLetters: 100 });
    await ensureGroup(client, keys.events);
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  /** Appends metrics (a spike every 7th) and reads them as consumer `tester`. */
  async function appendAndRead(count: number, offset = 0): Promise<TextEntry[]> {
    for (let i = offset; i < offset + count; i++) {
      await client.xadd(keys.events, '*', ...encodeEntry({ timestamp: 1764000000 + i, cpu: i % 7 === 6 ? 99 : 40 + (i % 3), rps: 1000 + (i % 5) }));
    }
    const reply = (await client.xreadgroup('GROUP', 'analyzer', 'tester', 'COUNT', count, 'STREAMS', keys.events, '>')) as [string, TextEntry[]][];
    return reply[0]![1];
  }

  it('changes nothing when the same commit is replayed', async () => {
    const batch = await appendAndRead(20);
    const plan = planCommit([], batch, null, STATS);
    expect(plan.processed.some((p) => p.anomalyFlags > 0), 'the batch has anomalies').to.equal(true);

    const first = await store.commit(plan, new Date('2026-01-01T00:00:00Z'));
    expect(first).to.include({ processed: 20, duplicates: 0, latestReplaced: true });
    const stats = await client.hgetall(keys.stats);
    const anomalies = await client.zrange(keys.anomalies, 0, -1);

    const replay = await store.commit(plan, new Date('2026-01-01T00:05:00Z'));
    expect(replay).to.deep.equal({ processed: 0, duplicates: 20, anomalies: 0, anomaliesCpu: 0, anomaliesRps: 0, deadLettered: 0, latestReplaced: false });
    expect(await client.hgetall(keys.stats), 'stats hash, updated_at included').to.deep.equal(stats);
    expect(await client.zrange(keys.anomalies, 0, -1)).to.deep.equal(anomalies);
    expect(stats.count).to.equal('20');
    expect(Number(stats.anomalies_total)).to.equal(anomalies.length);
  });

  it('never moves the latest backwards when an older batch commits last', async () => {
    const older = await appendAndRead(10);
    const newer = await appendAndRead(10, 10);
    const newerPlan = planCommit([], [...older, ...newer], new Set(newer.map(([id]) => id)), STATS);
    const olderPlan = planCommit([], older, null, STATS);

    await store.commit(newerPlan, new Date('2026-01-01T00:00:00Z'));
    const afterNewer = await client.hgetall(keys.stats);
    const result = await store.commit(olderPlan, new Date('2026-01-01T00:01:00Z'));

    expect(result).to.include({ processed: 10, latestReplaced: false });
    const final = await client.hgetall(keys.stats);
    expect(final.last_id).to.equal(newer[9]![0]);
    expect(final.count).to.equal('20');
    for (const field of ['last_cpu', 'last_rps', 'last_timestamp', 'avg_cpu', 'avg_rps', 'zscore_cpu', 'zscore_rps', 'window_size_used']) {
      expect(final[field], field).to.equal(afterNewer[field]);
    }
    expect(final.updated_at, 'counters changed, so updated_at did').to.equal('2026-01-01T00:01:00.000Z');
  });

  it('dead-letters malformed entries once, with their reason and fields, without counting them', async () => {
    await client.xadd(keys.events, '*', 'ts', '1764000000', 'cpu', 'lots', 'rps', '5');
    await client.xadd(keys.events, '*', 'ts', '1764000001', 'cpu', '40', 'rps', '1000');
    const batch = ((await client.xreadgroup('GROUP', 'analyzer', 'tester', 'COUNT', 10, 'STREAMS', keys.events, '>')) as [string, TextEntry[]][])[0]![1];
    const plan = planCommit([], batch, null, STATS);

    expect(await store.commit(plan, new Date())).to.include({ processed: 1, deadLettered: 1 });
    expect(await store.commit(plan, new Date())).to.include({ processed: 0, deadLettered: 0, duplicates: 2 });
    const dead = (await client.xrange(keys.dead, '-', '+')) as TextEntry[];
    expect(dead).to.have.length(1);
    const fields = Object.fromEntries(dead[0]![1].map((v, i, a) => (i % 2 ? [] : [v, a[i + 1]])).filter((p) => p.length));
    expect(fields.id).to.equal(batch[0]![0]);
    expect(fields.reason).to.match(/^malformed: field cpu is not a decimal number/);
    expect(JSON.parse(fields.fields!)).to.deep.equal({ ts: '1764000000', cpu: 'lots', rps: '5' });
    const stats = await client.hgetall(keys.stats);
    expect(stats).to.include({ count: '1', dead_total: '1', last_id: batch[1]![0] });
  });

  it('keeps only the newest anomaly records up to the retention limit', async () => {
    store = new StreamStore(client, client, keys, 'tester', { anomalies: 3, deadLetters: 100 });
    const batch = await appendAndRead(70);
    const plan = planCommit([], batch, null, STATS);
    const anomalous = plan.processed.filter((p) => p.anomalyFlags > 0);
    expect(anomalous.length).to.be.greaterThan(3);
    await store.commit(plan, new Date());
    const kept = await client.zrevrangebylex(keys.anomalies, '+', '-');
    expect(kept).to.deep.equal(anomalous.slice(-3).reverse().map((p) => p.anomalyMember));
    expect(await client.hget(keys.stats, 'anomalies_total')).to.equal(String(anomalous.length));
  });
});

