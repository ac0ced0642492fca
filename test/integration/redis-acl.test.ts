// Least privilege inside Redis: the ACL users of packages/redis/src/acl.ts, loaded into a real
// redis-server from the operators' CLI (scripts/redis-acl.mjs), refuse what the services never do
// and let both services, run as real processes, do all of their work; KEDA's user reads the
// group's lag and nothing else. Needs its own redis-server (users are never created on a shared
// Redis), so REDIS_URL is not used here.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { seriesKeys } from '@pipeline/redis';
import { startRedisServer, type RedisServerProcess } from '@pipeline/testkit';
import { post } from '../support/faults.js';
import { ingest, makeEvents, scrapeCounter, startAnalyzer, startApi, waitForCount, type RunningService } from '../support/pipeline.js';

const PREFIX = 'acltest';
const CLI = fileURLToPath(new URL('../../scripts/redis-acl.mjs', import.meta.url));
const APPEND_BATCH = readFileSync(new URL('../../services/api/src/lua/append-batch-2.lua', import.meta.url), 'utf8');
const APPEND_IDEMPOTENT = readFileSync(new URL('../../services/api/src/lua/append-idempotent-1.lua', import.meta.url), 'utf8');
const keys = seriesKeys(PREFIX);

/** Runs scripts/redis-acl.mjs as an operator would; returns its stdout. */
function aclCli(args: string[]): string {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  expect(run.status, run.stderr).to.equal(0);
  return run.stdout;
}

/**
 * Sends commands on one raw connection as go-redis (KEDA's client) does, in RESP3 after a
 * `HELLO 3 AUTH …` (ioredis speaks only RESP2), and resolves with all the replies as raw RESP
 * text. A last `PING <marker>` tells when every reply has arrived.
 */
function resp3Session(port: number, commands: string[][]): Promise<string> {
  const marker = `end-${randomBytes(8).toString('hex')}`;
  const encode = (args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    let replies = '';
    const socket = connect(port, '127.0.0.1', () => socket.write([...commands, ['PING', marker]].map(encode).join('')));
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy(new Error(`no reply to the last PING; got ${JSON.stringify(replies)}`)));
    socket.on('data', (chunk: string) => {
      replies += chunk;
      if (replies.endsWith(`${marker}\r\n`)) {
        socket.end();
        resolve(replies);
      }
    });
    socket.on('error', reject);
  });
}

/** The reply to one command, or the error message it got ('NOPERM ...'). */
async function attempt(client: Redis, command: string, ...args: (string | number)[]): Promise<string> {
  try {
    return JSON.stringify(await client.call(command, ...args));
  } catch (err) {
    return (err as Error).message;
  }
}

