import { Redis, type RedisOptions } from 'ioredis';

/** The part of a logger the connection needs (pino's Logger fits). */
interface ConnectionLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RedisConnectionOptions {
  /** Shown in CLIENT LIST and in logs. */
  readonly name: string;
  readonly log: ConnectionLog;
  /** Fail a command that has no reply after this long (never for blocking reads). */
  readonly commandTimeoutMs?: number;
  /** false: commands fail at once while disconnected instead of waiting in a queue. */
  readonly offlineQueue?: boolean;
  /** Let concurrent callers share round trips (not for a connection that blocks). */
  readonly autoPipelining?: boolean;
}

const ERROR_LOG_INTERVAL_MS = 5000;

/**
 * One ioredis connection with the pipeline's policy: reconnect forever with a capped backoff, and
 * log connection changes (errors at most once per 5 s, since ioredis repeats them each retry).
 */
export function createRedis(url: string, options: RedisConnectionOptions): Redis {
  const redisOptions: RedisOptions = {
    connectionName: options.name,
    enableOfflineQueue: options.offlineQueue ?? true,
    enableAutoPipelining: options.autoPipelining ?? false,
    maxRetriesPerRequest: options.offlineQueue === false ? 0 : null,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    connectTimeout: 5000,
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
  };
  const redis = new Redis(url, redisOptions);
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
