// Property-based fuzzing of POST /ingest against a real api process and a real Redis (no
// analyzer, so the stream keeps everything): whatever the body, content type or pace, the answer
// is 202 exactly when an independent validator says the body is valid, a 4xx otherwise, never a
// 5xx; only what got a 202 is in the stream, exactly as sent; and the process stays small.
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { expect } from 'chai';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { seriesKeys } from '@pipeline/redis';
import { startTestRedis, type TestRedis } from '@pipeline/testkit';
import { decodeEntry } from '../../packages/metric/src/index.js';
import { post, report } from '../support/faults.js';
import { scrapeCounter, startApi, type RunningService } from '../support/pipeline.js';

const MAX_BODY_BYTES = 65_536;
const MAX_BATCH = 50;
const HEADERS_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 3000;
/** Node checks request/headers timeouts only this often (http.createServer's connectionsCheckingInterval default). */
const NODE_TIMEOUT_CHECK_MS = 1_000; // the api's connectionsCheckingInterval
const FUZZ_BUDGET_MS = 25_000;
const LIMITS = { cpu: 10_000, rps: 1e9, timestamp: 1e11 };

type ContentKind = 'json' | 'refused' | 'unsure';
const CONTENT_TYPES: [string | undefined, ContentKind][] = [
  ['application/json; charset=utf-8', 'json'],
  ['Application/JSON', 'json'],
  ['application/problem+json', 'json'],
  ['application/vnd.metrics+json', 'json'],
  ['text/plain', 'refused'],
  ['application/x-www-form-urlencoded', 'refused'],
  ['multipart/form-data; boundary=x', 'refused'],
  ['application/jsonx', 'refused'],
  ['application/json;', 'refused'], // unparseable
  ['*/*', 'refused'],
  [undefined, 'refused'],
  ['application/json; charset=utf-16', 'unsure'],
  ['application/json; charset=latin1', 'unsure'],
];

interface Case {
  body: string | Uint8Array;
  contentType: string | undefined;
  kind: ContentKind;
  chunked: boolean;
}

/** A metric the stream must hold: `timestamp` null means "the server's now". */
interface Expected {
  cpu: number;
  rps: number;
  timestamp: number | null;
}

// ---- the independent validator (README "POST /ingest") ----
const inRange = (v: unknown, max: number) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= max;
const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function validMetric(m: unknown): Expected | undefined {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return undefined;
  const o = m as Record<string, unknown>;
  if (!Object.keys(o).every((k) => k === 'cpu' || k === 'rps' || k === 'timestamp')) return undefined;
  if (!has(o, 'cpu') || !has(o, 'rps') || !inRange(o.cpu, LIMITS.cpu) || !inRange(o.rps, LIMITS.rps)) return undefined;
  if (has(o, 'timestamp') && !inRange(o.timestamp, LIMITS.timestamp)) return undefined;
  return { cpu: o.cpu as number, rps: o.rps as number, timestamp: (o.timestamp as number | undefined) || null };
}

function oracle(c: Case): { status: number | 'any'; metrics?: Expected[] } {
  if (c.kind === 'refused') return { status: 415 };
  const unsure = (status: number, metrics?: Expected[]) => ({ status: c.kind === 'unsure' ? ('any' as const) : status, ...(metrics ? { metrics } : {}) });
  const bytes = typeof c.body === 'string' ? Buffer.from(c.body) : c.body;
  if (bytes.length > MAX_BODY_BYTES) return unsure(413);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return unsure(400);
  }
  if (!Array.isArray(body)) {
    const m = validMetric(body);
    return m ? unsure(202, [m]) : unsure(400);
  }
  if (body.length === 0) return unsure(400);
  if (body.length > MAX_BATCH) return unsure(413);
  const metrics = body.map(validMetric);
  return metrics.every(Boolean) ? unsure(202, metrics as Expected[]) : unsure(400);
}

// ---- generators ----
const numberText = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: 0, max: LIMITS.cpu, noNaN: true }).map(String) },
  { weight: 2, arbitrary: fc.double().map(String) }, // NaN, Infinity, negatives, huge
  { weight: 1, arbitrary: fc.integer({ min: -1_000_000, max: 200_000_000_000 }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '1e-400', '-0', '0.0', '1e308', '5e-324', '1E2',
      '99999999999', '100000000000', '100000000000.5', '1000000000', '1000000000.0001', '10000.000001',
      '01', '.5', '5.', '+1', '0x10', '"60"', 'true', 'null', '[]', '{}', '[1]', '"\\u0000"', '"٤٠"',
      '9'.repeat(400), `0.${'0'.repeat(400)}1`,
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
);
const key = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('cpu', 'rps', 'timestamp') },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'CPU', 'cpu ', 'ts', '') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
);
const anyObjectText = fc
  .array(fc.tuple(key, numberText), { maxLength: 5 })
  .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
