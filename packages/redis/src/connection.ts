import { Redis, type RedisOptions } from 'ioredis';
import { coalesceWrites } from './write-coalescing.js';

/** The part of a logger the connection needs (pino's Logger fits). */
interface ConnectionLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Where and how to reach Redis. The shared config (`SharedConfig`) has exactly these fields, so a
 * service passes its config as it is.
 */
export interface RedisEndpoint {
  /** `redis://[user[:password]@]host:port[/db]`, or `rediss://` for TLS. */
  readonly redisUrl: string;
  /** Replaces the URL's password (read from REDIS_PASSWORD_FILE). */
  readonly redisPassword?: string;
  /** PEM CA bundle the server's certificate must chain to (REDIS_TLS_CA_FILE; rediss:// only). */
  readonly redisTlsCa?: string;
}

export interface RedisConnectionOptions {
  /** Shown in CLIENT LIST and in logs. */
  readonly name: string;
  readonly log: ConnectionLog;
  /** Fail a command that has no reply after this long (never for blocking reads). */
  readonly commandTimeoutMs?: number;
  /** false: commands fail at once while disconnected instead of waiting in a queue. */
  readonly offlineQueue?: boolean;
  /**
   * Send the commands of one event-loop turn in one socket write, so concurrent callers share
   * round trips (see write-coalescing.ts).
   */
  readonly coalesceWrites?: boolean;
}

const ERROR_LOG_INTERVAL_MS = 5000;

/**
 * The URL and ioredis options for an endpoint. A URL's user and password win over the options'
 * in ioredis (a user alone sets the password to ''), so with a password file both leave the URL
 * and travel as options. `rediss://` alone makes ioredis use TLS verified against the system CAs;
 * a CA file replaces them.
 */
export function endpointTarget(endpoint: RedisEndpoint): { url: string; options: RedisOptions } {
  let url = endpoint.redisUrl;
  const options: RedisOptions = {};
  if (endpoint.redisPassword !== undefined) {
    const parsed = new URL(url);
    if (parsed.username) options.username = decodeURIComponent(parsed.username);
    parsed.username = '';
    parsed.password = '';
    url = parsed.toString();
    options.password = endpoint.redisPassword;
  }
  if (endpoint.redisTlsCa !== undefined) options.tls = { ca: endpoint.redisTlsCa };
  return { url, options };
}

/**
 * One ioredis connection with the pipeline's policy: reconnect forever with a capped backoff, and
 * log connection changes (errors at most once per 5 s, since ioredis repeats them each retry).
 */
export function createRedis(endpoint: RedisEndpoint, options: RedisConnectionOptions): Redis {
  const target = endpointTarget(endpoint);
  const redisOptions: RedisOptions = {
    ...target.options,
    connectionName: options.name,
    // No CLIENT SETINFO on connect: Redis 7.0 does not know it, and the ACL users (acl.ts) are not
    // granted it; CLIENT SETNAME already tells the connections apart.
    disableClientInfo: true,
    enableOfflineQueue: options.offlineQueue ?? true,
    maxRetriesPerRequest: options.offlineQueue === false ? 0 : null,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    connectTimeout: 5000,
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
  };
  const redis = new Redis(target.url, redisOptions);
  if (options.coalesceWrites) coalesceWrites(redis);
  let lastErrorLog = 0;
  let wasReady = false;
  redis.on('ready', () => {
    wasReady = true;
    options.log.info({ connection: options.name }, 'redis connection ready');
  });
  redis.on('close', () => {
    if (wasReady) options.log.warn({ connection: options.name }, 'redis connection closed');
    wasReady = false;
  });
  redis.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    lastErrorLog = now;
    options.log.warn({ connection: options.name, err: err.message }, 'redis connection error');
  });
  return redis;
}

/** Closes a connection politely, or drops it if Redis does not answer in time. */
export async function closeRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  if (redis.status === 'end') return;
  const quit = redis.quit().then(
    () => undefined,
    () => undefined,
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([quit, timeout]);
  clearTimeout(timer);
  redis.disconnect();
}

/**
 * Resolves true once the connection is ready, or false after `timeoutMs`: a service may start
 * while Redis is away and serve 503s until it comes, but should not race its own connection.
 */
export function waitUntilReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}
