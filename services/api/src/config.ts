import { loadConfig, sharedEnv, toSharedConfig, type Env, type SharedConfig } from '@pipeline/config';
import { splitTokens, tokenProblems } from './tokens.js';

/** The variables the api reads (a contract: the Kubernetes ConfigMap is checked against it). */
export const apiEnv = {
  type: 'object',
  properties: {
    ...sharedEnv,
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
    MAX_BATCH: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
    MAX_BACKLOG: { type: 'integer', minimum: 1, maximum: 1e12, default: 1000000 },
    MAX_BODY_BYTES: { type: 'integer', minimum: 256, maximum: 104857600, default: 1048576 },
    REDIS_COMMAND_TIMEOUT_MS: { type: 'integer', minimum: 10, maximum: 60000, default: 1000 },
    BACKLOG_CHECK_MS: { type: 'integer', minimum: 50, maximum: 1000, default: 500 },
    HEADERS_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 10000 },
    REQUEST_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 30000 },
    KEEP_ALIVE_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 5000 },
    // How long an Idempotency-Key's record (fingerprint + 202 body) is kept: a resend later than
    // this is stored again. An hour outlasts a Redis restart, even a rescheduled pod's, that a
    // client retries through; a day would hold 24x the memory (about 290 B per keyed request of
    // one metric, 21 B per event in a batch of 1000: README, Idempotent retries). At most 7 days.
    IDEMPOTENCY_TTL_SECONDS: { type: 'integer', minimum: 1, maximum: 604800, default: 3600 },
    // Comma-separated bearer tokens; unset or empty leaves the routes open. writeOnly: a config
    // error never quotes the value. Each token is checked in crossChecks (tokens.ts).
    INGEST_TOKENS: { type: 'string', writeOnly: true },
    READ_TOKENS: { type: 'string', writeOnly: true },
  },
} as const;

export interface ApiConfig extends SharedConfig {
  readonly port: number;
  readonly maxBatch: number;
  readonly maxBacklog: number;
  readonly maxBodyBytes: number;
  readonly redisCommandTimeoutMs: number;
  readonly backlogCheckMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Lifetime of an Idempotency-Key's record in Redis. */
  readonly idempotencyTtlSeconds: number;
  /** Tokens that may POST /ingest; empty: the route is open. */
  readonly ingestTokens: readonly string[];
  /** Tokens that may GET /stats and /anomalies; empty: those routes are open. */
  readonly readTokens: readonly string[];
}

/** Reads the api's environment once; throws ConfigError naming each bad variable. */
export function loadApiConfig(env: Env): Readonly<ApiConfig> {
  return loadConfig(
    apiEnv,
    env,
    (v) => ({
      ...toSharedConfig(v),
      port: v.PORT as number,
      maxBatch: v.MAX_BATCH as number,
      maxBacklog: v.MAX_BACKLOG as number,
      maxBodyBytes: v.MAX_BODY_BYTES as number,
      redisCommandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS as number,
      backlogCheckMs: v.BACKLOG_CHECK_MS as number,
      headersTimeoutMs: v.HEADERS_TIMEOUT_MS as number,
      requestTimeoutMs: v.REQUEST_TIMEOUT_MS as number,
      keepAliveTimeoutMs: v.KEEP_ALIVE_TIMEOUT_MS as number,
      idempotencyTtlSeconds: v.IDEMPOTENCY_TTL_SECONDS as number,
      ingestTokens: splitTokens(v.INGEST_TOKENS as string | undefined),
      readTokens: splitTokens(v.READ_TOKENS as string | undefined),
    }),
    (c) => [
      ...(c.headersTimeoutMs > c.requestTimeoutMs
        ? [`HEADERS_TIMEOUT_MS must be <= REQUEST_TIMEOUT_MS (got ${c.headersTimeoutMs} > ${c.requestTimeoutMs})`]
        : []),
      ...tokenProblems(c.ingestTokens, c.readTokens),
    ],
  );
}
