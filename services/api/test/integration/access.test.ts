import { request } from 'node:http';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { createLogger } from '@pipeline/logger';
import { getJson, postJson, startTestRedis, waitFor, type JsonResponse, type TestRedis } from '@pipeline/testkit';
import { inspector, isReady, sample, scrape, startApi, type RunningApi } from './support.js';

const INGEST_TOKEN = 'ingest-9f86d081884c7d659a2feaa0c55ad015';
const INGEST_TOKEN_2 = 'ingest-2-3a6eb0790f39ac87c94f3856b2dd2c5d';
const READ_TOKEN = 'read-110812f67fa1e1f0117f6f3d70241c1a';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const METRIC = { cpu: 50, rps: 1000 };

function expectProblem(res: JsonResponse, status: number, kind: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
  expect(res.body).to.include({ status, type: `urn:metrics-pipeline:problem:${kind}` });
  expect(res.headers.get('www-authenticate')).to.match(/^Bearer realm="metrics-pipeline"/);
}

describe('access control (INGEST_TOKENS, READ_TOKENS)', function () {
  this.timeout(20_000);
  let redis: TestRedis;
  let client: Redis;
  let api: RunningApi;
  const logLines: string[] = [];

  before(async () => {
    redis = await startTestRedis();
    client = inspector(redis.url);
    // The service's own logger (redaction included) at info, writing into this test.
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
        done();
      },
    });
    api = await startApi(
      {
        REDIS_URL: redis.url,
        KEY_PREFIX: `${redis.keyPrefix}-access`,
        INGEST_TOKENS: `${INGEST_TOKEN}, ${INGEST_TOKEN_2}`,
        READ_TOKENS: READ_TOKEN,
      },
      createLogger({ service: 'api', level: 'info' }, sink),
    );
    await waitFor(() => isReady(api.url), { timeoutMs: 5000, message: '/ready never turned 200' });
  });
  after(async () => {
    await api?.stop();
    client?.disconnect();
    await redis?.stop();
  });

  describe('POST /ingest', () => {
    it('answers 401 with a Bearer challenge without a token, or with an unknown one, and stores nothing', async () => {
      expectProblem(await postJson(`${api.url}/ingest`, METRIC), 401, 'unauthorized');
      expectProblem(await postJson(`${api.url}/ingest`, METRIC, { headers: bearer('not-a-token-0123456789') }), 401, 'unauthorized');
      expectProblem(await postJson(`${api.url}/ingest`, [METRIC, METRIC], { headers: { authorization: `Basic ${INGEST_TOKEN}` } }), 401, 'unauthorized');
      expect(await client.xlen(api.keys.events)).to.equal(0);
    });

    it('answers 403 to a read token: a read token does not ingest', async () => {
      const res = await postJson(`${api.url}/ingest`, METRIC, { headers: bearer(READ_TOKEN) });
      expectProblem(res, 403, 'forbidden');
      expect(res.headers.get('www-authenticate')).to.include('insufficient_scope');
      expect(await client.xlen(api.keys.events)).to.equal(0);
    });

    it('accepts each ingest token', async () => {
      for (const token of [INGEST_TOKEN, INGEST_TOKEN_2]) {
        const res = await postJson(`${api.url}/ingest`, METRIC, { headers: bearer(token) });
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
      }
      expect(await client.xlen(api.keys.events)).to.equal(2);
    });

    it('refuses before reading the body, and closes the connection instead of reading it', async () => {
      // Headers announcing 1 MB, and no body at all: the answer must come anyway.
      const res = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = request(`${api.url}/ingest`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 1_000_000 } });
        req.on('response', (r) => {
          r.resume();
          resolve({ status: r.statusCode!, connection: r.headers.connection });
          req.destroy();
        });
        req.on('error', reject);
        req.flushHeaders();
      });
      expect(res).to.deep.equal({ status: 401, connection: 'close' });
    });

    it('counts refusals in api_events_rejected_total and http_requests_total', async () => {
      const metrics = await scrape(api.url);
      expect(sample(metrics, 'api_events_rejected_total{reason="unauthorized"}')).to.equal(4);
      expect(sample(metrics, 'api_events_rejected_total{reason="forbidden"}')).to.equal(1);
      expect(sample(metrics, 'http_requests_total{method="POST",route="/ingest",status="401"}')).to.equal(4);
      expect(sample(metrics, 'http_requests_total{method="POST",route="/ingest",status="403"}')).to.equal(1);
    });
  });

  describe('GET /stats and GET /anomalies', () => {
    for (const path of ['/stats', '/anomalies']) {
      it(`${path}: 401 without a token or with an unknown one, 403 with an ingest token, 200 with a read token`, async () => {
        expectProblem(await getJson(`${api.url}${path}`), 401, 'unauthorized');
        expectProblem(await getJson(`${api.url}${path}`, { headers: bearer(`${READ_TOKEN}x`) }), 401, 'unauthorized');
        expectProblem(await getJson(`${api.url}${path}`, { headers: bearer(INGEST_TOKEN) }), 403, 'forbidden');
        const ok = await getJson(`${api.url}${path}`, { headers: bearer(READ_TOKEN) });
        expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
        const metrics = await scrape(api.url);
        expect(sample(metrics, `http_requests_total{method="GET",route="${path}",status="401"}`)).to.equal(2);
        expect(sample(metrics, `http_requests_total{method="GET",route="${path}",status="403"}`)).to.equal(1);
      });
    }
  });

  describe('the probes and /metrics', () => {
    it('stay open, for the kubelet and Prometheus', async () => {
      for (const path of ['/health', '/ready', '/metrics']) {
        expect((await getJson(`${api.url}${path}`)).status, path).to.equal(200);
      }
    });
  });

  describe('the log', () => {
    it('never holds a token: the Authorization header of every logged request is redacted', async () => {
      await getJson(`${api.url}/stats`, { headers: bearer(READ_TOKEN) }); // info
      await getJson(`${api.url}/anomalies`, { headers: bearer(INGEST_TOKEN_2) }); // warn (403)
      await postJson(`${api.url}/ingest`, METRIC, { headers: bearer(INGEST_TOKEN) });
      const logged = () => logLines.filter((l) => l.includes('"authorization":"[redacted]"'));
      // The requests of the tests above (with tokens) and these: all logged, none with its token.
      await waitFor(() => logged().length >= 8, { timeoutMs: 2000, message: () => `too few request logs:\n${logLines.join('\n')}` });
      const all = logLines.join('\n');
      for (const token of [INGEST_TOKEN, INGEST_TOKEN_2, READ_TOKEN]) expect(all).to.not.include(token);
      expect(all).to.not.include(INGEST_TOKEN.slice(7, 27));
    });
  });
});
