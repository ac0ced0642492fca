import { request } from 'node:http';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { ANALYZER_GROUP } from '@pipeline/redis';
import { getJson, postJson, sleep, startTestRedis, waitFor, type JsonResponse, type TestRedis } from '@pipeline/testkit';
import { inspector, isReady, sample, scrape, startApi, type RunningApi } from './support.js';

const MAX_BODY_BYTES = 1024;
const MAX_BATCH = 10;

/** Asserts an RFC 9457 answer with the given status, and returns its body. */
function expectProblem(res: JsonResponse, status: number): any {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
  expect(res.body).to.include({ status });
  expect(res.body.type).to.match(/^urn:metrics-pipeline:problem:/);
  expect(res.body.title).to.be.a('string');
  expect(res.body.detail).to.be.a('string');
  return res.body;
}

/** POSTs a body with a chunked transfer (no content-length), so the limit is hit while streaming. */
function postChunked(url: string, chunks: string[]): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/ingest`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
      res.on('error', reject);
    });
    // The server may answer 413 and close before the whole body is written.
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('POST /ingest', function () {
  this.timeout(15_000);
  let redis: TestRedis;
  let client: Redis;
  const apis: RunningApi[] = [];

  before(async () => {
    redis = await startTestRedis();
    client = inspector(redis.url);
  });
  after(async () => {
    await Promise.all(apis.map((a) => a.stop()));
    client?.disconnect();
    await redis?.stop();
  });

  async function newApi(name: string, extra: Record<string, string> = {}): Promise<RunningApi> {
    const api = await startApi({ REDIS_URL: redis.url, KEY_PREFIX: `${redis.keyPrefix}-${name}`, ...extra });
    apis.push(api);
    await waitFor(() => isReady(api.url), { timeoutMs: 5000, message: `${name}: /ready never turned 200` });
    return api;
  }

  describe('accepting metrics', () => {
    let api: RunningApi;
    before(async () => {
      api = await newApi('accept', { MAX_BODY_BYTES: String(MAX_BODY_BYTES), MAX_BATCH: String(MAX_BATCH) });
    });

    it('answers 202 with the id of one metric, once it is in the stream as String(number) fields', async () => {
      const before = await client.xlen(api.keys.events);
      const res = await postJson(`${api.url}/ingest`, { timestamp: 1764000000.25, cpu: 55.5, rps: 1200 });
      expect(res.status).to.equal(202);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(res.body).to.have.all.keys('status', 'id');
      expect(res.body.status).to.equal('accepted');
      expect(res.body.id).to.match(/^\d+-\d+$/);

      expect(await client.xlen(api.keys.events)).to.equal(before + 1);
      const entries = await client.xrange(api.keys.events, res.body.id, res.body.id);
      expect(entries).to.deep.equal([[res.body.id, ['ts', '1764000000.25', 'cpu', '55.5', 'rps', '1200']]]);
      // ... and it is the newest entry.
      const [newest] = await client.xrevrange(api.keys.events, '+', '-', 'COUNT', 1);
      expect(newest?.[0]).to.equal(res.body.id);
    });

    it('keeps exotic but valid numbers exact (String(number) round trip)', async () => {
      const metric = { timestamp: 1764000000.1234567, cpu: 0.1 + 0.2, rps: 1e-7 };
      const res = await postJson(`${api.url}/ingest`, metric);
      expect(res.status).to.equal(202);
      const entries = await client.xrange(api.keys.events, res.body.id, res.body.id);
      expect(entries[0]?.[1]).to.deep.equal(['ts', String(metric.timestamp), 'cpu', String(metric.cpu), 'rps', String(metric.rps)]);
    });

    it('assigns the server time in Unix seconds to a metric without a timestamp (and to timestamp 0)', async () => {
      for (const body of [{ cpu: 1, rps: 2 }, { timestamp: 0, cpu: 1, rps: 2 }]) {
        const from = Date.now() / 1000;
        const res = await postJson(`${api.url}/ingest`, body);
        const to = Date.now() / 1000;
        expect(res.status).to.equal(202);
        const [entry] = await client.xrange(api.keys.events, res.body.id, res.body.id);
        const fields = entry![1];
        expect(fields[0]).to.equal('ts');
        const ts = Number(fields[1]);
        expect(ts, `ts ${fields[1]} for ${JSON.stringify(body)}`).to.be.within(from - 0.001, to + 0.001);
        expect(fields.slice(2)).to.deep.equal(['cpu', '1', 'rps', '2']);
      }
    });

    it('answers 202 with the ids of a batch, in order, all in the stream', async () => {
      const batch = [
        { timestamp: 1764000001, cpu: 10, rps: 100 },
        { cpu: 20.5, rps: 200 },
        { timestamp: 1764000003, cpu: 30, rps: 300.75 },
      ];
      const before = await client.xlen(api.keys.events);
      const res = await postJson(`${api.url}/ingest`, batch);
      expect(res.status).to.equal(202);
      expect(res.body).to.have.all.keys('status', 'accepted', 'ids');
      expect(res.body.status).to.equal('accepted');
      expect(res.body.accepted).to.equal(3);
      const ids = res.body.ids as string[];
      expect(ids).to.have.length(3);

      expect(await client.xlen(api.keys.events)).to.equal(before + 3);
      const entries = await client.xrange(api.keys.events, ids[0]!, ids[2]!);
      expect(entries.map(([id]) => id)).to.deep.equal(ids);
      expect(entries[0]![1]).to.deep.equal(['ts', '1764000001', 'cpu', '10', 'rps', '100']);
      expect(entries[1]![1].slice(2)).to.deep.equal(['cpu', '20.5', 'rps', '200']);
      expect(Number(entries[1]![1][1])).to.be.closeTo(Date.now() / 1000, 5);
      expect(entries[2]![1]).to.deep.equal(['ts', '1764000003', 'cpu', '30', 'rps', '300.75']);
    });

    describe('refuses bad input with problem+json naming the field, and the stream is unchanged', () => {
      const ok = (i: number) => ({ timestamp: 1764000000 + i, cpu: 10 + i, rps: 100 + i });
      interface Case {
        name: string;
        body: unknown;
        contentType?: string;
        status: number;
        field: string;
        index?: number;
        detail?: RegExp;
        kind?: string;
      }
      const cases: Case[] = [
        { name: 'a millisecond timestamp', body: { timestamp: 1764000000000, cpu: 1, rps: 1 }, status: 400, field: 'timestamp', detail: /seconds/ },
        { name: 'cpu as a string', body: { timestamp: 1764000000, cpu: '60', rps: 1 }, status: 400, field: 'cpu' },
        { name: 'a missing rps', body: { timestamp: 1764000000, cpu: 1 }, status: 400, field: 'rps' },
        { name: 'an extra property', body: { cpu: 1, rps: 1, host: 'a' }, status: 400, field: 'host' },
        { name: 'a negative rps', body: { cpu: 1, rps: -1 }, status: 400, field: 'rps' },
        { name: 'cpu 1e400 (Infinity once parsed)', body: '{"cpu":1e400,"rps":1}', status: 400, field: 'cpu' },
        { name: 'an empty array', body: [], status: 400, field: '(body)' },
        {
          name: 'a batch where only item 3 is bad (all or nothing)',
          body: [ok(0), ok(1), ok(2), { ...ok(3), rps: -5 }, ok(4)],
          status: 400,
          field: 'rps',
          index: 3,
        },
        { name: 'a body that is not JSON', body: 'cpu=1&rps=2', status: 400, field: '(body)', kind: 'invalid-json' },
        { name: 'truncated JSON', body: '{"cpu":1,"rps"', status: 400, field: '(body)', kind: 'invalid-json' },
        { name: 'content-type text/plain', body: '{"cpu":1,"rps":1}', contentType: 'text/plain', status: 415, field: '(content-type)' },
        { name: `a body over MAX_BODY_BYTES (${MAX_BODY_BYTES})`, body: `[${' '.repeat(2 * MAX_BODY_BYTES)}{"cpu":1,"rps":1}]`, status: 413, field: '(body)', kind: 'body-too-large' },
        { name: `a batch over MAX_BATCH (${MAX_BATCH})`, body: Array.from({ length: MAX_BATCH + 1 }, (_, i) => ok(i)), status: 413, field: '(body)', kind: 'batch-too-large' },
        { name: 'JSON null', body: 'null', status: 400, field: '(body)' },
        { name: 'a JSON number', body: '42', status: 400, field: '(body)' },
        { name: 'a JSON string', body: '"cpu=1"', status: 400, field: '(body)' },
      ];

      for (const c of cases) {
        it(`${c.status} for ${c.name}`, async () => {
          const before = await client.xlen(api.keys.events);
          const init = c.contentType ? { headers: { 'content-type': c.contentType } } : undefined;
          const problem = expectProblem(await postJson(`${api.url}/ingest`, c.body, init), c.status);
          expect(problem.instance).to.equal('/ingest');
          if (c.kind) expect(problem.type).to.equal(`urn:metrics-pipeline:problem:${c.kind}`);
          expect(problem.errors, 'errors[]').to.be.an('array').that.is.not.empty;
          expect(problem.errors[0].field).to.equal(c.field);
          if (c.index !== undefined) {
            expect(problem.errors[0].index).to.equal(c.index);
            expect(problem.errors).to.have.length(1);
            expect(problem.detail).to.contain(`[${c.index}]`);
          }
          if (c.field !== '(body)' && c.field !== '(content-type)') expect(problem.detail).to.contain(c.field);
          if (c.detail) expect(problem.detail).to.match(c.detail);
          expect(await client.xlen(api.keys.events), 'XLEN after the refused request').to.equal(before);
        });
      }

      it('413 for a chunked body (no content-length) that grows past MAX_BODY_BYTES', async () => {
        const before = await client.xlen(api.keys.events);
        const res = await postChunked(api.url, ['[', ' '.repeat(600), ' '.repeat(600), '{"cpu":1,"rps":1}]']);
        expect(res.status).to.equal(413);
        expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(res.body.errors[0].field).to.equal('(body)');
        expect(await client.xlen(api.keys.events)).to.equal(before);
      });

      it('keeps serving afterwards, and counts the refusals by reason', async () => {
        const res = await postJson(`${api.url}/ingest`, { cpu: 3, rps: 4 });
        expect(res.status).to.equal(202);
        const metrics = await scrape(api.url);
        expect(sample(metrics, 'api_events_rejected_total{reason="invalid-metric"}')).to.be.greaterThan(0);
        expect(sample(metrics, 'api_events_rejected_total{reason="invalid-json"}')).to.equal(2);
        expect(sample(metrics, 'api_events_rejected_total{reason="unsupported-media-type"}')).to.equal(1);
        expect(sample(metrics, 'api_events_rejected_total{reason="body-too-large"}')).to.equal(2);
        // A refused batch counts each of its events.
        expect(sample(metrics, 'api_events_rejected_total{reason="batch-too-large"}')).to.equal(MAX_BATCH + 1);
      });
    });

    it('answers GET /ingest (and other methods) with 405 and Allow: POST', async () => {
      const get = await getJson(`${api.url}/ingest`);
      expectProblem(get, 405);
      expect(get.headers.get('allow')).to.equal('POST');
      const put = await getJson(`${api.url}/ingest`, { method: 'PUT' });
      expectProblem(put, 405);
      expect(put.headers.get('allow')).to.equal('POST');
    });
  });

  describe('backpressure', () => {
    const MAX_BACKLOG = 5;
    let api: RunningApi;
    before(async () => {
      api = await newApi('backpressure', { MAX_BACKLOG: String(MAX_BACKLOG), BACKLOG_CHECK_MS: '50' });
    });

    const backpressure = async () => sample(await scrape(api.url), 'api_backpressure_active');

    it('answers 503 with Retry-After once the backlog reaches MAX_BACKLOG, and accepts again once it drains', async () => {
      for (let i = 0; i < MAX_BACKLOG; i++) {
        const res = await postJson(`${api.url}/ingest`, { timestamp: 1764000000 + i, cpu: i, rps: i });
        expect(res.status, `event ${i}`).to.equal(202);
      }
      await waitFor(async () => (await backpressure()) === 1, {
        timeoutMs: 3000,
        message: 'the backlog monitor never saw the backlog reach MAX_BACKLOG',
      });
      expect(sample(await scrape(api.url), 'api_backlog_entries')).to.equal(MAX_BACKLOG);

      for (const body of [{ cpu: 1, rps: 1 }, [{ cpu: 1, rps: 1 }, { cpu: 2, rps: 2 }]]) {
        const res = await postJson(`${api.url}/ingest`, body);
        const problem = expectProblem(res, 503);
        expect(problem.type).to.equal('urn:metrics-pipeline:problem:backpressure');
        expect(res.headers.get('retry-after')).to.match(/^\d+$/);
      }
      expect(await client.xlen(api.keys.events)).to.equal(MAX_BACKLOG);
      expect(sample(await scrape(api.url), 'api_events_rejected_total{reason="backpressure"}')).to.be.at.least(1);

      // Read while still pending: lag 0 but pending 5, so still over the limit.
      const read = (await client.xreadgroup('GROUP', ANALYZER_GROUP, 'fake-consumer', 'COUNT', 100, 'STREAMS', api.keys.events, '>')) as
        | [string, [string, string[]][]][]
        | null;
      const ids = read?.[0]?.[1].map(([id]) => id) ?? [];
      expect(ids).to.have.length(MAX_BACKLOG);
      await sleep(200);
      expect(await backpressure(), 'read but not acknowledged is still backlog').to.equal(1);
      expectProblem(await postJson(`${api.url}/ingest`, { cpu: 1, rps: 1 }), 503);

      expect(await client.xack(api.keys.events, ANALYZER_GROUP, ...ids)).to.equal(MAX_BACKLOG);
      await waitFor(async () => (await backpressure()) === 0, { timeoutMs: 3000, message: 'backpressure never turned off' });
      const res = await postJson(`${api.url}/ingest`, { cpu: 7, rps: 7 });
      expect(res.status).to.equal(202);
      expect(await client.xlen(api.keys.events)).to.equal(MAX_BACKLOG + 1);
    });
  });

  describe('graceful stop', () => {
    it('lets a request in flight finish with 202 before stop() resolves', async () => {
      const api = await newApi('stop');
      const body = JSON.stringify({ timestamp: 1764000000, cpu: 12.5, rps: 34 });
      const half = Math.floor(body.length / 2);
      const events: string[] = [];
      // Server side: the request arrived, and its response was fully handed to the socket.
      const arrived = new Promise<void>((resolve) =>
        api.api.server.once('request', (_req, res) => {
          res.once('finish', () => events.push('response sent'));
          resolve();
        }),
      );
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${api.url}/ingest`,
          { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => {
              events.push('response received');
              resolve({ status: res.statusCode ?? 0, body: text });
            });
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, half));
        void arrived.then(async () => {
          const stopped = api.stop().then(() => events.push('stopped'));
          await sleep(300);
          events.push('rest written');
          req.end(body.slice(half));
          await stopped;
        });
      });

      await arrived;
      const res = await response;
      expect(res.status, res.body).to.equal(202);
      const id = (JSON.parse(res.body) as { id: string }).id;
      await waitFor(() => events.includes('stopped'), { timeoutMs: 5000, message: `stop() never resolved: ${events.join(', ')}` });
      // Server-side order; when this client process sees the end of the response races with stop().
      expect(events.filter((e) => e !== 'response received')).to.deep.equal(['rest written', 'response sent', 'stopped']);
      expect(await client.xrange(api.keys.events, id, id)).to.deep.equal([[id, ['ts', '1764000000', 'cpu', '12.5', 'rps', '34']]]);
      // The listener is gone.
      let refused = false;
      await fetch(`${api.url}/health`).catch(() => (refused = true));
      expect(refused, 'a new connection after stop()').to.equal(true);
    });
  });
});
