import { expect } from 'chai';
import { seriesKeys } from '@pipeline/redis';
import { sleep } from '@pipeline/testkit';
import {
  expectAnomaliesEqualReference,
  expectStatsEqualReference,
  ingest,
  makeEvents,
  pipelineSuite,
  reference,
  scrapeCounter,
  startAnalyzer,
  startApi,
  waitForCount,
  type Accepted,
  type RunningService,
} from '../support/pipeline.js';

const WINDOW = { windowSize: 50, zThreshold: 2, minSamples: 10 };

describe('crashed analyzers', function () {
  this.timeout(180_000);
  const suite = pipelineSuite(WINDOW);

  it('claims the entries a dead consumer read and never acknowledged, counting each once', async () => {
    const env = suite.envFor({ CLAIM_IDLE_MS: '300', BATCH_SIZE: '50' });
    const keys = seriesKeys(env.KEY_PREFIX);
    const api = await startApi(env);
    suite.services.push(api);
    const accepted = await ingest(api.url, makeEvents(400, 3), 20, 2);
    // A consumer that read 150 entries and died before its commit: they sit in its pending list.
    const taken = (await suite.client.xreadgroup('GROUP', 'analyzer', 'dead-consumer', 'COUNT', 150, 'STREAMS', keys.events, '>')) as [string, unknown[]][];
    expect(taken[0]![1]).to.have.length(150);

    const analyzer = await startAnalyzer(env);
    suite.services.push(analyzer);
    const stats = await waitForCount(api.url, accepted.length, 20_000, () => analyzer.output());
    const ref = reference(accepted, WINDOW);
    expectStatsEqualReference(stats, ref, WINDOW.windowSize);
    await expectAnomaliesEqualReference(api.url, ref);
    expect(await scrapeCounter(analyzer.url, 'analyzer_claimed_entries_total')).to.equal(150);
    expect(((await suite.client.xpending(keys.events, 'analyzer')) as [number])[0]).to.equal(0);
  });

  it('loses nothing and counts nothing twice while analyzers are SIGKILLed and restarted under load', async () => {
    const env = suite.envFor({ CLAIM_IDLE_MS: '500', BATCH_SIZE: '20', BLOCK_MS: '200' });
    const keys = seriesKeys(env.KEY_PREFIX);
    const api = await startApi(env);
    suite.services.push(api);
    let generation = 0;
    const live: RunningService[] = await Promise.all([0, 1, 2].map(() => startAnalyzer(env, `analyzer-${generation++}`)));
    suite.services.push(...live);

    // Load as fast as the api takes it, in requests of 200: the analyzers (BATCH_SIZE 20) fall
    // behind and mostly have a batch in hand. It runs until the kills below are done.
    let stopLoad = false;
    const load = (async () => {
      const accepted: Accepted[] = [];
      for (let seed = 100; !stopLoad; seed++) accepted.push(...(await ingest(api.url, makeEvents(2000, seed), 200, 2)));
      return accepted;
    })();

    // Freeze a replica (SIGSTOP): if it holds a delivered, uncommitted batch, SIGKILL it there,
    // mid-batch; otherwise let it go on (plain kills, at most one a second, keep the churn going).
    let kills = 0;
    let killedMidBatch = 0;
    let lastKill = Date.now();
    const deadline = Date.now() + 40_000;
    while ((killedMidBatch < 3 || kills < 5) && Date.now() < deadline) {
      await sleep(20 + Math.random() * 80);
      const index = Math.floor(Math.random() * live.length);
      const candidate = live[index]!;
      candidate.pause();
      const held = (await suite.client.xpending(keys.events, 'analyzer', '-', '+', 1, candidate.name)) as unknown[];
      if (held.length === 0 && Date.now() - lastKill < 1000) {
        candidate.resume();
        continue;
      }
      candidate.kill('SIGKILL');
      await candidate.exited;
      live.splice(index, 1);
      kills++;
      if (held.length > 0) killedMidBatch++;
      lastKill = Date.now();
      const replacement = await startAnalyzer(env, `analyzer-${generation++}`);
      live.push(replacement);
      suite.services.push(replacement);
    }
    stopLoad = true;
    const accepted = await load;
    expect(killedMidBatch, `kills with a batch in hand, of ${kills}`).to.be.at.least(3);

    const stats = await waitForCount(api.url, accepted.length, 60_000, () => live.map((a) => a.output()).join('\n'));
    const ref = reference(accepted, WINDOW);
    expectStatsEqualReference(stats, ref, WINDOW.windowSize);
    await expectAnomaliesEqualReference(api.url, ref);
    await sleep(300);
    expect((await api.stop()).code).to.equal(0);
    expect(((await suite.client.xpending(keys.events, 'analyzer')) as [number])[0], 'nothing left pending').to.equal(0);
    expect(Number(await suite.client.hget(keys.stats, 'count')), 'no late double count').to.equal(accepted.length);
  });

  it('does not count twice when a frozen analyzer commits a batch that was claimed meanwhile', async () => {
    const env = suite.envFor({ CLAIM_IDLE_MS: '300', BATCH_SIZE: '50', BLOCK_MS: '200' });
    const keys = seriesKeys(env.KEY_PREFIX);
    const api = await startApi(env);
    const analyzers = [await startAnalyzer(env, 'steady'), await startAnalyzer(env, 'sleepy')];
    suite.services.push(api, ...analyzers);
    const sleepy = analyzers[1]!;
    let loadDone = false;
    const load = ingest(api.url, makeEvents(20_000, 5), 20, 2).finally(() => {
      loadDone = true;
    });
    // Freeze "sleepy" while it holds a batch, long enough for "steady" to claim and commit it,
    // then let it wake up and run its now stale commit.
    let lateCommits = 0;
    for (let attempt = 0; !loadDone && lateCommits < 2 && attempt < 300; attempt++) {
      await sleep(20 + Math.random() * 50);
      sleepy.pause();
      const held = (await suite.client.xpending(keys.events, 'analyzer', '-', '+', 1, sleepy.name)) as unknown[];
      if (held.length > 0) {
        await sleep(1500);
        lateCommits++;
      }
      sleepy.resume();
    }
    const accepted = await load;
    expect(lateCommits, 'sleepy was frozen holding a batch').to.be.at.least(1);
    const stats = await waitForCount(api.url, accepted.length, 60_000);
    const ref = reference(accepted, WINDOW);
    expectStatsEqualReference(stats, ref, WINDOW.windowSize);
    await expectAnomaliesEqualReference(api.url, ref);
    expect(await scrapeCounter(sleepy.url, 'analyzer_duplicates_skipped_total'), 'the late commit found its entries committed').to.be.greaterThan(0);
    await sleep(500);
    expect(Number(await suite.client.hget(keys.stats, 'count')), 'no late double count').to.equal(accepted.length);
  });
});
