import { expect } from 'chai';
import { Redis } from 'ioredis';
import { compareStreamIds, seriesKeys } from '@pipeline/redis';
import { getJson, sleep, startRedisServer, waitFor, type RedisServerProcess } from '@pipeline/testkit';
import {
  expectAllAcceptedInStream,
  expectExactStats,
  Load,
  missingFromRedis,
  report,
  storedWithout202,
  StreamTap,
} from '../support/faults.js';
import { startAnalyzer, startApi, type RunningService } from '../support/pipeline.js';

const WINDOW = { windowSize: 50, zThreshold: 2, minSamples: 10 };

describe('Redis SIGKILLed under load', function () {
  this.timeout(120_000);
  let redis: RedisServerProcess | undefined;
  let client: Redis | undefined;
  let services: RunningService[] = [];

  afterEach(async () => {
    await Promise.all(services.map((s) => s.stop()));
    services = [];
    client?.disconnect();
    await redis?.cleanup();
  });

  /**
   * Load → SIGKILL Redis → (503s) → restart it on its dir. While it comes back nothing is written
   * (load paused, analyzers frozen), so the restarted stream and group say exactly what survived.
   */
  async function crash(appendfsync: 'always' | 'everysec') {
    redis = await startRedisServer({ appendonly: true, appendfsync });
    client = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    client.on('error', () => undefined);
    const env = {
      REDIS_URL: redis.url,
      KEY_PREFIX: `crash-${appendfsync}`,
      WINDOW_SIZE: String(WINDOW.windowSize),
      Z_THRESHOLD: String(WINDOW.zThreshold),
      MIN_SAMPLES: String(WINDOW.minSamples),
      BLOCK_MS: '200',
      CLAIM_IDLE_MS: '1000',
    };
    const keys = seriesKeys(env.KEY_PREFIX);
    const api = await startApi(env);
    const analyzers = await Promise.all([0, 1].map((i) => startAnalyzer(env, `analyzer-${i}`)));
    services.push(api, ...analyzers);
    const load = new Load({ targets: () => [api.url], batchSize: 20, concurrency: 3, paceMs: 10, backoffMs: 50 }).start();

    await sleep(1500);
    const oneSecondBefore = load.accepted.length;
    await sleep(1000);
    const exposure = load.accepted.length - oneSecondBefore; // 202s in the last second: what a host crash may take with everysec
    await redis.kill('SIGKILL');
    const killedAt = performance.now();
    await sleep(1000);
    const outage503s = load.counts.unavailable;
    await load.pause();
    for (const a of analyzers) a.pause();
    const acceptedBefore = [...load.accepted];
    const unknownBefore = [...load.unknown];

    const restartStarted = performance.now();
    await redis.start();
    const aofLoadMs = performance.now() - restartStarted;
    const apiReady = waitFor(async () => (await getJson(`${api.url}/ready`)).status === 200, { timeoutMs: 15_000, message: 'api never ready' })
      .then(() => performance.now() - restartStarted);
    const { missing, inStream } = await missingFromRedis(client, keys, acceptedBefore.map((a) => a.id));
    const survivors = acceptedBefore.filter((a) => !missing.includes(a.id));
    const extrasAtCrash = storedWithout202(inStream, { accepted: acceptedBefore, unknown: unknownBefore });
    const lastId = [...inStream.keys()].sort(compareStreamIds).at(-1) ?? '0-0';
    const apiReadyMs = await apiReady;

    const tap = new StreamTap(redis.url, keys.events, lastId).start();
    for (const a of analyzers) a.resume();
    const resumedAt = performance.now();
    load.resume();
    await waitFor(() => load.last202At > resumedAt, { timeoutMs: 15_000, message: 'no 202 after the restart' });
    const first202AfterResumeMs = load.last202At - resumedAt;
    await sleep(1500);
    await load.stop();
    await tap.stop();

    const acceptedAfter = load.accepted.slice(acceptedBefore.length);
    expectAllAcceptedInStream(tap, acceptedAfter);
    const extrasAfter = storedWithout202(tap.entries, { accepted: acceptedAfter, unknown: load.unknown.slice(unknownBefore.length) });
    const all = [...survivors, ...extrasAtCrash, ...acceptedAfter, ...extrasAfter];
    const end = await expectExactStats({ apiUrl: api.url, client, keys, all, window: WINDOW, timeoutMs: 60_000 });
    expect(load.counts.failures).to.deep.equal([]);
    const figures = {
      appendfsync,
      events: end.events,
      acceptedBeforeKill: acceptedBefore.length,
      lostOf202: missing.length,
      exposureLastSecond: exposure,
      storedWithout202: extrasAtCrash.length + extrasAfter.length,
      outage503s,
      aofLoadMs,
      apiReadyAfterRestartMs: apiReadyMs,
      first202AfterResumeMs,
      downMs: resumedAt - killedAt,
    };
    report('redis-crash', figures);
    return figures;
  }

  it('with appendfsync always: every 202 before the kill survives, exact stats after recovery', async () => {
    const figures = await crash('always');
    expect(figures.lostOf202, '202s lost by the crash').to.equal(0);
  });

  it('with appendfsync everysec: measures what a SIGKILL loses (printed), stats exact over what survived', async () => {
    await crash('everysec');
  });
});