describe('Redis ACL users for the api, the analyzer and KEDA', function () {
  this.timeout(60_000);
  let dir: string;
  let server: RedisServerProcess;
  let admin: Redis;
  const passwords = { api: randomBytes(16).toString('hex'), analyzer: randomBytes(16).toString('hex'), keda: randomBytes(16).toString('hex') };
  const users = Object.keys(passwords) as (keyof typeof passwords)[];
  /** The CLI's password arguments, one file per user (written in `before`). */
  const passwordArgs = () => users.flatMap((u) => [`--${u}-password-file`, join(dir, `${u}.pw`)]);
  const userUrl = (user: string, password: string) => `redis://${user}:${encodeURIComponent(password)}@127.0.0.1:${server.port}`;
  const clients: Redis[] = [];
  const connectAs = (user: keyof typeof passwords) => {
    const c = new Redis(userUrl(user, passwords[user]), { maxRetriesPerRequest: 1, disableClientInfo: true });
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'redis-acl-'));
    for (const user of users) writeFileSync(join(dir, `${user}.pw`), `${passwords[user]}\n`);
    // The users as an ACL file; the default user (not in the file) stays for this test's own setup.
    writeFileSync(join(dir, 'users.acl'), aclCli(['--prefix', PREFIX, '--format', 'aclfile', ...passwordArgs()]));
    server = await startRedisServer({ extraArgs: ['--aclfile', join(dir, 'users.acl')] });
    admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    admin?.disconnect();
    await server?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads from the ACL file and from the ACL SETUSER lines alike (piped into redis-cli)', async () => {
    const before = await Promise.all(users.map((u) => admin.call('ACL', 'GETUSER', u)));
    for (const [i, user] of users.entries()) expect(before[i], `user ${user} from the ACL file`).to.not.equal(null);
    const setuser = aclCli(['--prefix', PREFIX, ...passwordArgs()]);
    const cli = spawnSync('redis-cli', ['-p', String(server.port)], { input: setuser, encoding: 'utf8' });
    expect(cli.status, cli.stderr).to.equal(0);
    expect(cli.stdout.trim().split('\n'), cli.stdout).to.deep.equal(['OK', 'OK', 'OK']);
    const after = await Promise.all(users.map((u) => admin.call('ACL', 'GETUSER', u)));
    expect(after).to.deep.equal(before);
  });

  it('the api user cannot administer, acknowledge, or touch keys outside its own', async () => {
    const api = connectAs('api');
    expect(await api.ping()).to.equal('PONG');
    const refused: [string, ...(string | number)[]][] = [
      ['FLUSHALL'],
      ['FLUSHDB'],
      ['CONFIG', 'GET', 'requirepass'],
      ['KEYS', '*'],
      ['XACK', keys.events, 'analyzer', '1-1'],
      ['XREADGROUP', 'GROUP', 'analyzer', 'x', 'STREAMS', keys.events, '>'],
      // It may run scripts (its batch append is one), but a script can do no more than the user:
      ['EVAL', "return redis.call('HSET', KEYS[1], 'count', 0)", '1', keys.stats],
      ['EVAL', "return redis.call('XACK', KEYS[1], 'analyzer', '1-1')", '1', keys.events],
      ['EVAL', "return redis.call('FLUSHALL')", '0'],
      ['DEL', keys.events],
      ['GET', 'other:key'],
      ['XADD', 'other:{default}:events', '*', 'cpu', '1'], // a write command it has, on another prefix
      ['HGETALL', 'other:{default}:stats'], // a read command it has, on another prefix
      ['XADD', keys.stats, '*', 'x', '1'], // the stats hash is read-only for the api
      ['XADD', keys.dead, '*', 'x', '1'], // the dead letters are not the api's at all
      // GET and SET reach its idempotency records and nothing else: SET would replace a stream.
      ['SET', keys.events, 'x'],
      ['SET', keys.stats, 'x'],
      ['GET', keys.stats],
      ['EVAL', "return redis.call('SET', KEYS[1], 'x')", '1', keys.events],
      ['SET', 'other:{default}:idem:k', 'x'], // another prefix's record
      ['GET', 'other:{default}:idem:k'],
      ['EVAL', "return redis.call('SET', KEYS[1], 'x')", '1', 'other:{default}:idem:k'],
      ['DEL', keys.idempotency('k')],
      ['EXPIRE', keys.idempotency('k'), 1],
      ['EVAL', "return redis.call('XACK', KEYS[1], 'analyzer', '1-1')", '2', keys.events, keys.idempotency('k')],
      ['ACL', 'WHOAMI'],
      ['SUBSCRIBE', 'anything'],
    ];
    for (const [command, ...args] of refused) {
      // Redis 7.0 words a refusal inside a script as "ERR The user executing the script can't …".
      const refusal = command === 'EVAL' ? /^NOPERM|^ERR The user executing the script can't/ : /^NOPERM/;
      expect(await attempt(api, command, ...args), `${command} ${args.join(' ')}`).to.match(refusal);
    }
  });

  it('the api user can do what the api does: XADD, the batch append script, the group, the reads', async () => {
    const api = connectAs('api');
    expect(await attempt(api, 'XGROUP', 'CREATE', keys.events, 'analyzer', '0', 'MKSTREAM')).to.equal('"OK"');
    expect(await api.xadd(keys.events, '*', 'ts', '1', 'cpu', '1', 'rps', '1')).to.match(/^\d+-\d+$/);
    const appended = (await api.eval(APPEND_BATCH, 1, keys.events, 6, 'ts 1 cpu 2 rps 2')) as string[];
    expect(appended).to.have.length(1);
    expect(await api.hgetall(keys.stats)).to.deep.equal({});
    expect(await api.zrevrangebylex(keys.anomalies, '+', '-', 'LIMIT', 0, 10)).to.deep.equal([]);
    expect(await api.xlen(keys.events)).to.equal(2);
    expect(await attempt(api, 'XINFO', 'GROUPS', keys.events)).to.include('analyzer');
    // The keyed append: entries and record, then the record's answer, then a conflict.
    const record = keys.idempotency('acl-key-1');
    const keyed = (fingerprint: string) => api.eval(APPEND_IDEMPOTENT, 2, keys.events, record, 60, fingerprint, 'one', 6, 'ts 1 cpu 3 rps 3') as Promise<string[]>;
    const first = await keyed('a'.repeat(64));
    expect(first[0]).to.equal('new');
    expect(await keyed('a'.repeat(64))).to.deep.equal(['replay', first[1]]);
    expect(await keyed('b'.repeat(64))).to.deep.equal(['conflict']);
    expect(await api.xlen(keys.events)).to.equal(3);
    expect(await admin.ttl(record)).to.be.within(1, 60);
    await admin.del(keys.events, record);
  });

  it('the analyzer user cannot administer or reach other keys either', async () => {
    const analyzer = connectAs('analyzer');
    expect(await analyzer.ping()).to.equal('PONG');
    const refused: [string, ...(string | number)[]][] = [
      ['FLUSHALL'],
      ['CONFIG', 'SET', 'appendonly', 'no'],
      ['KEYS', '*'],
      ['DEL', keys.events],
      ['SCRIPT', 'FLUSH'],
      ['XRANGE', 'other:{default}:events', '-', '+'],
      ['EVAL', "return redis.call('HSET', KEYS[1], 'a', 1)", '1', 'other:{default}:stats'],
      ['EVAL', "return redis.call('DEL', KEYS[1])", '1', keys.stats], // inside a script, too
    ];
    for (const [command, ...args] of refused) {
      // Refused inside a script, the error is "ERR The user executing the script can't run this command".
      expect(await attempt(analyzer, command, ...args), `${command} ${args.join(' ')}`).to.match(/^NOPERM|user executing the script can't/);
    }
  });

  it("the keda user reads the group's lag as KEDA does (HELLO 3, PING, INFO, XINFO GROUPS, XLEN) and nothing else", async () => {
    // The stream and the group as the services make them, 3 entries, 1 delivered: a lag of 2.
    await admin.xgroup('CREATE', keys.events, 'analyzer', '0', 'MKSTREAM');
    for (let i = 0; i < 3; i++) await admin.xadd(keys.events, '*', 'ts', '1', 'cpu', '1', 'rps', '1');
    await admin.xreadgroup('GROUP', 'analyzer', 'c1', 'COUNT', 1, 'STREAMS', keys.events, '>');
    await admin.call('ACL', 'LOG', 'RESET');
    try {
      // go-redis's way in: HELLO 3 with AUTH (granted to no one, allowed to all), then RESP3. The
      // second HELLO runs as keda itself, which has -@all.
      const session = await resp3Session(server.port, [
        ['HELLO', '3', 'AUTH', 'keda', passwords.keda],
        ['HELLO', '3'],
        ['PING'],
        ['XINFO', 'GROUPS', keys.events],
        ['XRANGE', keys.events, '-', '+'], // refused: proves the session is keda's, not default's
      ]);
      expect(session, 'HELLO 3: a RESP3 map with proto 3').to.match(/^%\d+\r\n/);
      expect(session.match(/\$5\r\nproto\r\n:3\r\n/g), 'both HELLOs answered').to.have.lengthOf(2);
      expect(session).to.include('+PONG\r\n');
      expect(session, 'XINFO GROUPS: the group and its lag').to.include('$8\r\nanalyzer\r\n').and.include('$3\r\nlag\r\n:2\r\n');
      expect(session).to.include("-NOPERM this user has no permissions to run the 'xrange' command\r\n");

      const keda = connectAs('keda'); // ioredis: AUTH, then its ready check's INFO
      expect(await keda.ping()).to.equal('PONG');
      // KEDA reads redis_version from INFO before each lag and refuses a Redis older than 7.
      expect(Number(/^redis_version:(\d+)\./m.exec(await keda.info('server'))?.[1])).to.be.at.least(7);
      const [group] = (await keda.call('XINFO', 'GROUPS', keys.events)) as (string | number)[][];
      const field = (name: string) => group![group!.indexOf(name) + 1];
      expect([field('name'), field('lag')]).to.deep.equal(['analyzer', 2]);
      expect(await keda.xlen(keys.events), 'XLEN, the lag while the group does not exist yet').to.equal(3);

      const refused: [string, ...(string | number)[]][] = [
        ['XRANGE', keys.events, '-', '+'],
        ['XREADGROUP', 'GROUP', 'analyzer', 'keda', 'STREAMS', keys.events, '>'],
        ['XADD', keys.events, '*', 'cpu', '1'],
        ['XACK', keys.events, 'analyzer', '1-1'],
        ['XGROUP', 'DESTROY', keys.events, 'analyzer'],
        ['XINFO', 'STREAM', keys.events], // only the GROUPS subcommand
        ['HGETALL', keys.stats],
        ['XLEN', keys.stats], // a command it has, on a key of its prefix that is not the stream
        ['XINFO', 'GROUPS', 'other:{default}:events'], // another prefix's stream
        ['FLUSHALL'],
        ['KEYS', '*'],
        ['CONFIG', 'GET', 'requirepass'],
      ];
      for (const [command, ...args] of refused) {
        expect(await attempt(keda, command, ...args), `${command} ${args.join(' ')}`).to.match(/^NOPERM/);
      }

      // The ACL LOG holds these refusals and the session's XRANGE, all keda's, and nothing else
      // (Redis counts a repeat in one entry: XRANGE twice).
      const log = ((await admin.call('ACL', 'LOG', '128')) as (string | number)[][]).map((flat) => {
        const entry = Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : [])));
        return { user: entry.username, denied: `${entry.reason} ${entry.object}`, count: Number(entry.count) };
      });
      expect(new Set(log.map((e) => e.user))).to.deep.equal(new Set(['keda']));
      expect(log.map((e) => e.denied).sort()).to.deep.equal(
        [
          'command xrange',
          'command xreadgroup',
          'command xadd',
          'command xack',
          'command xgroup|destroy',
          'command xinfo|stream',
          'command hgetall',
          `key ${keys.stats}`,
          'key other:{default}:events',
          'command flushall',
          'command keys',
          'command config|get',
        ].sort(),
      );
      expect(log.reduce((n, e) => n + e.count, 0), JSON.stringify(log)).to.equal(refused.length + 1);
    } finally {
      await admin.del(keys.events);
    }
  });

  describe('the services as real processes, logged in as those users', () => {
    const services: RunningService[] = [];
    after(async () => {
      await Promise.all(services.map((s) => s.stop()));
    });

    it('ingest 200 events (and 20 with Idempotency-Keys, resent and reused) and count them all, claiming a dead consumer\'s entries; Redis denies nothing', async () => {
      await admin.call('ACL', 'LOG', 'RESET');
      const shared = { KEY_PREFIX: PREFIX, WINDOW_SIZE: '20', MIN_SAMPLES: '5' };
      // The api with its password in the URL; the analyzer with a wrong one there, overridden by
      // REDIS_PASSWORD_FILE (the Kubernetes Secret-as-file way).
      const api = await startApi({ ...shared, REDIS_URL: userUrl('api', passwords.api) });
      services.push(api);
      const accepted = await ingest(api.url, makeEvents(200, 7), 10, 2);
      expect(accepted).to.have.length(200);
      // Keyed requests: stored once, replayed, a reused key refused; 20 more events in all.
      for (const [i, body] of [makeEvents(10, 8), makeEvents(10, 9)].entries()) {
        const text = JSON.stringify(body);
        const send = (payload: string) => post(`${api.url}/ingest`, payload, { headers: { 'idempotency-key': `acl-e2e-${i}` } });
        const first = await send(text);
        const again = await send(text);
        const other = await send(JSON.stringify(body.slice(1)));
        expect(first.kind === 'response' && first.status, JSON.stringify(first)).to.equal(202);
        expect(again.kind === 'response' && [again.status, again.headers['idempotent-replayed'], again.text]).to.deep.equal([202, 'true', first.kind === 'response' && first.text]);
        expect(other.kind === 'response' && other.status, JSON.stringify(other)).to.equal(422);
      }
      expect(await admin.exists(keys.idempotency('acl-e2e-0'), keys.idempotency('acl-e2e-1'))).to.equal(2);
      // A consumer that read 50 entries and died: the analyzer must claim them (XCLAIM).
      const taken = (await admin.xreadgroup('GROUP', 'analyzer', 'dead-consumer', 'COUNT', 50, 'STREAMS', keys.events, '>')) as [string, unknown[]][];
      expect(taken[0]![1]).to.have.length(50);

      const analyzer = await startAnalyzer({
        ...shared,
        REDIS_URL: userUrl('analyzer', 'not-the-password'),
        REDIS_PASSWORD_FILE: join(dir, 'analyzer.pw'),
        CLAIM_IDLE_MS: '300',
        BATCH_SIZE: '40',
      });
      services.push(analyzer);
      const stats = await waitForCount(api.url, 220, 20_000, () => `${analyzer.output()}\n${api.output()}`);
      expect(stats.count).to.equal(220);
      expect(await scrapeCounter(analyzer.url, 'analyzer_claimed_entries_total')).to.equal(50);
      expect((await admin.xpending(keys.events, 'analyzer'))[0]).to.equal(0);
      // Let a maintenance pass (trim, gauges) run under the ACL too, then stop both cleanly.
      await new Promise((r) => setTimeout(r, 1200));
      const exits = await Promise.all([api.stop(), analyzer.stop()]);
      expect(exits.map((e) => e.code), `${api.output()}\n${analyzer.output()}`).to.deep.equal([0, 0]);

      const clients = ((await admin.call('CLIENT', 'LIST')) as string).split('\n');
      expect(clients.filter((c) => / name=(api|analyzer-\S+) /.test(c)), 'service connections left').to.be.empty;
      // Not one command refused, not even one whose error a client ignores.
      const denied = (await admin.call('ACL', 'LOG')) as unknown[];
      expect(denied, JSON.stringify(denied)).to.be.empty;
    });
  });
});
