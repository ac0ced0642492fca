import { request } from 'node:http';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { SeriesKeys } from '@pipeline/redis';
import { sleep, startTestRedis, waitFor, type TestRedis } from '@pipeline/testkit';
import { acceptedBatch, acceptedOne } from '../../src/accepted-body.js';
import { EventStore } from '../../src/event-store.js';
import { requestFingerprint } from '../../src/idempotency.js';
import { inspector, isReady, sample, scrape, startApi, type RunningApi } from './support.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body exactly as sent, for byte-for-byte comparisons. */
  text: string;
  json: any;
}

/**
 * POST /ingest over node:http, so the header can be sent empty, twice (an array) or with raw
 * bytes (a latin1 string is sent byte for byte). `key` undefined: no header.
 */
function send(url: string, body: string, key?: string | string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/ingest`, { method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: text ? JSON.parse(text) : undefined });
      });
      res.on('error', reject);
    });
    req.setHeader('content-type', 'application/json');
    req.setHeader('content-length', Buffer.byteLength(body));
    if (key !== undefined) req.setHeader('Idempotency-Key', key);
    req.on('error', reject);
    req.end(body);
  });
}

let counter = 0;
/** A fresh key per test case (the records outlive the requests). */
const newKey = (what: string) => `${what}-${process.pid}-${++counter}`;
const metric = (i: number) => ({ timestamp: 1764000000 + i, cpu: 10 + (i % 50), rps: 100 + i });

describe('POST /ingest with an Idempotency-Key', function () {
  this.timeout(20_000);
  let redis: TestRedis;
  let client: Redis;
  let api: RunningApi;
  let keys: SeriesKeys;
  /** The api's own Redis access, run from the test: the script called directly. */
  let store: EventStore;
  const apis: RunningApi[] = [];

  before(async () => {
    redis = await startTestRedis();
    client = inspector(redis.url);
    api = await newApi('idem');
    keys = api.keys;
    store = new EventStore(client, keys, 50);
  });
  after(async () => {
    await Promise.all(apis.map((a) => a.stop()));
    client?.disconnect();
    await redis?.stop();
  });

  async function newApi(name: string, extra: Record<string, string> = {}): Promise<RunningApi> {
    const started = await startApi({ REDIS_URL: redis.url, KEY_PREFIX: `${redis.keyPrefix}-${name}`, ...extra });
    apis.push(started);
    await waitFor(() => isReady(started.url), { timeoutMs: 5000, message: `${name}: /ready never turned 200` });
    return started;
  }

  const xlen = () => client.xlen(keys.events);
  /** Every idempotency record under the api's prefix. */
  const records = async (prefix = api.config.keyPrefix) => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}:*:idem:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found;
  };

  describe('a single metric', () => {
    it('is stored once: 202 with its id, then the same request gets the same bytes back, replayed, and nothing is added', async () => {
      const key = newKey('single');
      const body = JSON.stringify(metric(1));
      const before = await xlen();
      const first = await send(api.url, body, key);
      expect(first.status, first.text).to.equal(202);
      expect(first.headers['content-type']).to.match(/^application\/json/);
      expect(first.headers['idempotent-replayed']).to.equal(undefined);
      expect(first.json).to.have.all.keys('status', 'id');
      expect(first.text).to.equal(acceptedOne(first.json.id));
      expect(await xlen()).to.equal(before + 1);
      expect(await client.xrange(keys.events, first.json.id, first.json.id)).to.deep.equal([
        [first.json.id, ['ts', '1764000001', 'cpu', '11', 'rps', '101']],
      ]);

      for (let i = 0; i < 2; i++) {
        const again = await send(api.url, body, key);
        expect(again.status).to.equal(202);
        expect(again.headers['idempotent-replayed']).to.equal('true');
        expect(again.text).to.equal(first.text);
        expect(Number(again.headers['content-length'])).to.equal(Buffer.byteLength(first.text));
      }
      expect(await xlen()).to.equal(before + 1);
    });

    it('keeps the record under <prefix>:{default}:idem:<key> for IDEMPOTENCY_TTL_SECONDS', async () => {
      const key = newKey('record');
      const res = await send(api.url, JSON.stringify(metric(2)), key);
      expect(res.status).to.equal(202);
      expect(keys.idempotency(key)).to.equal(`${api.config.keyPrefix}:{default}:idem:${key}`);
      const ttl = await client.ttl(keys.idempotency(key));
      expect(ttl).to.be.within(api.config.idempotencyTtlSeconds - 5, api.config.idempotencyTtlSeconds);
    });

    it('replays a metric without a timestamp with its first server time: the fingerprint is of the bytes sent', async () => {
      const key = newKey('no-ts');
      const body = '{"cpu":5,"rps":6}';
      const first = await send(api.url, body, key);
      await sleep(20);
      const again = await send(api.url, body, key);
      expect(again.status).to.equal(202);
      expect(again.headers['idempotent-replayed']).to.equal('true');
      expect(again.text).to.equal(first.text);
    });
  });

  describe('a batch', () => {
    it('is stored once and replayed byte for byte, ids in order', async () => {
      const key = newKey('batch');
      const body = JSON.stringify([metric(10), metric(11), { cpu: 1, rps: 2 }]);
      const before = await xlen();
      const first = await send(api.url, body, key);
      expect(first.status, first.text).to.equal(202);
      expect(first.json.accepted).to.equal(3);
      expect(first.text).to.equal(acceptedBatch(first.json.ids));
      const entries = await client.xrange(keys.events, first.json.ids[0], first.json.ids[2]);
      expect(entries.map(([id]) => id)).to.deep.equal(first.json.ids);
      expect(await xlen()).to.equal(before + 3);

      const again = await send(api.url, body, key);
      expect([again.status, again.headers['idempotent-replayed'], again.text]).to.deep.equal([202, 'true', first.text]);
      expect(await xlen()).to.equal(before + 3);
    });

    it('answers an array of one metric as a batch, like a request without a key', async () => {
      const res = await send(api.url, JSON.stringify([metric(12)]), newKey('array-of-one'));
      expect(res.status).to.equal(202);
      expect(res.json).to.have.all.keys('status', 'accepted', 'ids');
      expect(res.text).to.equal(acceptedBatch(res.json.ids));
    });
  });

  describe('the same key with a different body', () => {
    it('is refused with 422 problem+json naming the header, and nothing is added', async () => {
      const key = newKey('reused');
      const first = await send(api.url, JSON.stringify([metric(20), metric(21)]), key);
      expect(first.status).to.equal(202);
      const before = await xlen();
      for (const other of [JSON.stringify([metric(20)]), JSON.stringify(metric(20)), JSON.stringify([metric(20), metric(21)], null, 1)]) {
        const res = await send(api.url, other, key);
        expect(res.status, other).to.equal(422);
        expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(res.json.type).to.equal('urn:metrics-pipeline:problem:idempotency-key-reused');
        expect(res.json.detail).to.include('Idempotency-Key').and.include('different body');
        expect(res.json.errors[0].field).to.equal('(idempotency-key)');
        expect(res.json.instance).to.equal('/ingest');
      }
      expect(await xlen()).to.equal(before);
      // The record is untouched: the first body still replays.
      const again = await send(api.url, JSON.stringify([metric(20), metric(21)]), key);
      expect([again.status, again.text]).to.deep.equal([202, first.text]);
    });
  });

  describe('an invalid key', () => {
    const latin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1'); // sent as its UTF-8 bytes
    const cases: [string, string | string[], RegExp][] = [
      ['an empty value', '', /empty/],
      ['129 characters', 'k'.repeat(129), /at most 128/],
      ['a space inside', 'my key', /visible ASCII/],
      ['non-ASCII (UTF-8 bytes)', latin1('clé-1'), /visible ASCII/],
      ['a control character (a tab inside)', 'a\tb', /visible ASCII/],
      ['the header sent twice', ['k-1', 'k-2'], /once/],
    ];
    for (const [name, key, detail] of cases) {
      it(`is refused with 400 naming the header, before anything is written: ${name}`, async () => {
        const before = await xlen();
        const res = await send(api.url, JSON.stringify(metric(30)), key);
        expect(res.status, res.text).to.equal(400);
        expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(res.json.type).to.equal('urn:metrics-pipeline:problem:invalid-idempotency-key');
        expect(res.json.detail).to.match(/^header Idempotency-Key: /).and.match(detail);
        expect(res.json.errors).to.deep.equal([{ field: '(idempotency-key)', pointer: '', message: res.json.detail.replace('header Idempotency-Key: ', '') }]);
        expect(await xlen()).to.equal(before);
      });
    }

    it('takes 128 visible ASCII characters, punctuation included', async () => {
      const key = `${'k'.repeat(100)}!"#*?[]{}\\:~`.padEnd(128, '=');
      expect(key).to.have.length(128);
      const res = await send(api.url, JSON.stringify(metric(31)), key);
      expect(res.status, res.text).to.equal(202);
      expect(await client.exists(keys.idempotency(key))).to.equal(1);
    });

    it('leaves no record behind, and neither does an invalid body with a valid key (which may then be used)', async () => {
      const before = (await records()).length;
      const key = newKey('bad-body');
      const bad = await send(api.url, JSON.stringify({ cpu: -1, rps: 1 }), key);
      expect(bad.status).to.equal(400);
      expect(bad.json.type).to.equal('urn:metrics-pipeline:problem:invalid-metric');
      expect(await client.exists(keys.idempotency(key))).to.equal(0);
      expect((await records()).length).to.equal(before);
      const good = await send(api.url, JSON.stringify(metric(32)), key);
      expect([good.status, good.headers['idempotent-replayed']]).to.deep.equal([202, undefined]);
    });
  });

  it('changes nothing for a request without the key: no record, no replay header, a second send is a second event', async () => {
    const other = await newApi('no-key');
    const body = JSON.stringify(metric(40));
    const a = await send(other.url, body);
    const b = await send(other.url, body);
    expect([a.status, b.status]).to.deep.equal([202, 202]);
    expect(a.json.id).to.not.equal(b.json.id);
    expect(a.headers['idempotent-replayed']).to.equal(undefined);
    expect(await client.xlen(other.keys.events)).to.equal(2);
    expect(await records(other.config.keyPrefix)).to.deep.equal([]);
  });

  it('stores exactly one set of entries for 20 concurrent identical requests, all answered 202 with the same body', async () => {
    const key = newKey('concurrent');
    const body = JSON.stringify([metric(50), metric(51), metric(52), metric(53)]);
    const before = await xlen();
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(api.url, body, key)));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(20).fill(202));
    expect(new Set(answers.map((a) => a.text)).size).to.equal(1);
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).to.have.length(19);
    expect(await xlen()).to.equal(before + 4);
  });

  it('replays a request whose effects Redis stored but whose reply was lost', async () => {
    // What the lost request did: the script ran to the end; its answer never reached the client.
    const key = newKey('lost-reply');
    const body = JSON.stringify([metric(60), metric(61)]);
    const stored = await store.appendIdempotent(key, requestFingerprint(Buffer.from(body)), 60, 'batch', [metric(60), metric(61)]);
    expect(stored.outcome).to.equal('new');
    const before = await xlen();

    const resent = await send(api.url, body, key);
    expect(resent.status).to.equal(202);
    expect(resent.headers['idempotent-replayed']).to.equal('true');
    expect(resent.text).to.equal((stored as { body: string }).body);
    expect(await xlen()).to.equal(before);
  });

  it('counts replays in api_idempotent_replays_total, not as accepted events; reused and invalid keys as rejections', async () => {
    const other = await newApi('counted');
    const zero = await scrape(other.url);
    expect(sample(zero, 'api_idempotent_replays_total')).to.equal(0);
    expect(sample(zero, 'api_events_rejected_total{reason="idempotency-key-reused"}')).to.equal(0);
    expect(sample(zero, 'api_events_rejected_total{reason="invalid-idempotency-key"}')).to.equal(0);

    const key = newKey('counted');
    const body = JSON.stringify([metric(70), metric(71), metric(72)]);
    for (let i = 0; i < 3; i++) expect((await send(other.url, body, key)).status).to.equal(202);
    expect((await send(other.url, JSON.stringify([metric(70), metric(71)]), key)).status).to.equal(422);
    expect((await send(other.url, body, 'bad key')).status).to.equal(400);

    const text = await scrape(other.url);
    expect(sample(text, 'api_idempotent_replays_total')).to.equal(2);
    expect(sample(text, 'api_events_accepted_total')).to.equal(3);
    expect(sample(text, 'api_events_rejected_total{reason="idempotency-key-reused"}')).to.equal(2); // its 2 events
    expect(sample(text, 'api_events_rejected_total{reason="invalid-idempotency-key"}')).to.equal(1); // body not read
    expect(sample(text, 'http_requests_total{method="POST",route="/ingest",status="202"}')).to.equal(3);
  });

  it('forgets a key after IDEMPOTENCY_TTL_SECONDS: the same request is then stored again', async () => {
    const short = await newApi('ttl', { IDEMPOTENCY_TTL_SECONDS: '1' });
    const key = newKey('ttl');
    const body = JSON.stringify(metric(80));
    const first = await send(short.url, body, key);
    expect(first.status).to.equal(202);
    expect(await client.pttl(short.keys.idempotency(key))).to.be.within(1, 1000);
    expect((await send(short.url, body, key)).headers['idempotent-replayed']).to.equal('true');
    await waitFor(async () => (await client.exists(short.keys.idempotency(key))) === 0, { timeoutMs: 3000, message: 'the record never expired' });
    const later = await send(short.url, body, key);
    expect([later.status, later.headers['idempotent-replayed']]).to.deep.equal([202, undefined]);
    expect(later.json.id).to.not.equal(first.json.id);
    expect(await client.xlen(short.keys.events)).to.equal(2);
  });

  describe('append-idempotent-1.lua', () => {
    it('builds the body byte-identical to the api\'s JSON.stringify, for one metric and batches of 1, 2 and 1000', async () => {
      const one = await store.appendIdempotent(newKey('lua-one'), 'f'.repeat(64), 60, 'one', [metric(90)]);
      expect(one.outcome).to.equal('new');
      const body = (one as { body: string }).body;
      expect(body).to.equal(acceptedOne(JSON.parse(body).id));
      for (const n of [1, 2, 1000]) {
        const batch = Array.from({ length: n }, (_, i) => metric(100 + i));
        const res = await store.appendIdempotent(newKey(`lua-${n}`), 'f'.repeat(64), 60, 'batch', batch);
        const text = (res as { body: string }).body;
        const ids = JSON.parse(text).ids as string[];
        expect(ids).to.have.length(n);
        expect(text).to.equal(acceptedBatch(ids));
        const stored = await client.xrange(keys.events, ids[0]!, ids[n - 1]!);
        expect(stored.map(([id]) => id)).to.deep.equal(ids);
      }
    });

    it('keeps the fingerprint and the body in one string with the TTL; measures its memory (printed)', async () => {
      const key = '8e03978e-40d5-43e8-bc93-6894a57f9324';
      const fingerprint = requestFingerprint(Buffer.from('x'));
      const res = await store.appendIdempotent(key, fingerprint, 60, 'one', [metric(95)]);
      const body = (res as { body: string }).body;
      expect(await client.get(keys.idempotency(key))).to.equal(fingerprint + body);
      expect(await client.ttl(keys.idempotency(key))).to.be.within(55, 60);
      const batchKey = '2c1e0a6e-5b0f-4c4e-9f3e-0d7f2b1a9c11';
      await store.appendIdempotent(batchKey, fingerprint, 60, 'batch', Array.from({ length: 1000 }, (_, i) => metric(2000 + i)));
      const bytes = async (k: string) => Number(await client.call('MEMORY', 'USAGE', keys.idempotency(k), 'SAMPLES', 0));
      console.log(`      [idempotency] record for a 36-char key under "${api.config.keyPrefix}": MEMORY USAGE one metric ${await bytes(key)} B, a 1000-metric batch ${await bytes(batchKey)} B`);
    });
  });
});
