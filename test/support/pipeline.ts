// Starts the built services as real processes and drives them over HTTP, for pipeline tests.
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { compareStreamIds } from '@pipeline/redis';
import { freePort, getJson, postJson, startService, startTestRedis, waitFor, type ServiceProcess, type TestRedis } from '@pipeline/testkit';
import type { EventStats, Metric, StatsConfig } from '../../services/analyzer/src/stats/window-stats.js';
import { referenceStats } from '../../services/analyzer/test/support/reference-stats.js';

export const API_MAIN = fileURLToPath(new URL('../../services/api/dist/main.js', import.meta.url));
export const ANALYZER_MAIN = fileURLToPath(new URL('../../services/analyzer/dist/main.js', import.meta.url));

export interface RunningService extends ServiceProcess {
  readonly url: string;
}

/** Starts the built api; `port` restarts a replica on its old address, else a free port is taken. */
export async function startApi(env: Record<string, string>, name = 'api', port?: number): Promise<RunningService> {
  port ??= await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = await startService({
    script: API_MAIN,
    name,
    env: { LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    readyUrl: `${url}/ready`,
  });
  return Object.assign(service, { url });
}

export async function startAnalyzer(env: Record<string, string>, name = 'analyzer'): Promise<RunningService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = await startService({
    script: ANALYZER_MAIN,
    name,
    env: { LOG_LEVEL: 'warn', CONSUMER_NAME: name, ...env, METRICS_PORT: String(port) },
    readyUrl: `${url}/ready`,
  });
  return Object.assign(service, { url });
}


/** A deterministic stream of realistic metrics with occasional spikes and flat stretches. */
export function makeEvents(count: number, seed = 1): Metric[] {
  let state = seed >>> 0 || 1;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const events: Metric[] = [];
  for (let i = 0; i < count; i++) {
    const flat = i % 400 >= 300 && i % 400 < 330;
    const spike = random() < 0.02;
    events.push({
      timestamp: 1764000000 + i / 10,
      cpu: flat ? 33.3 : Math.round((45 + random() * 10 + (spike ? 40 : 0)) * 100) / 100,
      rps: flat ? 1234.5 : Math.round((1800 + random() * 200 + (spike && random() < 0.5 ? 5000 : 0)) * 10) / 10,
    });
  }
  return events;
}

export interface Accepted {
  readonly id: string;
  readonly metric: Metric;
}

/**
 * Posts the events in batches of `batchSize` from `concurrency` parallel senders and returns
 * every accepted event with the id the api answered (202 means it is in the stream).
 */
