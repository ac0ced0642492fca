import { hostname } from 'node:os';
import { loadConfig, sharedEnv, toSharedConfig, type Env, type SharedConfig } from '@pipeline/config';

/** The variables the analyzer reads (a contract: the Kubernetes ConfigMap is checked against it). */
export const analyzerEnv = {
  type: 'object',
  properties: {
    ...sharedEnv,
    METRICS_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 9091 },
    Z_THRESHOLD: { type: 'number', exclusiveMinimum: 0, maximum: 1000, default: 2 },
    MIN_SAMPLES: { type: 'integer', minimum: 1, maximum: 10000, default: 10 },
    BATCH_SIZE: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
    BLOCK_MS: { type: 'integer', minimum: 1, maximum: 60000, default: 1000 },
    CLAIM_IDLE_MS: { type: 'integer', minimum: 10, maximum: 86400000, default: 30000 },
    MAX_DELIVERIES: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
    ANOMALIES_RETAIN: { type: 'integer', minimum: 1, maximum: 10000000, default: 10000 },
    DEAD_LETTER_RETAIN: { type: 'integer', minimum: 1, maximum: 10000000, default: 10000 },
    CONSUMER_NAME: { type: 'string', pattern: '^[A-Za-z0-9_.:@-]{1,128}$' },
  },
} as const;

export interface AnalyzerConfig extends SharedConfig {
  readonly metricsPort: number;
  readonly zThreshold: number;
  readonly minSamples: number;
  readonly batchSize: number;
  readonly blockMs: number;
  readonly claimIdleMs: number;
  readonly maxDeliveries: number;
  readonly anomaliesRetain: number;
  readonly deadLetterRetain: number;
  readonly consumerName: string;
}

/** Reads the analyzer's environment once; throws ConfigError naming each bad variable. */
export function loadAnalyzerConfig(env: Env): Readonly<AnalyzerConfig> {
  return loadConfig(
    analyzerEnv,
    env,
    (v) => ({
      ...toSharedConfig(v),
      metricsPort: v.METRICS_PORT as number,
      zThreshold: v.Z_THRESHOLD as number,
      minSamples: v.MIN_SAMPLES as number,
      batchSize: v.BATCH_SIZE as number,
      blockMs: v.BLOCK_MS as number,
      claimIdleMs: v.CLAIM_IDLE_MS as number,
      maxDeliveries: v.MAX_DELIVERIES as number,
      anomaliesRetain: v.ANOMALIES_RETAIN as number,
      deadLetterRetain: v.DEAD_LETTER_RETAIN as number,
      consumerName: (v.CONSUMER_NAME as string | undefined) ?? `${hostname()}-${process.pid}`,
    }),
    (c) =>
      c.minSamples > c.windowSize
        ? [`MIN_SAMPLES must be <= WINDOW_SIZE (got ${c.minSamples} > ${c.windowSize}): no event could ever be judged`]
        : [],
  );
}
