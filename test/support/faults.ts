// Helpers for the fault, fuzz and soak tests: a load generator that knows the fate of every event
// it sent, a tap that records every entry the stream ever held, and the end-of-scenario checks.
// Starting services, the reference and the /stats comparison live in ./pipeline.ts.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { ANALYZER_GROUP, compareStreamIds, readBacklog, type SeriesKeys } from '@pipeline/redis';
import { sleep } from '@pipeline/testkit';
import { decodeEntry, type Metric } from '../../packages/metric/src/index.js';
import type { StatsConfig } from '../../services/analyzer/src/stats/window-stats.js';
import {
  expectAnomaliesEqualReference,
  expectStatsEqualReference,
  makeEvents,
  reference,
  waitForCount,
  type Accepted,
} from './pipeline.js';

/** Realistic metrics (makeEvents) with a unique timestamp each, so any stream entry can be traced to its request. */
export class EventSource {
  #taken = 0;
  #pool: Metric[] = [];
  constructor(private readonly seed = 1) {}

  take(n: number): Metric[] {
    const out: Metric[] = [];
    while (out.length < n) {
      if (this.#pool.length === 0) this.#pool = makeEvents(1000, this.seed * 100_003 + this.#taken);
      const { cpu, rps } = this.#pool.shift()!;
      out.push({ timestamp: 1764000000 + this.#taken++ / 1000, cpu, rps });
    }
    return out;
  }
}

export type PostOutcome =
  | { kind: 'response'; status: number; headers: IncomingHttpHeaders; text: string }
  /** No response: `code` is the socket error (ECONNREFUSED, ECONNRESET, TIMEOUT...); `reused` says the socket was a kept-alive one. */
  | { kind: 'error'; code: string; reused: boolean };

/** One POST over node:http (full control of headers and bytes; never throws). */
export function post(
  url: string,
  body: string | Buffer,
  /** `headers` override the defaults (JSON content type, content-length); an undefined value removes one. */
  opts: { agent?: Agent | false; headers?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<PostOutcome> {
  return new Promise((resolve) => {
    const merged: Record<string, string | undefined> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...opts.headers };
    const headers = Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
    const req = request(url, { method: 'POST', agent: opts.agent ?? false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ kind: 'error', code: `response ${err.code ?? err.message}`, reused: req.reusedSocket }));
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ kind: 'error', code: err.code ?? err.message, reused: req.reusedSocket }));
    req.end(body);
  });
}

export interface LoadOptions {
  /** Base URLs of the apis to spread the load over (read on every request, so it may change). */
  targets: () => readonly string[];
  batchSize: number;
  concurrency: number;
  seed?: number;
  /** Each sender's pause after a request, to keep this shared machine's load modest. */
  paceMs?: number;
  /** Pause after a 503 or an unanswered request. */
  backoffMs?: number;
}

/** What happened to the requests of a {@link Load}. */
export interface LoadCounts {
  requests: number;
  eventsAccepted: number;
  backpressure: number;
  unavailable: number;
  refused: number;
  /**
   * A socket reset under a request before any answer by an api that is stopping: a kept-alive one
   * it closed while idle, or a new one still in its accept queue when it stopped listening (or
   * not yet parsed when it closed idle connections). The server never took the request: its batch
   * goes to `unknown`, and the tests check the stream holds none of it (no extras).
   */
  resetNotTaken: number;
  /** Anything else: an answer that is not 202/503, a timeout. */
  failures: string[];
  /** Longest time from the first 503 after a 202 to the next 202. */
  max503WindowMs: number;
}

/**
 * Posts batches of fresh events from `concurrency` senders until stopped. A refused connection was
 * never taken, so its batch is sent again to the next target; any other failure leaves the batch's
 * fate unknown (it is kept in `unknown`, and a new batch is sent): a 503 whose XADD Redis applied
 * before dying, for instance, is in the stream without a 202.
 */
