import { expect } from 'chai';
import { seriesKeys } from '@pipeline/redis';
import { sleep } from '@pipeline/testkit';
import { expectExactEnd, Load, report, StreamTap } from '../support/faults.js';
import {
  pipelineSuite,
  startAnalyzer,
  startApi,
} from '../support/pipeline.js';

const WINDOW = { windowSize: 50, zThreshold: 2, minSamples: 10 };

describe('a rolling restart of the api', function () {
  this.timeout(120_000);
  const suite = pipelineSuite(WINDOW);

  it('fails no request an api took while one of two replicas is SIGTERMed and restarted under load', async () => {
    const env = suite.envFor();
    const keys = seriesKeys(env.KEY_PREFIX);
    const apis = [await startApi(env, 'api-a'), await startApi(env, 'api-b')];
    suite.services.push(...apis);
    const analyzers = await Promise.all([0, 1].map((i) => startAnalyzer({ ...env, BLOCK_MS: '200' }, `analyzer-${i}`)));
    suite.services.push(...analyzers);
    const tap = new StreamTap(suite.redis.url, keys.events).start();
    // Keep-alive clients, as real ones are: the stopping api must drain them without failing one.
    const urls = apis.map((a) => a.url);
    const load = new Load({ targets: () => urls, batchSize: 20, concurrency: 4, paceMs: 5 }).start();

    const rounds: { stopMs: number; refusedDuring: number; backAfterMs: number }[] = [];
    for (const index of [0, 1, 0]) {
      await sleep(1500);
      const old = apis[index]!;
      const refusedBefore = load.counts.refused;
      const started = performance.now();
      const exit = await old.stop();
      expect(exit, old.output()).to.deep.equal({ code: 0, signal: null });
      const stopMs = performance.now() - started;
      await sleep(500); // down for a while: its share of the load is refused, then sent to the other
      const port = Number(new URL(old.url).port);
      const restarted = await startApi(env, `${old.name}'`, port);
      suite.services.push(restarted);
      apis[index] = restarted;
      rounds.push({ stopMs, refusedDuring: load.counts.refused - refusedBefore, backAfterMs: performance.now() - started });
    }
    await sleep(1000);
    await load.stop();

    const end = await expectExactEnd({ apiUrl: apis[1]!.url, client: suite.client, keys, load, tap, window: WINDOW, timeoutMs: 60_000 });
    expect(load.counts.failures, 'answers that are not 202, timeouts').to.deep.equal([]);
    expect(load.counts.backpressure + load.counts.unavailable, '503s').to.equal(0);
    // A socket reset before any answer (a kept-alive one the stopping api closed while idle as the
    // client reused it, or a new one still in its accept queue when it stopped listening) carried
    // a request the api never took: nothing of it may be in the stream, so it could be resent.
    expect(end.extras, 'entries of requests that got no 202').to.deep.equal([]);
    expect(rounds.every((r) => r.refusedDuring > 0), 'requests were refused while an api was down').to.equal(true);
    report('rolling-restart', {
      events: end.events,
      requests: load.counts.requests,
      refused: load.counts.refused,
      resetNotTaken: load.counts.resetNotTaken,
      failures: load.counts.failures.length,
      rounds,
    });
  });
});
