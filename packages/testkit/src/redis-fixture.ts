import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { startRedisServer } from './redis-server.js';

/** A Redis for one test suite, from {@link startTestRedis}. */
export interface TestRedis {
  /** Connection URL. */
  url: string;
  /** Unique `test-<uuid>`: write only keys starting with it (e.g. pass it as the services' `KEY_PREFIX`). */
  keyPrefix: string;
  /** True when this fixture started the Redis (container or binary) and `stop()` shuts it down. */
  owned: boolean;
  /** Owned: stops the Redis. Shared (`REDIS_URL`): deletes only keys matching `<keyPrefix>*`. Idempotent. */
  stop(): Promise<void>;
}

/** A fresh unique key prefix, `test-<uuid>`. */
export function newKeyPrefix(): string {
  return `test-${randomUUID()}`;
}

/**
 * Provides a real Redis for integration tests, in the order DESIGN.md ("Tests") prescribes:
 * 1. `REDIS_URL` if set — shared, so nothing is ever flushed; `stop()` SCANs and UNLINKs `<keyPrefix>*`;
 * 2. else a testcontainers `redis:7-alpine` when a Docker engine seems present (`DOCKER_HOST` set or
 *    `/var/run/docker.sock` exists); if starting it fails, falls through;
 * 3. else a `redis-server` binary on a free port in a temp dir ({@link startRedisServer}).
 */
export async function startTestRedis(): Promise<TestRedis> {
  const keyPrefix = newKeyPrefix();

  const sharedUrl = process.env['REDIS_URL'];
  if (sharedUrl !== undefined && sharedUrl !== '') {
    return { url: sharedUrl, keyPrefix, owned: false, stop: once(() => deleteKeys(sharedUrl, `${keyPrefix}*`)) };
  }

  if (dockerMayBeAvailable()) {
    const container = await startRedisContainer().catch((err: unknown) => {
      if (process.env['TEST_SERVICE_LOGS']) {
        console.error(`[testkit] testcontainers Redis failed, using redis-server instead: ${String(err)}`);
      }
      return undefined;
    });
    if (container) return { ...container, keyPrefix, owned: true };
  }

  const server = await startRedisServer();
  return { url: server.url, keyPrefix, owned: true, stop: once(() => server.cleanup()) };
}

function dockerMayBeAvailable(): boolean {
  const host = process.env['DOCKER_HOST'];
  return (host !== undefined && host !== '') || existsSync('/var/run/docker.sock');
}

async function startRedisContainer(): Promise<{ url: string; stop: () => Promise<void> }> {
  // Loaded only here, so runs without Docker never pay for (or trip over) testcontainers.
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('redis:7-alpine')
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .withStartupTimeout(60_000)
    .start();
  const url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  return {
    url,
    stop: once(async () => {
      await container.stop();
    }),
  };
}

/** Deletes the keys matching `pattern` with SCAN + UNLINK (never FLUSH: the Redis is shared). */
async function deleteKeys(url: string, pattern: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, enableOfflineQueue: true });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= fn());
}
