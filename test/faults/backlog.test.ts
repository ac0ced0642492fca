import { expect } from 'chai';
import { seriesKeys } from '@pipeline/redis';
import { sleep, waitFor } from '@pipeline/testkit';
import { backlogOf, expectExactEnd, Load, missingFromRedis, report, StreamTap } from '../support/faults.js';
import {
  pipelineSuite,
  startAnalyzer,
  startApi,
} from '../support/pipeline.js';

const WINDOW = { windowSize: 50, zThreshold: 2, minSamples: 10 };
const MAX_BACKLOG = 2000;

describe('every analyzer stopped while ingest goes on', function () {
  this.timeout(120_000);
  const suite = pipelineSuite(WINDOW);

  it('answers 503 + Retry-After at MAX_BACKLOG, keeps every accepted entry, and drains once analyzers return', async () => {
    const env = suite.envFor({ MAX_BACKLOG: String(MAX_BACKLOG), BACKLOG_CHECK_MS: '50', BATCH_SIZE: '200', BLOCK_MS: '200' });
    const keys = seriesKeys(env.KEY_PREFIX);
    const api = await startApi(env);
    suite.services.push(api);
    const tap = new StreamTap(suite.redis.url, keys.events).start();
    let analyzers = await Promise.all([0, 1].map((i) => startAnalyzer(env, `analyzer-${i}`)));
    suite.services.push(...analyzers);
    const load = new Load({ targets: () => [api.url], batchSize: 20, concurrency: 2, paceMs: 10, backoffMs: 50 }).start();
    await sleep(1500);
    expect(load.counts.backpressure, 'no backpressure while the analyzers keep up').to.equal(0);

    // All analyzers go (gracefully: each commits its batch in hand); ingest goes on.
    for (const exit of await Promise.all(analyzers.map((a) => a.stop()))) expect(exit.code).to.equal(0);
    const stoppedAt = performance.now();
    await waitFor(() => load.counts.backpressure > 0, { timeoutMs: 20_000, message: () => `no 503 backpressure; ${JSON.stringify(load.counts)}` });
    const reachedAfterMs = performance.now() - stoppedAt;
    await sleep(1500); // a while of refusals

    // Nothing accepted was trimmed: every uncommitted accepted entry is still in the stream.
    await load.pause();
    const backlog = (await backlogOf(suite.client, keys))!;
    const committed = Number(await suite.client.hget(keys.stats, 'count'));
    const uncommitted = load.accepted.length - committed;
    const xlen = await suite.client.xlen(keys.events);
    const { missing } = await missingFromRedis(suite.client, keys, load.accepted.map((a) => a.id));
    expect(missing, 'accepted entries neither in the stream nor committed').to.deep.equal([]);
    expect(xlen, 'XLEN ≥ accepted but uncommitted').to.be.at.least(uncommitted);
    expect(backlog, 'backlog = accepted but uncommitted').to.equal(uncommitted);
    expect(backlog).to.be.at.least(MAX_BACKLOG);
    const overshoot = backlog - MAX_BACKLOG;
    load.resume();

    // Analyzers back: the backlog drains and ingest is accepted again.
    const restartedAt = performance.now();
    const since = load.last202At;
    analyzers = await Promise.all([2, 3].map((i) => startAnalyzer(env, `analyzer-${i}`)));
    suite.services.push(...analyzers);
    await waitFor(() => load.last202At > since, { timeoutMs: 30_000, message: 'ingest never accepted again' });
    const acceptedAgainAfterMs = load.last202At - restartedAt;
    await sleep(1500);
    await load.stop();

    const end = await expectExactEnd({ apiUrl: api.url, client: suite.client, keys, load, tap, window: WINDOW, timeoutMs: 60_000 });
    expect(load.counts.failures).to.deep.equal([]);
    expect(load.counts.unavailable, '503s other than backpressure').to.equal(0);
    expect(end.extras, 'a 503 never stores anything').to.deep.equal([]);
    report('backlog', {
      events: end.events,
      backpressure503s: load.counts.backpressure,
      reachedAfterMs,
      overshoot,
      xlen,
      uncommitted,
      acceptedAgainAfterMs,
      max503WindowMs: load.counts.max503WindowMs,
    });
  });
});
