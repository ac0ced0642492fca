import { expect } from 'chai';
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
} from '../support/pipeline.js';

const WINDOW = { windowSize: 50, zThreshold: 2, minSamples: 10 };

describe('the pipeline, api and analyzers as real processes', function () {
  this.timeout(120_000);
  const suite = pipelineSuite(WINDOW);

  for (const replicas of [1, 2, 3]) {
    it(`gives /stats and /anomalies equal to one process replaying the stream, with ${replicas} analyzer(s)`, async () => {
      const env = suite.envFor({ BATCH_SIZE: '37' });
      const api = await startApi(env);
      suite.services.push(api);
      const analyzers = await Promise.all(Array.from({ length: replicas }, (_, i) => startAnalyzer(env, `analyzer-${i}`)));
      suite.services.push(...analyzers);

      const accepted = await ingest(api.url, makeEvents(3000, replicas), 25, 4);
      const ref = reference(accepted, WINDOW);
      expect(ref.anomalousIds.length, 'the stream has anomalies to find').to.be.greaterThan(20);

      const stats = await waitForCount(api.url, accepted.length, 30_000);
      expectStatsEqualReference(stats, ref, WINDOW.windowSize);
      await expectAnomaliesEqualReference(api.url, ref);

      // Every event was committed by exactly one replica, and the replicas shared the work.
      const processed = await Promise.all(analyzers.map((a) => scrapeCounter(a.url, 'analyzer_events_processed_total')));
      expect(processed.reduce((a, b) => a + b, 0)).to.equal(accepted.length);
      if (replicas > 1) expect(processed.filter((p) => p > 0).length, `per replica: ${processed}`).to.be.at.least(2);
    });
  }

  it('starts from the first event when events arrive before any analyzer runs', async () => {
    const env = suite.envFor();
    const api = await startApi(env);
    suite.services.push(api);
    const accepted = await ingest(api.url, makeEvents(200, 7), 1, 2);
    const analyzer = await startAnalyzer(env);
    suite.services.push(analyzer);
    const stats = await waitForCount(api.url, accepted.length, 20_000);
    expectStatsEqualReference(stats, reference(accepted, WINDOW), WINDOW.windowSize);
  });

  it('stops both services with exit code 0 on SIGTERM', async () => {
    const env = suite.envFor();
    const api = await startApi(env);
    const analyzer = await startAnalyzer(env);
    await ingest(api.url, makeEvents(50), 10, 1);
    const [apiExit, analyzerExit] = await Promise.all([api.stop(), analyzer.stop()]);
    expect(apiExit, api.output()).to.deep.equal({ code: 0, signal: null });
    expect(analyzerExit, analyzer.output()).to.deep.equal({ code: 0, signal: null });
  });
});
