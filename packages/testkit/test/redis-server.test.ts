import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startRedisServer, startTestRedis, type RedisServerProcess } from '../src/index.js';

/** A client that fails fast instead of retrying forever, and never touches 6379 by accident. */
function client(url: string): Redis {
  expect(url).to.not.match(/:6379\b/, 'tests must never use the machine Redis on 6379');
  return new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
}

describe('testkit: redis-server', function () {
  this.timeout(30_000);
  const started: RedisServerProcess[] = [];
  const clients: Redis[] = [];
  const connect = (url: string): Redis => {
    const c = client(url);
    clients.push(c);
    return c;
  };

  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await Promise.all(started.splice(0).map((s) => s.cleanup()));
  });

  it('answers PING on its own port, not 6379', async () => {
    const server = await startRedisServer();
    started.push(server);
    expect(server.port).to.be.a('number').and.not.equal(6379);
    expect(server.url).to.equal(`redis://127.0.0.1:${server.port}`);
    expect(server.pid).to.be.greaterThan(0);
    expect(await connect(server.url).ping()).to.equal('PONG');
  });

  it('stop() then start() brings it back on the same port and dir', async () => {
    const server = await startRedisServer();
    started.push(server);
    const { port, dir, pid } = server;
    await server.stop();
    expect(server.running).to.equal(false);
    await server.stop(); // idempotent
    await server.start();
    expect(server.running).to.equal(true);
    expect(server.port).to.equal(port);
    expect(server.dir).to.equal(dir);
    expect(server.pid).to.not.equal(pid);
    expect(await connect(server.url).ping()).to.equal('PONG');
  });

  it('keeps data across SIGKILL + start() with appendonly', async () => {
    const server = await startRedisServer({ appendonly: true, appendfsync: 'always' });
    started.push(server);
    const before = connect(server.url);
    await before.set('survivor', 'yes');
    await server.kill('SIGKILL');
    before.disconnect();
    await server.start();
    expect(await connect(server.url).get('survivor')).to.equal('yes');
  });

  it('reports the server output when it cannot start', async () => {
    const error = await startRedisServer({ extraArgs: ['--no-such-option', 'x'] }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).to.match(/before answering PING/);
    expect(error?.message).to.match(/no-such-option/i);
  });
});

describe('testkit: startTestRedis', function () {
  this.timeout(30_000);
  let savedRedisUrl: string | undefined;

  beforeEach(() => {
    savedRedisUrl = process.env['REDIS_URL'];
  });
  afterEach(() => {
    if (savedRedisUrl === undefined) delete process.env['REDIS_URL'];
    else process.env['REDIS_URL'] = savedRedisUrl;
  });

  it('returns a usable Redis with a unique key prefix', async () => {
    const redis = await startTestRedis();
    const c = client(redis.url);
    try {
      expect(redis.keyPrefix).to.match(/^test-[0-9a-f-]{36}$/);
      if (savedRedisUrl === undefined) expect(redis.owned).to.equal(true);
      await c.set(`${redis.keyPrefix}:k`, 'v');
      expect(await c.get(`${redis.keyPrefix}:k`)).to.equal('v');
      expect((await startTestRedis().then(async (r) => (await r.stop(), r))).keyPrefix).to.not.equal(
        redis.keyPrefix,
      );
    } finally {
      c.disconnect();
      await redis.stop();
    }
  });

  it('with REDIS_URL set, stop() deletes only its own prefix and never flushes', async () => {
    // A throwaway server stands in for the shared Redis behind REDIS_URL.
    const shared = await startRedisServer();
    const c = client(shared.url);
    try {
      process.env['REDIS_URL'] = shared.url;
      const redis = await startTestRedis();
      expect(redis.owned).to.equal(false);
      expect(redis.url).to.equal(shared.url);

      const pipeline = c.pipeline();
      for (let i = 0; i < 2500; i++) pipeline.set(`${redis.keyPrefix}:k${i}`, String(i)); // several SCAN pages
      pipeline.xadd(`${redis.keyPrefix}:{default}:events`, '*', 'cpu', '1');
      pipeline.set('someone-else:key', 'keep');
      pipeline.set(`other-${redis.keyPrefix}`, 'keep'); // contains the prefix, does not start with it
      await pipeline.exec();

      await redis.stop();
      await redis.stop(); // idempotent

      expect(await c.keys(`${redis.keyPrefix}*`)).to.deep.equal([]);
      expect(await c.get('someone-else:key')).to.equal('keep');
      expect(await c.get(`other-${redis.keyPrefix}`)).to.equal('keep');
      expect(await c.ping()).to.equal('PONG');
    } finally {
      c.disconnect();
      await shared.cleanup();
    }
  });
});