export async function ingest(apiUrl: string, events: readonly Metric[], batchSize: number, concurrency: number): Promise<Accepted[]> {
  const batches: Metric[][] = [];
  for (let i = 0; i < events.length; i += batchSize) batches.push(events.slice(i, i + batchSize));
  const accepted: Accepted[] = [];
  let next = 0;
  const sender = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const res = await postJson(`${apiUrl}/ingest`, batchSize === 1 ? batch[0] : batch);
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      const ids: string[] = batchSize === 1 ? [res.body.id] : res.body.ids;
      ids.forEach((id, i) => accepted.push({ id, metric: batch[i]! }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  return accepted;
}

/** What a single process replaying the accepted events in stream order computes. */
export function reference(accepted: readonly Accepted[], config: StatsConfig) {
  const ordered = [...accepted].sort((a, b) => compareStreamIds(a.id, b.id));
  const stats = referenceStats(ordered.map((a) => a.metric), config);
  const anomalousIds = ordered.filter((_, i) => stats[i]!.isAnomaly).map((a) => a.id);
  return { ordered, stats, last: stats[stats.length - 1]!, lastEvent: ordered[ordered.length - 1]!, anomalousIds };
}

/** Waits until GET /stats reports `count` events processed. */
export async function waitForCount(apiUrl: string, count: number, timeoutMs: number, describe: () => string = () => '') {
  let last: unknown;
  return waitFor(
    async () => {
      const res = await getJson(`${apiUrl}/stats`);
      last = res.body;
      return res.status === 200 && res.body.count >= count ? res.body : undefined;
    },
    { timeoutMs, intervalMs: 100, message: () => `stats never reached count ${count}; last ${JSON.stringify(last)}\n${describe()}` },
  );
}

const close = (actual: number | null, expected: number | null, what: string) => {
  if (expected === null || actual === null) return expect(actual, what).to.equal(expected);
  const tolerance = Math.max(1e-12, Math.abs(expected) * 1e-9);
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).to.be.at.most(tolerance);
};

/** GET /stats must equal the reference's final state exactly (numbers within 1e-9 relative). */
export function expectStatsEqualReference(
  stats: Record<string, any>,
  ref: ReturnType<typeof reference>,
  windowSize: number,
): void {
  const last: EventStats = ref.last;
  expect(stats.count, 'count').to.equal(ref.ordered.length);
  expect(stats.anomalies_total, 'anomalies_total').to.equal(ref.anomalousIds.length);
  expect(stats.last_id, 'last_id').to.equal(ref.lastEvent.id);
  expect(stats.window_size).to.equal(windowSize);
  expect(stats.window_size_used).to.equal(last.windowSizeUsed);
  close(stats.avg_cpu, last.avgCpu, 'avg_cpu');
  close(stats.avg_rps, last.avgRps, 'avg_rps');
  close(stats.zscore_cpu, last.cpu.z, 'zscore_cpu');
  close(stats.zscore_rps, last.rps.z, 'zscore_rps');
  expect(stats.is_anomaly_cpu).to.equal(last.cpu.isAnomaly);
  expect(stats.is_anomaly_rps).to.equal(last.rps.isAnomaly);
  expect(stats.is_anomaly).to.equal(last.isAnomaly);
  expect(stats.last_cpu).to.equal(ref.lastEvent.metric.cpu);
  expect(stats.last_rps).to.equal(ref.lastEvent.metric.rps);
  expect(stats.last_timestamp).to.equal(ref.lastEvent.metric.timestamp);
}

/** GET /anomalies lists the reference's anomalous events, newest first by event id. */
export async function expectAnomaliesEqualReference(apiUrl: string, ref: ReturnType<typeof reference>): Promise<void> {
  const res = await getJson(`${apiUrl}/anomalies?limit=1000`);
  expect(res.status).to.equal(200);
  const ids = (res.body.anomalies as { id: string }[]).map((a) => a.id);
  expect(ids).to.deep.equal([...ref.anomalousIds].reverse().slice(0, 1000));
}

/** A counter's value in a Prometheus text scrape (0 when absent). */
export async function scrapeCounter(url: string, name: string): Promise<number> {
  const text = (await getJson(`${url}/metrics`)).body as string;
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/** A test's service environment; REDIS_URL and KEY_PREFIX are always there. */
export type SuiteEnv = Record<string, string> & { readonly REDIS_URL: string; readonly KEY_PREFIX: string };

export interface PipelineSuite {
  /** The suite's real Redis (REDIS_URL, testcontainers or a redis-server of its own). */
  readonly redis: TestRedis;
  /** A client on it, for inspecting and injecting. */
  readonly client: Redis;
  /** Services the tests start; each is stopped after its test. */
  readonly services: RunningService[];
  /** A test's environment: its own key prefix under the suite's, the window, then `extra`. */
  envFor(extra?: Record<string, string>): SuiteEnv;
}

/**
 * The mocha hooks every pipeline suite needs: a Redis and a client for the whole suite, services
 * stopped after each test, a fresh key prefix per test (cleaned with the suite's prefix).
 */
export function pipelineSuite(window: StatsConfig): PipelineSuite {
  let redis: TestRedis | undefined;
  let client: Redis | undefined;
  const services: RunningService[] = [];
  let run = 0;
  before(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });
  return {
    get redis() {
      return redis!;
    },
    get client() {
      return client!;
    },
    services,
    envFor: (extra = {}) => ({
      REDIS_URL: redis!.url,
      KEY_PREFIX: `${redis!.keyPrefix}-${++run}`,
      WINDOW_SIZE: String(window.windowSize),
      Z_THRESHOLD: String(window.zThreshold),
      MIN_SAMPLES: String(window.minSamples),
      ...extra,
    }),
  };
}
