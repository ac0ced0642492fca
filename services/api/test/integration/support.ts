import { Redis } from 'ioredis';
import { silentLogger, type Logger } from '@pipeline/logger';
import { seriesKeys, type SeriesKeys } from '@pipeline/redis';
import { createApiServer, type ApiServer } from '../../src/api-server.js';
import { loadApiConfig, type ApiConfig } from '../../src/config.js';

/** One api started in-process on a free port against a real Redis. */
export interface RunningApi {
  readonly api: ApiServer;
  readonly config: Readonly<ApiConfig>;
  readonly url: string;
  readonly keys: SeriesKeys;
  stop(): Promise<void>;
}

/** Starts an api with PORT 0, a silent logger (unless one is given) and the given environment on top. */
export async function startApi(env: { REDIS_URL: string; KEY_PREFIX: string } & Record<string, string>, log: Logger = silentLogger()): Promise<RunningApi> {
  const config = loadApiConfig({ PORT: '0', LOG_LEVEL: 'silent', ...env });
  const api = createApiServer(config, log);
  const { port } = await api.start();
  return { api, config, url: `http://127.0.0.1:${port}`, keys: seriesKeys(config.keyPrefix), stop: () => api.stop() };
}

/** A plain ioredis client for inspecting what the api wrote. */
export function inspector(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** Whether the api's /ready says the consumer group exists (the backlog monitor creates it). */
export async function isReady(baseUrl: string): Promise<boolean> {
  const res = await fetch(`${baseUrl}/ready`);
  await res.arrayBuffer();
  return res.status === 200;
}

/** The value of one unlabelled (or exactly labelled) sample in a Prometheus text exposition. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

export async function scrape(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`);
  return res.text();
}
