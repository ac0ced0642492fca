// Finding or starting the Redis that `pnpm start` runs the pipeline against.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnChild } from './children.mjs';

const require = createRequire(new URL('../../services/api/package.json', import.meta.url));
const Redis = require('ioredis').Redis;

/**
 * PINGs the Redis at `url`, giving up after ~1 s.
 * @param {string} url
 * @returns {Promise<string | undefined>} undefined when it answered PONG, else why not
 */
export async function pingError(url) {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  /** @type {Error | undefined} */
  let socketError; // e.g. ECONNREFUSED; connect() itself only says "Connection is closed."
  client.on('error', (err) => (socketError ??= err));
  try {
    await client.connect();
    const reply = await client.ping();
    return reply === 'PONG' ? undefined : `PING answered ${reply}`;
  } catch (err) {
    return (socketError ?? /** @type {Error} */ (err)).message || String(err);
  } finally {
    client.disconnect();
  }
}

/**
 * The full path of an executable on PATH, or undefined.
 * @param {string} name
 */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir || '.', name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * Whether nothing listens on 127.0.0.1:`port` (0 asks the OS for any free port).
 * @param {number} port
 * @returns {Promise<number | undefined>} the port if it was free, else undefined
 */
export function tryPort(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(bound));
    });
  });
}

/**
 * Spawns `redis-server` on 127.0.0.1:`port` with its data and log in `dir`; see waitForRedis.
 * @param {{ bin: string, port: number, dir: string, password?: string }} opts
 */
export function spawnRedisServer({ bin, port, dir, password }) {
  mkdirSync(dir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '-::1', '--appendonly', 'yes'];
  args.push('--dir', dir, '--logfile', join(dir, 'redis.log'));
  if (password) args.push('--requirepass', password);
  return spawnChild(bin, args, { stdio: 'ignore' });
}

/**
 * Waits up to 5 s for the redis-server `child` to answer PING at `url`; throws if it does not.
 * @param {import('node:child_process').ChildProcess} child
 * @param {string} url
 * @param {string} logFile shown in the error
 */
export async function waitForRedis(child, url, logFile) {
  const deadline = Date.now() + 5000;
  let lastError = 'no answer';
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    const error = await pingError(url);
    if (!error) return;
    lastError = error;
    await sleep(100);
  }
  const how = child.exitCode === null ? lastError : `it exited with code ${child.exitCode}`;
  throw new Error(`redis-server did not come up (${how}); see ${logFile}`);
}
