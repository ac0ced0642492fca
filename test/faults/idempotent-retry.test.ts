// Idempotency-Key retries through Redis faults: a 503 during a crash or a hang is not a "no"
// (README, "A 503 is not a no"), and a client that resends under the same key must still get each
// of its events into the stream exactly once.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { seriesKeys } from '@pipeline/redis';
import { sleep, startRedisServer, waitFor, type RedisServerProcess } from '@pipeline/testkit';
import { decodeEntry } from '../../packages/metric/src/index.js';
import { expectExactStats, report, StreamTap } from '../support/faults.js';
import { KeyedLoad } from '../support/keyed-load.js';
import { startAnalyzer, startApi, type RunningService } from '../support/pipeline.js';

const WINDOW = { windowSize: 50, zThreshold: 2, minSamples: 10 };
const KILLS = 3;
const COMMAND_TIMEOUT_MS = 400;
const FREEZE_MS = 1500;

describe('Idempotency-Key retries while Redis is SIGKILLed and hangs (AOF appendfsync always)', function () {
  this.timeout(120_000);
  let redis: RedisServerProcess | undefined;
  let client: Redis | undefined;
  let frozen = false;
  const services: RunningService[] = [];

  afterEach(async () => {
    if (frozen && redis) process.kill(redis.pid, 'SIGCONT');
    await Promise.all(services.splice(0).map((s) => s.stop()));
    client?.disconnect();
    await redis?.cleanup();
  });

  it('stores every keyed batch exactly once however often it was resent, and replays the ambiguous ones', async () => {
    const started = performance.now();
    redis = await startRedisServer({ appendonly: true, appendfsync: 'always' });
    client = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    client.on('error', () => undefined);
    const env = {
      REDIS_URL: redis.url,
      KEY_PREFIX: 'idem-crash',
      WINDOW_SIZE: String(WINDOW.windowSize),
      Z_THRESHOLD: String(WINDOW.zThreshold),
      MIN_SAMPLES: String(WINDOW.minSamples),
      BLOCK_MS: '200',
      CLAIM_IDLE_MS: '1000',
      // A hung Redis fails the api's commands after this long, while Redis still holds them: on
      // SIGCONT it runs them, so each of those requests was answered 503 and yet stored.
      REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
    };
    const keys = seriesKeys(env.KEY_PREFIX);
    const api = await startApi(env);
    services.push(api, await startAnalyzer(env, 'analyzer-0'));
    const tap = new StreamTap(redis.url, keys.events).start();
    const load = new KeyedLoad({ url: api.url, batchSize: 20, concurrency: 4, paceMs: 10, backoffMs: 50 }).start();

    const phases: Record<string, number> = {};
    const phase = (name: string, since: number) => (phases[name] = Math.round(performance.now() - since));
    await sleep(1000);
    for (let kill = 1; kill <= KILLS; kill++) {
      await redis.kill('SIGKILL');
      const killedAt = performance.now();
      await sleep(400); // 503s and refused connections while it is down
      await redis.start();
      phase(`kill${kill}DownMs`, killedAt);
      const doneBefore = load.done.length;
      await waitFor(() => load.done.length > doneBefore, { timeoutMs: 15_000, message: `no 202 after restart ${kill}` });
      await sleep(800);
    }
    const ambiguousFromKills = load.done.filter((b) => b.replayed).length;
    // A hang: SIGSTOP past the api's command timeout, then SIGCONT.
    process.kill(redis.pid, 'SIGSTOP');
    frozen = true;
    await sleep(FREEZE_MS);
    process.kill(redis.pid, 'SIGCONT');
    frozen = false;
    await sleep(1200);
    const stopping = performance.now();
    await load.stop();
    phase('stopLoadMs', stopping);
    await tap.stop();

    expect(load.counts.failures, 'requests that never got a 202, or got another answer').to.deep.equal([]);
    const batches = load.done;
    const accepted = batches.flatMap((b) => b.ids.map((id, i) => ({ id, metric: b.metrics[i]! })));
    // Exactly once: the stream held precisely the events of the 202s, each under its answered id.
    const sentTimestamps = new Set(accepted.map((a) => String(a.metric.timestamp)));
    expect(sentTimestamps.size, 'every event sent once').to.equal(accepted.length);
    const seen = new Map<string, string>(); // timestamp -> stream id
    for (const [id, fields] of tap.entries) {
      const decoded = decodeEntry(fields);
      expect(decoded.ok, `entry ${id} ${JSON.stringify(fields)}`).to.equal(true);
      const ts = String((decoded as { metric: { timestamp: number } }).metric.timestamp);
      expect(sentTimestamps.has(ts), `entry ${id} (ts ${ts}) belongs to no 202'd batch`).to.equal(true);
      expect(seen.get(ts), `event ts ${ts} stored twice`).to.equal(undefined);
      seen.set(ts, id);
    }
    const firstInStream = (await client.xrange(keys.events, '-', '+', 'COUNT', 1))[0]?.[0] ?? '(empty)';
    for (const a of accepted) {
      const where = `the stream now starts at ${firstInStream}; the analyzer trims what it has committed`;
      expect(seen.get(String(a.metric.timestamp)), `event ${a.id} lost or stored under another id (${where})`).to.equal(a.id);
    }
    expect(tap.entries.size).to.equal(accepted.length);

    const end = await expectExactStats({ apiUrl: api.url, client, keys, all: accepted, window: WINDOW, timeoutMs: 60_000 });
    const retried = batches.filter((b) => b.failedAttempts > 0);
    const ambiguous = batches.filter((b) => b.replayed);
    // The hang makes some deterministically: every request that was waiting in the frozen Redis.
    expect(ambiguous.length, 'batches stored by an attempt that was answered 503 (replayed on a resend)').to.be.greaterThan(0);
    report('idempotent-retry', {
      batches: batches.length,
      events: end.events,
      requests: load.counts.requests,
      unavailable503s: load.counts.unavailable,
      unanswered: load.counts.unanswered,
      retriedBatches: retried.length,
      ambiguousReplayed: ambiguous.length,
      ambiguousFromKills,
      duplicates: tap.entries.size - accepted.length,
      kills: KILLS,
      ...phases,
      totalMs: performance.now() - started,
    });
  });
});
