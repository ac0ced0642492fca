// Soak: SOAK_SECONDS (default 120) of load over two apis while analyzers are SIGKILLed, stopped and
// started, Redis (AOF, appendfsync always) is SIGKILLed and restarted on its dir, and the apis are
// restarted; then the exact comparison. Not part of `pnpm test`: run it with `pnpm test:soak`.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { seriesKeys } from '@pipeline/redis';
import { sleep, startRedisServer, type RedisServerProcess } from '@pipeline/testkit';
import { backlogOf, expectExactEnd, Load, report, StreamTap } from '../support/faults.js';
import { startAnalyzer, startApi, type RunningService } from '../support/pipeline.js';

const SOAK_SECONDS = Number(process.env['SOAK_SECONDS'] ?? 120);
const SEED = Number(process.env['SOAK_SEED'] ?? Date.now() % 1_000_000);
const WINDOW = { windowSize: 50, zThreshold: 2, minSamples: 10 };
const MAX_ANALYZERS = 4;

describe('soak', function () {
  this.timeout(0);
  let redis: RedisServerProcess | undefined;
  let client: Redis | undefined;
  const services: RunningService[] = [];

  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    client?.disconnect();
    await redis?.cleanup();
  });

  it(`${SOAK_SECONDS} s of load with analyzer, Redis and api restarts ends exact`, async () => {
    let state = SEED;
    const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    console.log(`      soak: ${SOAK_SECONDS} s, SOAK_SEED=${SEED}`);

    redis = await startRedisServer({ appendonly: true, appendfsync: 'always' });
    client = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    client.on('error', () => undefined);
    const env = {
      REDIS_URL: redis.url,
      KEY_PREFIX: 'soak',
      WINDOW_SIZE: String(WINDOW.windowSize),
      Z_THRESHOLD: String(WINDOW.zThreshold),
      MIN_SAMPLES: String(WINDOW.minSamples),
      MAX_BACKLOG: '5000',
      BACKLOG_CHECK_MS: '100',
      BATCH_SIZE: '200',
      BLOCK_MS: '200',
      CLAIM_IDLE_MS: '1000',
    };
    const keys = seriesKeys(env.KEY_PREFIX);
    const apis = [await startApi(env, 'api-0'), await startApi(env, 'api-1')];
    services.push(...apis);
    const urls = apis.map((a) => a.url);
    let generation = 0;
    const analyzers: RunningService[] = [];
    const addAnalyzer = async () => {
      const a = await startAnalyzer(env, `analyzer-${generation++}`);
      services.push(a);
      analyzers.push(a);
    };
    await addAnalyzer();
    await addAnalyzer();
    const tap = new StreamTap(redis.url, keys.events).start();
    const load = new Load({ targets: () => urls, batchSize: 25, concurrency: 3, paceMs: 10, backoffMs: 100, seed: SEED }).start();

    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    const faults = { analyzerKills: 0, analyzerStops: 0, analyzerStarts: 0, redisKills: 0, apiRestarts: 0 };
    const recoveries: { fault: string; ms: number }[] = [];
    /** Time from the moment a fault is repaired to the next 202. */
    const measureRecovery = (fault: string) => {
      const at = performance.now();
      void (async () => {
        while (load.last202At <= at && elapsed() < SOAK_SECONDS + 60) await sleep(20);
        if (load.last202At > at) recoveries.push({ fault, ms: load.last202At - at });
      })();
    };
    const progress = setInterval(() => {
      void (async () => {
        const up = redis!.running;
        const backlog = up ? await backlogOf(client!, keys) : null;
        const processed = up ? await client!.hget(keys.stats, 'count').catch(() => null) : null;
        const c = load.counts;
        console.log(
          `      [soak ${Math.round(elapsed())}s] sent=${c.requests} accepted=${c.eventsAccepted} 503=${c.backpressure}bp/${c.unavailable}redis ` +
            `refused=${c.refused} analyzers=${analyzers.length} backlog=${backlog ?? '-'} processed=${processed ?? '-'} redis=${up ? 'up' : 'DOWN'}`,
        );
      })();
    }, 5000);

    let lastRedisKill = performance.now();
    let lastApiRestart = performance.now();
    while (elapsed() < SOAK_SECONDS) {
      await sleep(1000 + random() * 2000);
      const roll = random();
      const sinceRedis = performance.now() - lastRedisKill;
      const sinceApi = performance.now() - lastApiRestart;
      if (roll < 0.15 && sinceRedis > 12_000) {
        await redis.kill('SIGKILL');
        faults.redisKills++;
        await sleep(300 + random() * 1200);
        await redis.start();
        lastRedisKill = performance.now();
        measureRecovery('redis');
      } else if (roll < 0.25 && sinceApi > 10_000) {
        const index = random() < 0.5 ? 0 : 1;
        const old = apis[index]!;
        expect((await old.stop()).code, old.output()).to.equal(0);
        await sleep(200 + random() * 800);
        apis[index] = await startApi(env, `${old.name}'`, Number(new URL(old.url).port));
        services.push(apis[index]!);
        faults.apiRestarts++;
        lastApiRestart = performance.now();
      } else if (roll < 0.5 && analyzers.length > 0) {
        const victim = analyzers.splice(Math.floor(random() * analyzers.length), 1)[0]!;
        victim.kill('SIGKILL');
        await victim.exited;
        faults.analyzerKills++;
      } else if (roll < 0.62 && analyzers.length > 1) {
        const leaving = analyzers.splice(Math.floor(random() * analyzers.length), 1)[0]!;
        const exit = await leaving.stop();
        expect(exit.code, leaving.output()).to.equal(0);
        faults.analyzerStops++;
      } else if (analyzers.length < MAX_ANALYZERS) {
        await addAnalyzer();
        faults.analyzerStarts++;
        if (analyzers.length === 1) measureRecovery('analyzers back from 0');
      }
    }

    // Repair everything, let the load run on a healthy pipeline for a moment, then compare.
    clearInterval(progress);
    if (!redis.running) await redis.start();
    while (analyzers.length < 2) await addAnalyzer();
    await sleep(2000);
    await load.stop();
    const drainStarted = performance.now();
    const end = await expectExactEnd({ apiUrl: apis[0]!.url, client, keys, load, tap, window: WINDOW, timeoutMs: 180_000 });
    const c = load.counts;
    report('soak', {
      seconds: elapsed(),
      events: end.events,
      accepted202: load.accepted.length,
      storedWithout202: end.extras.length,
      anomalies: end.anomalies,
      requests: c.requests,
      backpressure503: c.backpressure,
      unavailable503: c.unavailable,
      refused: c.refused,
      resetNotTaken: c.resetNotTaken,
      failures: c.failures.length,
      max503WindowMs: c.max503WindowMs,
      ...faults,
      maxRecoveryMs: Math.max(0, ...recoveries.map((r) => r.ms)),
      recoveries: recoveries.map((r) => `${r.fault} ${Math.round(r.ms)}ms`),
      drainAfterLoadMs: performance.now() - drainStarted,
    });
    expect(c.failures, 'requests that failed').to.deep.equal([]);
  });
});