const validObjectText = fc
  .record(
    {
      cpu: fc.double({ min: 0, max: LIMITS.cpu, noNaN: true }),
      rps: fc.double({ min: 0, max: LIMITS.rps, noNaN: true }),
      timestamp: fc.oneof(fc.constant(0), fc.double({ min: 0, max: LIMITS.timestamp, noNaN: true }), fc.integer({ min: 1_700_000_000, max: 1_800_000_000 })),
    },
    { requiredKeys: ['cpu', 'rps'] },
  )
  .map((m) => JSON.stringify(m));
const metricText = fc.oneof({ weight: 3, arbitrary: validObjectText }, { weight: 2, arbitrary: anyObjectText });
const batchText = fc.array(metricText, { maxLength: MAX_BATCH + 5 }).map((items) => `[${items.join(',')}]`);
const deepText = fc
  .tuple(fc.integer({ min: 100, max: 20_000 }), fc.constantFrom('array', 'object', 'value'))
  .map(([d, shape]) =>
    shape === 'array' ? '['.repeat(d) + ']'.repeat(d)
      : shape === 'object' ? `${'{"cpu":'.repeat(d)}1${'}'.repeat(d)}`
        : `{"cpu":1,"rps":${'['.repeat(d)}${']'.repeat(d)}}`,
  );
const bodyArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 5, arbitrary: metricText },
  { weight: 4, arbitrary: batchText },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: deepText },
  { weight: 2, arbitrary: fc.tuple(fc.oneof(metricText, batchText), fc.nat()).map(([t, n]) => t.slice(0, n % Math.max(1, t.length))) }, // truncated
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) }, // unicode, lone surrogates
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 128 }) }, // bytes, mostly invalid UTF-8
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => Buffer.concat([Buffer.from('{"cpu":1,"rps":1,"'), b, Buffer.from('":1}')])) },
  { weight: 1, arbitrary: fc.oneof(metricText, batchText).map((t) => ' '.repeat(MAX_BODY_BYTES) + t) }, // oversized
);
const caseArb: fc.Arbitrary<Case> = fc.record({
  body: bodyArb,
  type: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: CONTENT_TYPES.length }) }),
  chunked: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
}).map(({ body, type, chunked }) => {
  const [contentType, kind] = type === 0 ? ['application/json', 'json' as const] : CONTENT_TYPES[type - 1]!;
  return { body, contentType, kind, chunked };
});

/** A raw socket that sends `head`, then `drip` every `everyMs`, until the server closes it. */
function trickle(port: number, head: string, drip: string, everyMs = 300): Promise<{ ms: number; response: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    let response = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    const timer = setInterval(() => drip && !socket.destroyed && socket.write(drip), everyMs);
    const giveUp = setTimeout(() => socket.destroy(), NODE_TIMEOUT_CHECK_MS + 15_000);
    socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ ms: performance.now() - started, response });
    });
  });
}

