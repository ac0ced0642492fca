import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { encodeAnomalyMember, encodeLatestStats, type AnomalyRecord, type LatestStats } from '@pipeline/redis';
import { getJson, postJson, startTestRedis, waitFor, type JsonResponse, type TestRedis } from '@pipeline/testkit';
import { inspector, isReady, sample, scrape, startApi, type RunningApi } from './support.js';

const WINDOW_SIZE = 7;

function expectProblem(res: JsonResponse, status: number): any {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
  expect(res.body).to.include({ status });
  return res.body;
}

describe('api reads', function () {
  this.timeout(15_000);
  let redis: TestRedis;
  let client: Redis;
  let api: RunningApi;

  before(async () => {
    redis = await startTestRedis();
    client = inspector(redis.url);
    api = await startApi({ REDIS_URL: redis.url, KEY_PREFIX: `${redis.keyPrefix}-reads`, WINDOW_SIZE: String(WINDOW_SIZE) });
  });
  after(async () => {
    await api?.stop();
    client?.disconnect();
    await redis?.stop();
  });

  describe('GET /ready', () => {
    it('answers 200 once Redis answers and the consumer group exists (the api creates it on start)', async () => {
      await waitFor(() => isReady(api.url), { timeoutMs: 5000, message: '/ready never turned 200' });
      const res = await getJson(`${api.url}/ready`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ ready: true });
      const groups = (await client.xinfo('GROUPS', api.keys.events)) as unknown[][];
      expect(groups.map((g) => g[1])).to.deep.equal(['analyzer']);
    });

    it('turns 200 again when the group was lost: the backlog monitor recreates it', async () => {
      await client.xgroup('DESTROY', api.keys.events, 'analyzer');
      const gone = await getJson(`${api.url}/ready`);
      // Unless the monitor's timer fired in between, the probe sees the group missing.
      if (gone.status !== 200) {
        expect(gone.status).to.equal(503);
        expect(gone.body).to.deep.equal({ ready: false, reason: 'consumer group missing' });
      }
      // The monitor (every BACKLOG_CHECK_MS, 500 ms by default) brings it back.
      await waitFor(() => isReady(api.url), { timeoutMs: 5000, message: 'the group was never recreated' });
    });

    it('GET /health answers 200 without asking Redis', async () => {
      const res = await getJson(`${api.url}/health`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ status: 'ok' });
    });
  });

  describe('GET /stats', () => {
    it('before any event: 200 with exactly the 16 fields, count 0 and the configured window size', async () => {
      const res = await getJson(`${api.url}/stats`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(res.body).to.deep.equal({
        count: 0,
        window_size: WINDOW_SIZE,
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
      expect(Object.keys(res.body)).to.have.length(16);
    });

    it('decodes the hash the analyzer commit writes, exactly', async () => {
      const latest: LatestStats = {
        lastId: '1764000000123-4',
        lastTimestamp: 1764000000.125,
        lastCpu: 97.3,
        lastRps: 12345.678,
        windowSize: WINDOW_SIZE,
        windowSizeUsed: 5,
        avgCpu: 33.333333333333336,
        avgRps: 0.1 + 0.2,
        zscoreCpu: null,
        zscoreRps: -2.5e-7,
        isAnomalyCpu: true,
        isAnomalyRps: false,
        prevMeanCpu: 33.3,
        prevStdCpu: 0,
        prevMeanRps: null,
        prevStdRps: null,
      };
      const updatedAt = '2025-11-24T16:00:00.123Z';
      await client.hset(api.keys.stats, ...encodeLatestStats(latest), 'count', '123', 'anomalies_total', '4', 'last_id', latest.lastId, 'updated_at', updatedAt);

      const res = await getJson(`${api.url}/stats`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({
        count: 123,
        window_size: WINDOW_SIZE,
        window_size_used: 5,
        avg_cpu: 33.333333333333336,
        avg_rps: 0.30000000000000004,
        last_cpu: 97.3,
        last_rps: 12345.678,
        last_timestamp: 1764000000.125,
        last_id: '1764000000123-4',
        zscore_cpu: null,
        zscore_rps: -2.5e-7,
        is_anomaly_cpu: true,
        is_anomaly_rps: false,
        is_anomaly: true,
        anomalies_total: 4,
        updated_at: updatedAt,
      });
      // The field order is part of the contract (stats-hash.ts StatsView).
      expect(Object.keys(res.body)).to.deep.equal([
        'count', 'window_size', 'window_size_used', 'avg_cpu', 'avg_rps', 'last_cpu', 'last_rps', 'last_timestamp',
        'last_id', 'zscore_cpu', 'zscore_rps', 'is_anomaly_cpu', 'is_anomaly_rps', 'is_anomaly', 'anomalies_total', 'updated_at',
      ]);
    });
  });

  describe('GET /anomalies', () => {
    const record = (id: string, i: number): AnomalyRecord => ({
      id,
      timestamp: 1764000000 + i,
      cpu: 10 + i,
      rps: 1000 * (i + 1),
      zscore_cpu: i % 2 === 0 ? null : 2.5 + i,
      zscore_rps: -3.25 - i,
      is_anomaly_cpu: i % 2 === 0,
      is_anomaly_rps: true,
      mean_cpu: i % 2 === 0 ? 10 : 10.5,
      std_cpu: i % 2 === 0 ? 0 : 0.5,
      mean_rps: 100,
      std_rps: 1.5,
    });
    // Newest first by event id: numeric, so '999-0' < '1000-0' and '...-9' < '...-10' (byte order would not say so).
    const newestFirst = [
      '1764000000001-10',
      '1764000000001-9',
      '1764000000001-0',
      '1764000000000-2',
      '1000-0',
      '999-12',
      '999-0',
    ];
    const records = newestFirst.map(record);

    it('answers an empty list before any anomaly', async () => {
      const res = await getJson(`${api.url}/anomalies`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ anomalies: [] });
    });

    it('returns the records newest first by event id, whatever order they were committed in', async () => {
      const scrambled = [3, 0, 6, 2, 5, 1, 4].map((i) => records[i]!);
      for (const r of scrambled) await client.zadd(api.keys.anomalies, 0, encodeAnomalyMember(r));
      const res = await getJson(`${api.url}/anomalies`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(res.body).to.deep.equal({ anomalies: records });
    });

    it('respects limit', async () => {
      for (const limit of [1, 3, 7, 1000]) {
        const res = await getJson(`${api.url}/anomalies?limit=${limit}`);
        expect(res.status).to.equal(200);
        expect(res.body.anomalies, `limit=${limit}`).to.deep.equal(records.slice(0, limit));
      }
    });

    for (const bad of ['0', 'abc', '5000', '-1', '1.5', '']) {
      it(`answers 400 naming limit for limit=${bad}`, async () => {
        const problem = expectProblem(await getJson(`${api.url}/anomalies?limit=${bad}`), 400);
        expect(problem.errors[0].field).to.equal('limit');
        expect(problem.detail).to.contain('limit');
      });
    }
  });

  describe('GET /metrics', () => {
    it('exposes the HTTP, ingest, stats and process metrics', async () => {
      expect((await postJson(`${api.url}/ingest`, { cpu: 1, rps: 2 })).status).to.equal(202);
      expect((await postJson(`${api.url}/ingest`, { cpu: -1, rps: 2 })).status).to.equal(400);
      expect((await getJson(`${api.url}/stats`)).status).to.equal(200);
      await client.hset(api.keys.stats, 'count', '4242');

      // The stats gauges read the hash through a short cache.
      const text = await waitFor(
        async () => {
          const t = await scrape(api.url);
          return sample(t, 'pipeline_stats_count') === 4242 && t;
        },
        { timeoutMs: 3000, message: 'pipeline_stats_count never showed 4242' },
      );
      const res = await fetch(`${api.url}/metrics`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/plain/);
      await res.arrayBuffer();

      const labelled = (name: string, ...labels: string[]) =>
        text.split('\n').some((line) => line.startsWith(`${name}{`) && labels.every((l) => line.includes(l)));
      expect(labelled('http_requests_total', 'route="/ingest"', 'method="POST"', 'status="202"'), 'ingest 202').to.equal(true);
      expect(labelled('http_requests_total', 'route="/ingest"', 'status="400"'), 'ingest 400').to.equal(true);
      expect(labelled('http_requests_total', 'route="/stats"', 'method="GET"', 'status="200"'), 'stats').to.equal(true);
      expect(labelled('http_requests_total', 'route="/anomalies"', 'status="400"'), 'anomalies 400').to.equal(true);
      expect(labelled('http_request_duration_seconds_bucket', 'route="/stats"', 'le="+Inf"')).to.equal(true);
      expect(labelled('http_request_duration_seconds_count', 'route="/ingest"')).to.equal(true);
      // No raw URLs as labels: query strings never appear.
      expect(text).not.to.match(/route="[^"]*\?/);

      expect(sample(text, 'api_events_accepted_total')).to.be.at.least(1);
      expect(sample(text, 'api_events_rejected_total{reason="invalid-metric"}')).to.be.at.least(1);
      expect(sample(text, 'api_backpressure_active')).to.equal(0);
      expect(text).to.match(/^api_backlog_entries \d+$/m);
      expect(text).to.match(/^pipeline_stats_anomalies\{metric="any"\} 4$/m);
      expect(text).to.match(/^process_cpu_user_seconds_total /m);
      expect(text).to.match(/^nodejs_heap_size_used_bytes /m);
    });
  });

  describe('unknown routes', () => {
    it('answers 404 problem+json', async () => {
      const problem = expectProblem(await getJson(`${api.url}/nope?x=1`), 404);
      expect(problem.type).to.equal('urn:metrics-pipeline:problem:not-found');
      expect(problem.instance).to.equal('/nope');
      const post = expectProblem(await postJson(`${api.url}/stats`, {}), 404);
      expect(post.detail).to.contain('POST /stats');
    });
  });
});
