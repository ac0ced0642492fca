/**
 * Variables both services read. They live together because the api and the analyzer must agree
 * on them: the same Redis, the same key prefix, the same window.
 */
export const sharedEnv = {
  REDIS_URL: { type: 'string', pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' },
  KEY_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$', default: 'metrics' },
  LOG_LEVEL: {
    type: 'string',
    enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
  },
  WINDOW_SIZE: { type: 'integer', minimum: 1, maximum: 10000, default: 50 },
  SHUTDOWN_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 10000 },
} as const;

/** Shared values in their typed form. */
export interface SharedConfig {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly logLevel: string;
  readonly windowSize: number;
  readonly shutdownTimeoutMs: number;
}

export function toSharedConfig(v: Record<string, unknown>): SharedConfig {
  return {
    redisUrl: v.REDIS_URL as string,
    keyPrefix: v.KEY_PREFIX as string,
    logLevel: v.LOG_LEVEL as string,
    windowSize: v.WINDOW_SIZE as number,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS as number,
  };
}