describe('POST /ingest under hostile input (fuzzing a real api process)', function () {
  this.timeout(120_000);
  let redis: TestRedis;
  let client: Redis;
  let api: RunningService;
  let slow: Promise<{ name: string; ms: number; response: string }[]>;
  const accepted = new Map<string, { expected: Expected; sentAt: [number, number] }>();
  const statuses = new Map<number, number>();
  let rssBefore = 0;
  let sent = 0;

  before(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
    api = await startApi({
      REDIS_URL: redis.url,
      KEY_PREFIX: `${redis.keyPrefix}-fuzz`,
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      MAX_BATCH: String(MAX_BATCH),
      MAX_BACKLOG: '100000000',
      HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    });
    // The slow senders run while the fuzzing goes on.
    const port = Number(new URL(api.url).port);
    const start = 'POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\n';
    slow = Promise.all(
      [
        ['headers trickled', start, 'X-Slow: 1\r\n'],
        ['body trickled', `${start}Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n[`, ' '],
        ['chunked body trickled', `${start}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, '1\r\n \r\n'],
        ['body stalled', `${start}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"cpu":`, ''],
      ].map(async ([name, head, drip]) => ({ name: name!, ...(await trickle(port, head!, drip!)) })),
    );
    rssBefore = await scrapeCounter(api.url, 'process_resident_memory_bytes');
  });
  after(async () => {
    await api?.stop();
    client?.disconnect();
    await redis?.stop();
  });

  it('answers 202 exactly for valid bodies, 4xx for the rest, never 5xx (fast-check, time-boxed)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = `${api.url}/ingest`;
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const expected = oracle(c);
        const headers: Record<string, string | undefined> = { 'content-type': c.contentType };
        if (c.chunked) Object.assign(headers, { 'content-length': undefined, 'transfer-encoding': 'chunked' });
        const sentAt = Date.now() / 1000;
        const res = await post(url, Buffer.from(c.body), { agent, headers });
        const doneAt = Date.now() / 1000;
        sent++;
        // A 413 closes the connection (the rest of the body is not read); the client may see that as a reset.
        if (res.kind === 'error') {
          expect(expected.status === 413 || expected.status === 'any', `no answer (${res.code}) for ${show(c)}`).to.equal(true);
          return;
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `never 5xx: ${res.text.slice(0, 300)} for ${show(c)}`).to.be.below(500);
        if (expected.status === 'any') expect(res.status === 202 || (res.status >= 400 && res.status < 500)).to.equal(true);
        else expect(res.status, `${res.text.slice(0, 300)} for ${show(c)}`).to.equal(expected.status);
        if (res.status !== 202) {
          expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
          return;
        }
        expect(expected.metrics, `accepted a body the validator refuses: ${show(c)}`).to.be.an('array');
        const reply = JSON.parse(res.text) as { id?: string; ids?: string[] };
        const ids = reply.ids ?? [reply.id!];
        expect(ids).to.have.length(expected.metrics!.length);
        ids.forEach((id, i) => accepted.set(id, { expected: expected.metrics![i]!, sentAt: [sentAt, doneAt] }));
      }),
      { numRuns: 6000, interruptAfterTimeLimit: FUZZ_BUDGET_MS, seed: process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : undefined },
    );
    agent.destroy();
    expect(sent, 'a few thousand bodies').to.be.at.least(1000);
    expect(accepted.size, 'some were valid').to.be.greaterThan(100);
    report('fuzz', { bodies: sent, seconds: (performance.now() - started) / 1000, statuses: Object.fromEntries(statuses), acceptedEvents: accepted.size });
  });

  it('cuts slowly sent requests (no 202, no 5xx) within REQUEST_TIMEOUT_MS plus the 1 s timeout check', async () => {
    const results = await slow;
    for (const r of results) {
      expect(r.response, `${r.name}: ${r.response.slice(0, 100)}`).to.satisfy((text: string) => text === '' || /^HTTP\/1\.1 (408|400)/.test(text));
      expect(r.ms, r.name).to.be.below(REQUEST_TIMEOUT_MS + NODE_TIMEOUT_CHECK_MS + 1000);
    }
    report('slow-clients', Object.fromEntries(results.map((r) => [r.name, `${Math.round(r.ms)} ms ${r.response.split('\r\n')[0] || '(closed)'}`])));
  });

  it('holds in the stream exactly the accepted events, each a valid entry as sent, and stays small', async () => {
    const entries = (await client.xrange(seriesKeys(`${redis.keyPrefix}-fuzz`).events, '-', '+')) as [string, string[]][];
    expect(entries.length, 'entries = accepted events').to.equal(accepted.size);
    for (const [id, fields] of entries) {
      const decoded = decodeEntry(fields);
      if (!decoded.ok) expect.fail(`malformed entry ${id}: ${decoded.reason}`);
      const sentAs = accepted.get(id);
      expect(sentAs, `entry ${id} answers a 202`).not.to.equal(undefined);
      const { expected, sentAt } = sentAs!;
      expect(decoded.metric.cpu).to.equal(expected.cpu);
      expect(decoded.metric.rps).to.equal(expected.rps);
      if (expected.timestamp === null) expect(decoded.metric.timestamp).to.be.within(sentAt[0] - 0.01, sentAt[1] + 0.01);
      else expect(decoded.metric.timestamp).to.equal(expected.timestamp);
    }
    const rssAfter = await scrapeCounter(api.url, 'process_resident_memory_bytes');
    report('fuzz-memory', { rssBeforeMB: rssBefore / 2 ** 20, rssAfterMB: rssAfter / 2 ** 20 });
    expect(rssAfter - rssBefore, 'RSS growth').to.be.below(100 * 2 ** 20);
  });
});

function show(c: Case): string {
  const text = typeof c.body === 'string' ? c.body : `bytes ${Buffer.from(c.body).toString('hex')}`;
  return `${c.contentType ?? '(no content-type)'}${c.chunked ? ' chunked' : ''}: ${text.length > 200 ? `${text.slice(0, 200)}… (${text.length})` : text}`;
}
