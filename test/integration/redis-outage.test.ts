import { expect } from 'chai';
import { getJson, postJson, startRedisServer, waitFor, type RedisServerProcess } from '@pipeline/testkit';
import {
  expectStatsEqualReference,
  ingest,
  makeEvents,
  reference,
  startAnalyzer,
  startApi,
  waitForCount,
  type RunningService,
} from '../support/pipeline.js';

const WINDOW = { windowSize: 50, zThreshold: 2, minSamples: 10 };

describe('a Redis outage', function () {
  this.timeout(60_000);
  let redis: RedisServerProcess;
  let services: RunningService[] = [];

  before(async () => {
    redis = await startRedisServer({ appendonly: true, appendfsync: 'always' });
  });
  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await redis?.cleanup();
  });

  it('turns /ready false and /ingest into quick 503s, then recovers without a restart and loses no 202', async () => {
    const env = { REDIS_URL: redis.url, KEY_PREFIX: 'outage' };
    const api = await startApi(env);
    const analyzer = await startAnalyzer(env);
    services.push(api, analyzer);
    const events = makeEvents(600, 9);
    const before = await ingest(api.url, events.slice(0, 300), 10, 2);
    await waitForCount(api.url, before.length, 10_000);

    await redis.stop();
    const started = performance.now();
    const refused = await postJson(`${api.url}/ingest`, events[300]);
    const elapsed = performance.now() - started;
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(refused.headers.get('retry-after')).to.equal('1');
    expect(elapsed, 'answered quickly, not hung').to.be.below(1500);
    expect((await getJson(`${api.url}/stats`)).status).to.equal(503);
    expect((await getJson(`${api.url}/ready`)).status).to.equal(503);
    expect((await getJson(`${analyzer.url}/ready`)).status).to.equal(503);
    expect((await getJson(`${analyzer.url}/health`)).status, 'alive, only not ready').to.equal(200);

    await redis.start();
    await waitFor(async () => (await getJson(`${api.url}/ready`)).status === 200, { timeoutMs: 15_000, message: 'api never ready again' });
    await waitFor(async () => (await getJson(`${analyzer.url}/ready`)).status === 200, { timeoutMs: 15_000, message: 'analyzer never ready again' });
    const after = await ingest(api.url, events.slice(300), 10, 2);

    const accepted = [...before, ...after];
    const stats = await waitForCount(api.url, accepted.length, 20_000, () => analyzer.output());
    expectStatsEqualReference(stats, reference(accepted, WINDOW), WINDOW.windowSize);
  });

  it('lets an analyzer shut down cleanly on SIGTERM while Redis is away', async () => {
    await redis.start();
    const analyzer = await startAnalyzer({ REDIS_URL: redis.url, KEY_PREFIX: 'outage-stop', BLOCK_MS: '500' });
    services.push(analyzer);
    await redis.stop();
    const started = performance.now();
    const exit = await analyzer.stop(15_000);
    expect(exit, analyzer.output()).to.deep.equal({ code: 0, signal: null });
    expect(performance.now() - started, 'within SHUTDOWN_TIMEOUT_MS').to.be.below(10_000);
  });
});
