import { ConfigError } from './load-config.js';
import { readRedisSecrets, type RedisSecrets } from './redis-secrets.js';

/**
 * Variables both services read. They live together because the api and the analyzer must agree
 * on them: the same Redis, the same key prefix, the same window.
 */
export const sharedEnv = {
  REDIS_URL: { type: 'string', pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' },
  /** A file holding the Redis password (a mounted Secret); it replaces the one in REDIS_URL. */
  REDIS_PASSWORD_FILE: { type: 'string' },
  /** A PEM file with the CA that signed the Redis server's certificate (rediss:// only). */
  REDIS_TLS_CA_FILE: { type: 'string' },
  KEY_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$', default: 'metrics' },
  LOG_LEVEL: {
    type: 'string',
    enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
  },
  WINDOW_SIZE: { type: 'integer', minimum: 1, maximum: 10000, default: 50 },
  SHUTDOWN_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 10000 },
} as const;

/** Shared values in their typed form; the Redis secrets are present only when their files are set. */
export interface SharedConfig extends RedisSecrets {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly logLevel: string;
  readonly windowSize: number;
  readonly shutdownTimeoutMs: number;
}

/** Maps the shared variables; reads the Redis secret files, throwing ConfigError if one is unusable. */
export function toSharedConfig(v: Record<string, unknown>): SharedConfig {
  const redisUrl = v.REDIS_URL as string;
  const { secrets, problems } = readRedisSecrets(
    redisUrl,
    v.REDIS_PASSWORD_FILE as string | undefined,
    v.REDIS_TLS_CA_FILE as string | undefined,
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    redisUrl,
    ...secrets,
    keyPrefix: v.KEY_PREFIX as string,
    logLevel: v.LOG_LEVEL as string,
    windowSize: v.WINDOW_SIZE as number,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS as number,
  };
}
