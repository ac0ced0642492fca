import { expect } from 'chai';
import { getJson, newKeyPrefix, postJson, startRedisServer, waitFor, type JsonResponse, type RedisServerProcess } from '@pipeline/testkit';
import { isReady, startApi, type RunningApi } from './support.js';

function expectUnavailable(res: JsonResponse): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(503);
  expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
  expect(res.headers.get('retry-after')).to.match(/^\d+$/);
  expect(res.body.type).to.equal('urn:metrics-pipeline:problem:redis-unavailable');
}

describe('api during a Redis outage', function () {
  this.timeout(20_000);
  let redis: RedisServerProcess;
  let api: RunningApi;
  let paused = false;

  before(async () => {
    redis = await startRedisServer();
    api = await startApi({ REDIS_URL: redis.url, KEY_PREFIX: newKeyPrefix() });
    await waitFor(() => isReady(api.url), { timeoutMs: 5000, message: '/ready never turned 200' });
  });
  after(async () => {
    if (paused) process.kill(redis.pid, 'SIGCONT');
    await api?.stop();
    await redis?.cleanup();
  });

  it('answers 503 fast while Redis is down and recovers without a restart once it is back', async () => {
    expect((await postJson(`${api.url}/ingest`, { cpu: 1, rps: 1 })).status).to.equal(202);

    await redis.stop();

    const started = Date.now();
    const post = await postJson(`${api.url}/ingest`, { cpu: 2, rps: 2 });
    const elapsed = Date.now() - started;
    expectUnavailable(post);
    expect(elapsed, 'ms until the 503').to.be.below(1500);

    // Also a batch, and again once the client has noticed the connection is gone.
    const batchStarted = Date.now();
    expectUnavailable(await postJson(`${api.url}/ingest`, [{ cpu: 3, rps: 3 }, { cpu: 4, rps: 4 }]));
    expect(Date.now() - batchStarted).to.be.below(1500);

    expectUnavailable(await getJson(`${api.url}/stats`));
    expectUnavailable(await getJson(`${api.url}/anomalies`));
    const ready = await getJson(`${api.url}/ready`);
    expect(ready.status).to.equal(503);
    expect(ready.body.ready).to.equal(false);
    expect(ready.body.reason).to.match(/^redis: /);

    // Liveness and metrics do not depend on Redis.
    expect((await getJson(`${api.url}/health`)).status).to.equal(200);
    const metrics = await fetch(`${api.url}/metrics`);
    expect(metrics.status).to.equal(200);
    expect(await metrics.text()).to.match(/^api_events_rejected_total\{reason="redis-unavailable"\} 3$/m);

    // Same port, empty data (no AOF): the api reconnects and its monitor recreates the group.
    await redis.start();
    await waitFor(() => isReady(api.url), { timeoutMs: 10_000, message: '/ready never turned 200 after Redis came back' });
    const accepted = await waitFor(
      async () => {
        const res = await postJson(`${api.url}/ingest`, { cpu: 5, rps: 5 });
        return res.status === 202 && res;
      },
      { timeoutMs: 10_000, message: 'POST /ingest never answered 202 after Redis came back' },
    );
    expect(accepted.body.status).to.equal('accepted');
    expect((await getJson(`${api.url}/stats`)).status).to.equal(200);
  });

  it('answers 503 within REDIS_COMMAND_TIMEOUT_MS when Redis hangs (SIGSTOP), and recovers when it resumes', async () => {
    await waitFor(() => isReady(api.url), { timeoutMs: 10_000, message: '/ready is not 200 before the test' });
    process.kill(redis.pid, 'SIGSTOP');
    paused = true;

    const started = Date.now();
    const [post, stats, ready] = await Promise.all([
      postJson(`${api.url}/ingest`, { cpu: 6, rps: 6 }),
      getJson(`${api.url}/stats`),
      getJson(`${api.url}/ready`),
    ]);
    const elapsed = Date.now() - started;
    expectUnavailable(post);
    expectUnavailable(stats);
    expect(ready.status).to.equal(503);
    // Each command's timeout starts when it is sent (writes are coalesced per event-loop turn, no
    // command waits for another's round trip): one timeout plus scheduling.
    expect(elapsed, 'ms until the answers (REDIS_COMMAND_TIMEOUT_MS is 1000)').to.be.below(1500);

    process.kill(redis.pid, 'SIGCONT');
    paused = false;
    await waitFor(
      async () => (await postJson(`${api.url}/ingest`, { cpu: 7, rps: 7 })).status === 202 && (await isReady(api.url)),
      { timeoutMs: 10_000, message: 'the api did not recover after Redis resumed' },
    );
  });
});
