import { expect } from 'chai';
import { seriesKeys } from '@pipeline/redis';
import { sleep } from '@pipeline/testkit';
import { expectExactEnd, Load, report, StreamTap } from '../support/faults.js';
import {
  pipelineSuite,
  scrapeCounter,
  startAnalyzer,
  startApi,
} from '../support/pipeline.js';

const WINDOW = { windowSize: 50, zThreshold: 2, minSamples: 10 };

describe('analyzers scaled up and down under load', function () {
  this.timeout(120_000);
  const suite = pipelineSuite(WINDOW);

  it('goes 1 → 4 → 1 replicas (graceful SIGTERMs, one SIGKILL mid-batch) with exact stats', async () => {
    const env = suite.envFor({ BATCH_SIZE: '100', BLOCK_MS: '200', CLAIM_IDLE_MS: '1000' });
    const keys = seriesKeys(env.KEY_PREFIX);
    const api = await startApi(env);
    suite.services.push(api);
    const tap = new StreamTap(suite.redis.url, keys.events).start();
    let generation = 0;
    const start = async () => {
      const analyzer = await startAnalyzer(env, `analyzer-${generation++}`);
      suite.services.push(analyzer);
      return analyzer;
    };
    const live = [await start()];
    const load = new Load({ targets: () => [api.url], batchSize: 50, concurrency: 2, paceMs: 20 }).start();
    const processedBy = new Map<string, number>();
    const graceful: number[] = [];

    await sleep(1500);
    while (live.length < 4) {
      live.push(await start());
      await sleep(700);
    }

    // SIGKILL one replica while it holds a delivered, uncommitted batch (frozen first, to look).
    let heldAtKill = 0;
    const victim = live.splice(1, 1)[0]!;
    // A replica holds a batch only a few ms at a time at this rate: keep trying for up to 15 s
    // (50 tries, ~2.5 s, missed once in a full run).
    const tryUntil = performance.now() + 15_000;
    while (heldAtKill === 0 && performance.now() < tryUntil) {
      victim.pause();
      heldAtKill = ((await suite.client.xpending(keys.events, 'analyzer', '-', '+', 1000, victim.name)) as unknown[]).length;
      if (heldAtKill === 0) {
        victim.resume();
        await sleep(20 + Math.random() * 50);
      }
    }
    victim.kill('SIGKILL');
    await victim.exited;
    await sleep(1500);

    // Back to one, gracefully: each stop commits the batch in hand and exits 0.
    while (live.length > 1) {
      const leaving = live.shift()!;
      processedBy.set(leaving.name, await scrapeCounter(leaving.url, 'analyzer_events_processed_total'));
      const started = performance.now();
      const exit = await leaving.stop();
      graceful.push(performance.now() - started);
      expect(exit, leaving.output()).to.deep.equal({ code: 0, signal: null });
      await sleep(700);
    }
    await sleep(1000);
    await load.stop();
    const drainStarted = performance.now();
    const end = await expectExactEnd({ apiUrl: api.url, client: suite.client, keys, load, tap, window: WINDOW, timeoutMs: 60_000, describe: () => live[0]!.output() });
    processedBy.set(live[0]!.name, await scrapeCounter(live[0]!.url, 'analyzer_events_processed_total'));
    const claimed = await scrapeCounter(live[0]!.url, 'analyzer_claimed_entries_total');

    expect(load.counts.failures, 'requests that failed').to.deep.equal([]);
    expect(end.extras, 'entries stored without a 202').to.deep.equal([]);
    expect(heldAtKill, 'the SIGKILLed replica held a batch').to.be.greaterThan(0);
    report('scale', {
      events: end.events,
      anomalies: end.anomalies,
      heldAtKill,
      processedBy: Object.fromEntries(processedBy),
      claimedByLast: claimed,
      maxGracefulStopMs: Math.max(...graceful),
      drainAfterLoadMs: performance.now() - drainStarted,
    });
  });
});
