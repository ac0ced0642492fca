import { expect } from 'chai';
import { newKeyPrefix, postJson, startRedisServer, waitFor, type RedisServerProcess } from '@pipeline/testkit';
import type { Redis } from 'ioredis';
import { inspector, isReady, sample, scrape, startApi, type RunningApi } from './support.js';

// XINFO GROUPS's lag is null after an XDEL, and after Redis reloads a stream from its AOF its
// read counter can be re-estimated wrongly (a soak saw lag 108,450 with every entry delivered and
// 75 entries in the stream): taken as it is, the api then answers 503 backpressure to the very
// entries that would let Redis count again. XGROUP SETID … ENTRIESREAD puts the group in such a
// state on purpose; the last test gets there by a real AOF reload.
describe('backlog when Redis reports a wrong or no lag', function () {
  this.timeout(30_000);
  let redis: RedisServerProcess;
  let api: RunningApi;
  let client: Redis;

  beforeEach(async () => {
    redis = await startRedisServer({ appendonly: true, appendfsync: 'always' });
    api = await startApi({ REDIS_URL: redis.url, KEY_PREFIX: newKeyPrefix(), MAX_BACKLOG: '100', BACKLOG_CHECK_MS: '50' });
    client = inspector(redis.url);
    await waitFor(() => isReady(api.url), { timeoutMs: 5000, message: '/ready never turned 200' });
  });
  afterEach(async () => {
    client?.disconnect();
    await api?.stop();
    await redis?.cleanup();
  });

  const events = () => api.keys.events;
  const backlog = async () => sample(await scrape(api.url), 'api_backlog_entries');
  const settledBacklog = async () => {
    await new Promise((resolve) => setTimeout(resolve, 300)); // several checks of the monitor
    return backlog();
  };
  const xinfoLag = async () => {
    const [group] = (await client.xinfo('GROUPS', events())) as unknown[][];
    return group![group!.indexOf('lag') + 1];
  };
  const append = async (n: number) => {
    const res = await postJson(`${api.url}/ingest`, Array.from({ length: n }, (_, i) => ({ cpu: i % 100, rps: i })));
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body.ids as string[];
  };
  /** Delivers (and acknowledges) `count` entries to the group, as an analyzer would. */
  const consume = async (count: number): Promise<number> => {
    const reply = (await client.xreadgroup('GROUP', 'analyzer', 'test', 'COUNT', count, 'STREAMS', events(), '>')) as [string, [string, string[]][]][] | null;
    const ids = reply?.[0]?.[1].map(([id]) => id) ?? [];
    if (ids.length > 0) await client.xack(events(), 'analyzer', ...ids);
    return ids.length;
  };

  it('is 0 when every entry was delivered, whatever lag XINFO reports', async () => {
    const ids = await append(500);
    expect(await consume(1000)).to.equal(500);
    await client.xgroup('SETID', events(), 'analyzer', ids.at(-1)!, 'ENTRIESREAD', 1);
    expect(await xinfoLag(), 'XINFO now reports a lag').to.equal(499);
    expect(await settledBacklog()).to.equal(0);
    expect((await postJson(`${api.url}/ingest`, { cpu: 1, rps: 1 })).status).to.equal(202);
  });

  it('is never more than the stream holds, and counts what is undelivered', async () => {
    const ids = await append(80);
    await client.xgroup('SETID', events(), 'analyzer', ids[39]!, 'ENTRIESREAD', 1); // 40 delivered, counter wrong
    expect(await xinfoLag()).to.equal(79);
    await client.xtrim(events(), 'MINID', ids[30]!); // 50 left: 10 delivered, 40 not
    expect(await settledBacklog()).to.equal(50); // bounded by XLEN, not 79
    expect((await postJson(`${api.url}/ingest`, { cpu: 1, rps: 1 })).status).to.equal(202);
  });

  it('counts the stream length when Redis cannot tell the lag (XDEL), then the real lag', async () => {
    const ids = await append(150);
    await client.xdel(events(), ids[149]!);
    expect(await xinfoLag(), 'an XDEL past last-delivered-id leaves the lag unknown').to.equal(null);
    expect(await settledBacklog()).to.equal(149);
    expect((await postJson(`${api.url}/ingest`, { cpu: 1, rps: 1 })).body.type).to.equal('urn:metrics-pipeline:problem:backpressure');
    expect(await consume(1000)).to.equal(149);
    await waitFor(async () => (await backlog()) === 0, { timeoutMs: 3000, message: 'backlog never reached 0 after the group caught up' });
    expect((await postJson(`${api.url}/ingest`, { cpu: 1, rps: 1 })).status).to.equal(202);
  });

  it('keeps taking entries after Redis reloads its AOF, and counts the undelivered ones', async () => {
    await append(300);
    expect(await consume(100)).to.equal(100);
    await redis.kill('SIGKILL');
    await redis.start();
    await waitFor(() => isReady(api.url), { timeoutMs: 10_000, message: '/ready never turned 200 after Redis came back' });
    // 200 are undelivered; Redis cannot tell the lag after the reload, so the stream's length stands in.
    expect(await xinfoLag()).to.equal(null);
    await waitFor(async () => (await backlog()) === 300, { timeoutMs: 3000, message: 'backlog is not the stream length (300)' });
    expect((await postJson(`${api.url}/ingest`, { cpu: 1, rps: 1 })).status).to.equal(503);
    expect(await consume(1000)).to.equal(200);
    await waitFor(async () => (await postJson(`${api.url}/ingest`, { cpu: 1, rps: 1 })).status === 202, { timeoutMs: 3000, message: 'ingest never resumed' });
  });
});
