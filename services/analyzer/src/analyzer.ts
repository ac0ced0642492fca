import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '@pipeline/logger';
import { closeRedis, createRedis, seriesKeys } from '@pipeline/redis';
import { BatchProcessor } from './batch-processor.js';
import { Claimer } from './claimer.js';
import type { AnalyzerConfig } from './config.js';
import { ConsumerLoop } from './consumer-loop.js';
import { Maintenance } from './maintenance.js';
import { createAnalyzerMetrics } from './metrics.js';
import { createOpsServer } from './ops-server.js';
import { StreamStore } from './stream-store.js';

const MAINTENANCE_INTERVAL_MS = 1000;
const READY_TIMEOUT_MS = 1000;
/** Beyond BLOCK_MS, how long stop() waits for the batch in hand before closing regardless. */
const DRAIN_GRACE_MS = 3000;

export interface Analyzer {
  /** Connects, joins the group and starts consuming; resolves with the ops port. */
  start(): Promise<{ metricsPort: number }>;
  /** Stops reading, commits the batch in hand, closes connections. Idempotent. */
  stop(): Promise<void>;
}

export function createAnalyzer(config: AnalyzerConfig, rootLog: Logger): Analyzer {
  const log = rootLog.child({ consumer: config.consumerName });
  const keys = seriesKeys(config.keyPrefix);
  const connection = (name: string) => createRedis(config, { name: `analyzer-${name}:${config.consumerName}`, log });
  const commands = connection('commands');
  const blocking = connection('blocking');
  const metrics = createAnalyzerMetrics();
  const store = new StreamStore(commands, blocking, keys, config.consumerName, {
    anomalies: config.anomaliesRetain,
    deadLetters: config.deadLetterRetain,
  });
  const statsConfig = { windowSize: config.windowSize, zThreshold: config.zThreshold, minSamples: config.minSamples };
  const processor = new BatchProcessor(store, statsConfig, metrics, log);
  const claimer = new Claimer(store, processor, config, metrics, log);
  const loop = new ConsumerLoop(
    store,
    processor,
    claimer,
    {
      batchSize: config.batchSize,
      blockMs: config.blockMs,
      claimIntervalMs: Math.max(100, Math.min(config.claimIdleMs / 2, 5000)),
      windowSize: config.windowSize,
    },
    metrics,
    log,
  );
  const maintenance = new Maintenance(store, config.windowSize, metrics, log);
  let stopping = false;
  const ready = async () => {
    if (stopping) return { ready: false, reason: 'shutting down' };
    const info = await withTimeout(store.groupInfo(), READY_TIMEOUT_MS, 'redis did not answer');
    return info ? { ready: true } : { ready: false, reason: 'consumer group missing' };
  };
  const ops = createOpsServer(metrics.register, ready);
  let maintenanceTimer: NodeJS.Timeout | undefined;
  let stopped: Promise<void> | undefined;

  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        ops.once('error', reject);
        ops.listen(config.metricsPort, () => resolve());
      });
      const created = await store.ensureGroup();
      log.info({ group: 'analyzer', stream: keys.events, created }, 'joined consumer group');
      loop.start();
      maintenanceTimer = setInterval(() => {
        maintenance.run().catch((err: unknown) => {
          metrics.errors.inc({ stage: 'maintenance' });
          log.warn({ err }, 'maintenance failed');
        });
      }, MAINTENANCE_INTERVAL_MS);
      return { metricsPort: (ops.address() as AddressInfo).port };
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(maintenanceTimer);
        // With Redis away, a read or commit may never return: the batch in hand then stays
        // pending for another replica to claim, which is safe (the commit is exactly-once).
        const timer = new AbortController();
        const drained = await Promise.race([
          loop.stop().then(() => true),
          delay(config.blockMs + DRAIN_GRACE_MS, false, { signal: timer.signal }).catch(() => false),
        ]);
        timer.abort();
        if (!drained) log.warn('the batch in hand did not finish in time; it stays pending for another replica');
        await new Promise<void>((resolve) => ops.close(() => resolve()));
        await Promise.all([closeRedis(commands), closeRedis(blocking)]);
        log.info('analyzer stopped');
      })();
      return stopped;
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
