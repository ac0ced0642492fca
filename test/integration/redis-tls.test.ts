// rediss:// with REDIS_TLS_CA_FILE against a real TLS redis-server, and the whole production set-up
// at once: TLS, the ACL users, passwords from REDIS_PASSWORD_FILE. A throwaway CA and server
// certificate are made with openssl for each run. The server keeps a plain port for this test's
// own setup (and testkit's readiness PING); the services use only the TLS port.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { aclUser, closeRedis, createRedis, waitUntilReady } from '@pipeline/redis';
import { freePort, getJson, startRedisServer, type RedisServerProcess } from '@pipeline/testkit';
import { ingest, makeEvents, startAnalyzer, startApi, waitForCount, type RunningService } from '../support/pipeline.js';

/** A CA and a server certificate for 127.0.0.1 signed by it, in `dir`. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => {
    const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (run.error) throw new Error(`openssl is needed to make a test certificate (apt-get install openssl): ${run.error.message}`);
    if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${run.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=metrics-pipeline test CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');
}

describe('Redis over TLS (rediss://, REDIS_TLS_CA_FILE)', function () {
  this.timeout(60_000);
  let dir: string;
  let server: RedisServerProcess;
  let tlsPort: number;
  let admin: Redis;
  const caFile = () => join(dir, 'ca.crt');
  const tlsUrl = (auth = '') => `rediss://${auth}127.0.0.1:${tlsPort}`;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
    makeCertificates(dir);
    tlsPort = await freePort();
    try {
      server = await startRedisServer({
        extraArgs: [
          '--tls-port', String(tlsPort),
          '--tls-cert-file', join(dir, 'server.crt'),
          '--tls-key-file', join(dir, 'server.key'),
          '--tls-ca-cert-file', caFile(),
          '--tls-auth-clients', 'no',
        ],
      });
    } catch (err) {
      // A redis-server built without TLS rejects the option; then only the option mapping is tested
      // (packages/redis/test/unit/connection-target.test.ts).
      if (/tls/i.test((err as Error).message) && /(Bad directive|unknown|not supported|wrong number)/i.test((err as Error).message)) this.skip();
      throw err;
    }
    admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    admin?.disconnect();
    await server?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects through createRedis when the CA file is trusted', async () => {
    const redis = createRedis({ redisUrl: tlsUrl(), redisTlsCa: readFileSync(caFile(), 'utf8') }, { name: 'tls-test', log: { info() {}, warn() {} } });
    try {
      expect(await waitUntilReady(redis, 5000)).to.equal(true);
      await redis.set('tls:probe', 'ok');
      expect(await admin.get('tls:probe'), 'the same server, seen on its plain port').to.equal('ok');
      const mine = ((await admin.call('CLIENT', 'LIST')) as string).split('\n').find((c) => c.includes(' name=tls-test '));
      expect(mine, 'the connection, on the TLS port').to.include(`laddr=127.0.0.1:${tlsPort}`);
    } finally {
      await closeRedis(redis);
    }
  });

  it('refuses the server without the CA: its certificate does not verify against the system CAs', async () => {
    const redis = new Redis(tlsUrl(), { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    let error: Error | undefined;
    redis.on('error', (err: Error) => (error ??= err));
    await redis.connect().catch(() => undefined);
    redis.disconnect();
    expect(error?.message).to.match(/certificate|self.signed/i);
  });

  it('runs the api and an analyzer over TLS as ACL users with passwords from files', async () => {
    const prefix = 'tlstest';
    const services: RunningService[] = [];
    try {
      const pw = { api: randomBytes(12).toString('hex'), analyzer: randomBytes(12).toString('hex') };
      for (const user of ['api', 'analyzer'] as const) {
        await admin.call('ACL', 'SETUSER', ...aclUser(user, prefix, pw[user]));
        writeFileSync(join(dir, `${user}.pw`), `${pw[user]}\n`);
      }
      const env = (user: 'api' | 'analyzer') => ({
        REDIS_URL: tlsUrl(`${user}@`),
        REDIS_PASSWORD_FILE: join(dir, `${user}.pw`),
        REDIS_TLS_CA_FILE: caFile(),
        KEY_PREFIX: prefix,
        WINDOW_SIZE: '20',
        MIN_SAMPLES: '5',
      });
      const api = await startApi(env('api'));
      services.push(api);
      services.push(await startAnalyzer(env('analyzer')));
      await ingest(api.url, makeEvents(100, 11), 10, 2);
      await waitForCount(api.url, 100, 15_000, () => services.map((s) => s.output()).join('\n'));
      expect((await getJson(`${api.url}/ready`)).status).to.equal(200);
      const clients = ((await admin.call('CLIENT', 'LIST')) as string).split('\n').filter((c) => / user=(api|analyzer) /.test(c));
      expect(clients.length, 'connections of the services').to.be.at.least(3);
      for (const c of clients) expect(c, 'every service connection is on the TLS port').to.include(`laddr=127.0.0.1:${tlsPort}`);
    } finally {
      await Promise.all(services.map((s) => s.stop()));
    }
  });
});
