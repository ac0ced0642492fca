// Starts what a benchmark measures: its own redis-server, the built api and analyzers, the
// reference servers; all bound to 127.0.0.1 on free ports, and stopped by the runner.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, serviceNodeFlags, startRedisServer, startService, type RedisServerProcess, type ServiceProcess } from '@pipeline/testkit';

const fromHere = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));

export const API_MAIN = fromHere('../../../services/api/dist/main.js');
export const ANALYZER_MAIN = fromHere('../../../services/analyzer/dist/main.js');
/** The Node flags the services run with everywhere (their package.json start scripts). */
const API_NODE_FLAGS = serviceNodeFlags(fromHere('../../../services/api'));
const ANALYZER_NODE_FLAGS = serviceNodeFlags(fromHere('../../../services/analyzer'));
export const REFERENCE_SERVERS = {
  ceiling: fromHere('./reference-servers/ceiling-server.js'),
  express: fromHere('./reference-servers/express-server.js'),
  null: fromHere('./reference-servers/null-server.js'),
} as const;
export type ReferenceServer = keyof typeof REFERENCE_SERVERS;

/** The Node binary the services run with (null: this process's own); see useServiceNode. */
let serviceNode: string | null = null;

/**
 * Runs every service started from now on (api, analyzers, reference servers) with `node` (null:
 * this process's own binary) and returns its version, e.g. `v24.21.0`; throws a readable error if
 * it does not run.
 */
export function useServiceNode(node: string | null): string {
  const binary = node ?? process.execPath;
  let version: string;
  try {
    version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  } catch (err) {
    throw new Error(`--node ${binary}: it does not run (${(err as Error).message.split('\n')[0]})`);
  }
  serviceNode = node;
  return version;
}

/** The window size the benchmark runs the services with (and checks the drain against). */
export const WINDOW_SIZE = 50;

/** A started HTTP service and its base URL. */
export interface HttpService extends ServiceProcess {
  readonly url: string;
}

/** Throws a readable error when the services were not built. */
export function assertBuilt(): void {
  const missing = [API_MAIN, ANALYZER_MAIN, ...Object.values(REFERENCE_SERVERS)].filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`not built: ${missing.join(', ')} — run \`pnpm build\` first`);
}

/** A redis-server of our own on a free port (never the shared one on 6379), no persistence. */
export function startBenchRedis(): Promise<RedisServerProcess> {
  return startRedisServer();
}

export async function startApi(redisUrl: string, keyPrefix: string, env: Record<string, string> = {}): Promise<HttpService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = await startService({
    script: API_MAIN,
    nodeFlags: API_NODE_FLAGS,
    node: serviceNode ?? undefined,
    name: 'api',
    env: {
      REDIS_URL: redisUrl,
      KEY_PREFIX: keyPrefix,
      LOG_LEVEL: 'warn',
      WINDOW_SIZE: String(WINDOW_SIZE),
      // Ingest scenarios run without analyzers: no backpressure, the stream simply grows.
      MAX_BACKLOG: String(1e12),
      ...env,
      PORT: String(port),
    },
    readyUrl: `${url}/ready`,
  });
  return Object.assign(service, { url });
}

export async function startAnalyzer(redisUrl: string, keyPrefix: string, name: string, env: Record<string, string> = {}): Promise<HttpService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = await startService({
    script: ANALYZER_MAIN,
    nodeFlags: ANALYZER_NODE_FLAGS,
    node: serviceNode ?? undefined,
    name,
    env: {
      REDIS_URL: redisUrl,
      KEY_PREFIX: keyPrefix,
      LOG_LEVEL: 'warn',
      WINDOW_SIZE: String(WINDOW_SIZE),
      CONSUMER_NAME: name,
      ...env,
      METRICS_PORT: String(port),
    },
    readyUrl: `${url}/ready`,
  });
  return Object.assign(service, { url });
}

export async function startReferenceServer(kind: ReferenceServer, env: Record<string, string> = {}): Promise<HttpService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = await startService({
    script: REFERENCE_SERVERS[kind],
    node: serviceNode ?? undefined,
    name: kind,
    env: { ...env, PORT: String(port) },
    readyUrl: `${url}/health`,
  });
  return Object.assign(service, { url });
}