export class Load {
  readonly accepted: Accepted[] = [];
  readonly unknown: Metric[] = [];
  readonly counts: LoadCounts = { requests: 0, eventsAccepted: 0, backpressure: 0, unavailable: 0, refused: 0, resetNotTaken: 0, failures: [], max503WindowMs: 0 };
  /** performance.now() of the latest 202 (recovery times: wait until it passes a moment). */
  last202At = 0;
  #first503At: number | undefined;
  #stopped = false;
  #gate: Promise<void> | undefined;
  #openGate: (() => void) | undefined;
  #idle = 0;
  #senders: Promise<void>[] = [];
  #next = 0;
  readonly #agents = new Map<string, Agent>();
  readonly #events: EventSource;

  constructor(private readonly opts: LoadOptions) {
    this.#events = new EventSource(opts.seed ?? 1);
  }

  start(): this {
    this.#senders = Array.from({ length: this.opts.concurrency }, () => this.#sender());
    return this;
  }

  /** Holds every sender before its next request; resolves once none has a request in flight. */
  async pause(): Promise<void> {
    this.#gate ??= new Promise((resolve) => (this.#openGate = resolve));
    while (this.#idle < this.opts.concurrency && !this.#stopped) await sleep(5);
  }

  resume(): void {
    const open = this.#openGate;
    this.#gate = undefined;
    this.#openGate = undefined;
    open?.();
  }

  /** Stops the senders and waits for their last requests. */
  async stop(): Promise<this> {
    this.#stopped = true;
    this.resume();
    await Promise.all(this.#senders);
    for (const agent of this.#agents.values()) agent.destroy();
    return this;
  }

  async #sender(): Promise<void> {
    const { batchSize, paceMs = 0, backoffMs = 100 } = this.opts;
    while (!this.#stopped) {
      if (this.#gate) {
        this.#idle++;
        await this.#gate;
        this.#idle--;
        continue;
      }
      const batch = this.#events.take(batchSize);
      let refusedInARow = 0;
      for (;;) {
        const targets = this.opts.targets();
        const base = targets[this.#next++ % targets.length]!;
        const outcome = await post(`${base}/ingest`, JSON.stringify(batch), { agent: this.#agent(base) });
        this.counts.requests++;
        if (outcome.kind === 'error' && outcome.code === 'ECONNREFUSED') {
          this.counts.refused++;
          // Not taken: send it again elsewhere (or here, once it is back), unless stopping.
          if (this.#stopped) break;
          if (++refusedInARow >= targets.length) await sleep(backoffMs);
          continue;
        }
        if (outcome.kind === 'response' && outcome.status === 202) {
          const ids = (JSON.parse(outcome.text) as { ids: string[] }).ids;
          ids.forEach((id, i) => this.accepted.push({ id, metric: batch[i]! }));
          this.counts.eventsAccepted += ids.length;
          if (this.#first503At !== undefined) {
            this.counts.max503WindowMs = Math.max(this.counts.max503WindowMs, performance.now() - this.#first503At);
            this.#first503At = undefined;
          }
          this.last202At = performance.now();
          break;
        }
        this.unknown.push(...batch);
        if (outcome.kind === 'response' && outcome.status === 503) {
          this.#first503At ??= performance.now();
          if (outcome.text.includes(':backpressure')) this.counts.backpressure++;
          else this.counts.unavailable++;
          if (!/^\d+$/.test(String(outcome.headers['retry-after']))) this.counts.failures.push(`503 without Retry-After: ${outcome.text.slice(0, 200)}`);
        } else if (outcome.kind === 'error' && /ECONNRESET|socket hang up|EPIPE/.test(outcome.code)) {
          this.counts.resetNotTaken++;
        } else {
          this.counts.failures.push(outcome.kind === 'response' ? `${outcome.status} ${outcome.text.slice(0, 200)}` : `${outcome.code} (reused socket: ${outcome.reused})`);
        }
        await sleep(backoffMs);
        break;
      }
      if (paceMs > 0) await sleep(paceMs);
    }
  }

  #agent(base: string): Agent {
    let agent = this.#agents.get(base);
    if (!agent) this.#agents.set(base, (agent = new Agent({ keepAlive: true, maxSockets: this.opts.concurrency })));
    return agent;
  }
}

/**
 * Records every entry the events stream ever held, by tailing it with XREAD (it keeps up easily:
 * the analyzers trim only committed entries, and keep a window behind them). Survives Redis restarts.
 */
export class StreamTap {
  readonly entries = new Map<string, string[]>();
  #last: string;
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #client: Redis;

  /** @param from record the entries after this id (default: all) */
  constructor(url: string, private readonly key: string, from = '0-0') {
    this.#last = from;
    // Back within ~10 ms of a Redis restart, before the services: the analyzer trims committed
    // entries (beyond a window) every second, and an entry trimmed before the tap read it looks
    // lost. No ready check and no retry limit: with them, ioredis failed the tap's commands and
    // its own ready check in turn and left the tap away for seconds after Redis was back
    // (measured: a 4 s gap, thousands of entries trimmed unseen, a false "lost" in the
    // Idempotency-Key fault test). XREAD needs no ready check; LOADING is retried like any error.
    this.#client = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false, retryStrategy: () => 10 });
    this.#client.on('error', () => undefined);
  }

  start(): this {
    this.#loop = (async () => {
      while (!this.#stopped) {
        try {
          await this.#read(500);
        } catch {
          await sleep(10);
        }
      }
    })();
    return this;
  }

  /** Reads what is left, then stops. */
  async stop(): Promise<this> {
    this.#stopped = true;
    await this.#loop;
    while ((await this.#read(0)) > 0);
    this.#client.disconnect();
    return this;
  }

  async #read(blockMs: number): Promise<number> {
    const args = ['COUNT', 10_000, ...(blockMs > 0 ? ['BLOCK', blockMs] : []), 'STREAMS', this.key, this.#last] as const;
    const reply = (await (this.#client.xread as (...a: unknown[]) => Promise<unknown>)(...args)) as [string, [string, string[]][]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    for (const [id, fields] of entries) this.entries.set(id, fields);
    if (entries.length > 0) this.#last = entries[entries.length - 1]![0];
    return entries.length;
  }
}

/** Backlog (lag + pending) as the api sees it, or null when Redis does not answer. */
export async function backlogOf(client: Redis, keys: SeriesKeys): Promise<number | null> {
  return readBacklog(client, keys.events).then((r) => r?.backlog ?? null, () => null);
}

/**
 * The ids that are neither in the stream nor committed (delivered and acknowledged). Sound only
 * while nothing new is appended: an entry lost by Redis would otherwise look committed as soon as
 * later entries are delivered. Reads the stream first: what is gone from it was committed before.
 */
export async function missingFromRedis(client: Redis, keys: SeriesKeys, ids: readonly string[]) {
  const inStream = new Map<string, string[]>();
  for (const [id, fields] of (await client.xrange(keys.events, '-', '+')) as [string, string[]][]) inStream.set(id, fields);
  // A stream (or group) that did not survive at all: then nothing is committed either.
  const groups = (await client.xinfo('GROUPS', keys.events).catch(() => [])) as unknown[][];
  const group = groups.map((g) => Object.fromEntries(pairs(g))).find((g) => g.name === ANALYZER_GROUP);
  const lastDelivered = group ? String(group['last-delivered-id']) : '0-0';
  const pending = new Set(
    group ? ((await client.xpending(keys.events, ANALYZER_GROUP, '-', '+', 1e9)) as [string][]).map(([id]) => id) : [],
  );
  const missing = ids.filter((id) => !inStream.has(id) && (compareStreamIds(id, lastDelivered) > 0 || pending.has(id)));
  return { missing, inStream };
}

function pairs(flat: unknown[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), flat[i + 1]]);
  return out;
}

/**
 * Stream entries whose request got no 202 (a 503 or a reset whose XADD happened anyway): each
 * must be one of the events sent without a 202, else something wrote an entry nobody sent.
 */
export function storedWithout202(stream: ReadonlyMap<string, readonly string[]>, load: Pick<Load, 'accepted' | 'unknown'>): Accepted[] {
  const acceptedIds = new Set(load.accepted.map((a) => a.id));
  const unknown = new Map(load.unknown.map((m) => [String(m.timestamp), m]));
  const extras: Accepted[] = [];
  for (const [id, fields] of stream) {
    if (acceptedIds.has(id)) continue;
    const decoded = decodeEntry(fields);
    expect(decoded.ok, `stream entry ${id} ${JSON.stringify(fields)} decodes`).to.equal(true);
    const metric = (decoded as { metric: Metric }).metric;
    const sent = unknown.get(String(metric.timestamp));
    expect(sent, `stream entry ${id} ${JSON.stringify(fields)} was sent by some request`).to.deep.equal(metric);
    extras.push({ id, metric });
  }
  return extras;
}

/** Every 202'd event is in the tap with exactly the fields it was sent with. */
export function expectAllAcceptedInStream(tap: StreamTap, accepted: readonly Accepted[]): void {
  const missing = accepted.filter((a) => !tap.entries.has(a.id));
  expect(missing.length, `202'd events never in the stream, e.g. ${JSON.stringify(missing.slice(0, 3))}`).to.equal(0);
  for (const a of accepted) {
    const decoded = decodeEntry(tap.entries.get(a.id)!);
    if (!decoded.ok || decoded.metric.cpu !== a.metric.cpu || decoded.metric.rps !== a.metric.rps || decoded.metric.timestamp !== a.metric.timestamp) {
      expect.fail(`entry ${a.id} is ${JSON.stringify(tap.entries.get(a.id))}, sent ${JSON.stringify(a.metric)}`);
    }
  }
}

/**
 * /stats and /anomalies equal the from-scratch reference over exactly `all` (what the stream held),
 * nothing is left pending, and no late commit counts anything twice.
 */
export async function expectExactStats(opts: {
  apiUrl: string;
  client: Redis;
  keys: SeriesKeys;
  all: readonly Accepted[];
  window: StatsConfig;
  timeoutMs: number;
  describe?: () => string;
}): Promise<{ events: number; anomalies: number }> {
  const { apiUrl, client, keys, all, window } = opts;
  const stats = await waitForCount(apiUrl, all.length, opts.timeoutMs, opts.describe);
  const ref = reference(all, window);
  expectStatsEqualReference(stats, ref, window.windowSize);
  await expectAnomaliesEqualReference(apiUrl, ref);
  await sleep(300);
  expect(((await client.xpending(keys.events, ANALYZER_GROUP)) as [number])[0], 'nothing left pending').to.equal(0);
  expect(Number(await client.hget(keys.stats, 'count')), 'no late double count').to.equal(all.length);
  return { events: all.length, anomalies: ref.anomalousIds.length };
}

/**
 * The end of a scenario: the stream held every 202'd event (the tap saw it, with its fields), and
 * the stats are exact over what the stream held: the 202'd events plus any stored without a 202
 * (returned as `extras`).
 */
export async function expectExactEnd(opts: {
  apiUrl: string;
  client: Redis;
  keys: SeriesKeys;
  load: Load;
  tap: StreamTap;
  window: StatsConfig;
  timeoutMs: number;
  describe?: () => string;
}): Promise<{ events: number; extras: Accepted[]; anomalies: number }> {
  await opts.tap.stop();
  // The tap can miss entries: after a Redis restart the analyzers may commit and trim a few
  // hundred milliseconds of them before the tap has reconnected (a 60 s soak missed 1,150 that
  // way, all counted). Those must be committed: gone from the stream, delivered, not pending; the
  // exact count below then proves each was counted once.
  const unseen = opts.load.accepted.filter((a) => !opts.tap.entries.has(a.id));
  const { missing } = await missingFromRedis(opts.client, opts.keys, unseen.map((a) => a.id));
  expect(missing.length, `202'd events neither in the stream nor committed, e.g. ${JSON.stringify(missing.slice(0, 3))}`).to.equal(0);
  const extras = storedWithout202(opts.tap.entries, opts.load);
  const result = await expectExactStats({ ...opts, all: [...opts.load.accepted, ...extras] });
  return { ...result, extras };
}

/** One line for the test log, e.g. `[scale] 12,345 events accepted, ...`. */
export function report(tag: string, values: Record<string, unknown>): void {
  const text = Object.entries(values)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Math.round(v * 10) / 10 : JSON.stringify(v)}`)
    .join(' ');
  console.log(`      [${tag}] ${text}`);
}
