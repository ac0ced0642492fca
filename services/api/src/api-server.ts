import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@pipeline/logger';
import { closeRedis, createRedis, seriesKeys, waitUntilReady } from '@pipeline/redis';
import { createAccessPolicy } from './access.js';
import { createApp } from './app.js';
import { BacklogMonitor } from './backlog-monitor.js';
import type { ApiConfig } from './config.js';
import { EventStore } from './event-store.js';
import { createIngestHandler } from './ingest-handler.js';
import { createApiMetrics } from './metrics.js';

export interface ApiServer {
  readonly server: Server;
  /** Listens on PORT; resolves with the bound port. */
  start(): Promise<{ port: number }>;
  /** Stops accepting, lets in-flight requests finish, closes Redis. Idempotent. */
  stop(): Promise<void>;
}

const DRAIN_POLL_MS = 50;
const TIMEOUT_CHECK_MS = 1000;
const STARTUP_REDIS_WAIT_MS = 3000;

export function createApiServer(config: ApiConfig, log: Logger): ApiServer {
  // Fail fast rather than queue while Redis is away: a client gets 503 at once, never a hung request.
  const redis = createRedis(config, {
    name: 'api',
    log: log.child({ module: 'redis' }),
    commandTimeoutMs: config.redisCommandTimeoutMs,
    offlineQueue: false,
    coalesceWrites: true,
  });
  const store = new EventStore(redis, seriesKeys(config.keyPrefix), config.windowSize);
  const backlog = new BacklogMonitor(store, config.maxBacklog, config.backlogCheckMs, log);
  const metrics = createApiMetrics(store, backlog, config.maxBacklog);
  const access = createAccessPolicy({ ingest: config.ingestTokens, read: config.readTokens });
  let serving = true;
  const app = createApp({ store, metrics, log, access, isServing: () => serving });
  const ingest = createIngestHandler({
    store,
    backlog,
    metrics,
    log,
    access,
    maxBatch: config.maxBatch,
    maxBodyBytes: config.maxBodyBytes,
    idempotencyTtlSeconds: config.idempotencyTtlSeconds,
  });

  // Node enforces headersTimeout/requestTimeout on a timer; its default 30 s period would let a
  // slow client outlive REQUEST_TIMEOUT_MS by up to 30 s.
  const server = createServer({ connectionsCheckingInterval: TIMEOUT_CHECK_MS }, (req, res) => {
    if (!serving) res.setHeader('connection', 'close');
    const url = req.url ?? '';
    if (req.method === 'POST' && (url === '/ingest' || url.startsWith('/ingest?'))) ingest(req, res);
    else app(req, res);
  });
  server.headersTimeout = config.headersTimeoutMs;
  server.requestTimeout = config.requestTimeoutMs;
  server.keepAliveTimeout = config.keepAliveTimeoutMs;

  let stopped: Promise<void> | undefined;
  return {
    server,
    async start() {
      if (!(await waitUntilReady(redis, STARTUP_REDIS_WAIT_MS))) {
        log.warn({ waitedMs: STARTUP_REDIS_WAIT_MS }, 'redis is not answering yet; serving 503 until it does');
      }
      // Check at once on every (re)connection: a Redis that lost its data gets its group back.
      redis.on('ready', () => void backlog.check().catch(() => undefined));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, () => resolve());
      });
      backlog.start();
      return { port: (server.address() as AddressInfo).port };
    },
    stop() {
      stopped ??= (async () => {
        serving = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive connections go as soon as they are idle; in-flight requests finish first.
        const drain = setInterval(() => server.closeIdleConnections(), DRAIN_POLL_MS);
        await closed;
        clearInterval(drain);
        backlog.stop();
        await closeRedis(redis);
        log.info('api stopped');
      })();
      return stopped;
    },
  };
}
