#!/usr/bin/env node
// Runs the whole pipeline locally: Redis (found or started), the api and one analyzer, with readable logs.
// Usage: `pnpm start` (builds first), or `node scripts/start-local.mjs` after `pnpm build`.
// Env: REDIS_URL (default redis://127.0.0.1:6379), PORT (api, default 8080), METRICS_PORT (analyzer, default 9091).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, startService, stopChild } from './lib/children.mjs';
import { pingError, spawnRedisServer, tryPort, waitForRedis, which } from './lib/redis.mjs';
// The flags the services run with everywhere, from their package.json start scripts (built by `pnpm build`).
import { serviceNodeFlags } from '../packages/testkit/dist/service-command.js';

const root = (/** @type {string} */ rel) => fileURLToPath(new URL(`../${rel}`, import.meta.url));
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const STOP_GRACE_MS = 10_000;
const READY_TIMEOUT_MS = 20_000;

/** @type {{ redis?: import('node:child_process').ChildProcess, services: Map<string, import('node:child_process').ChildProcess>, stopping: boolean }} */
const state = { redis: undefined, services: new Map(), stopping: false };

/** @param {string} msg */
const say = (msg) => process.stdout.write(`start-local: ${msg}\n`);

/**
 * Prints why we cannot go on, how to get a Redis, and exits 1.
 * @param {string} why
 * @returns {never}
 */
function noRedis(why) {
  process.stderr.write(`start-local: ${why}
  To get a Redis, do one of:
    sudo apt-get install redis-server     (this script then starts one for you)
    docker run -p 6379:6379 redis:7
    REDIS_URL=redis://host:port pnpm start  (use an existing one)
`);
  process.exit(1);
}

/**
 * Uses the Redis at REDIS_URL if it answers; else starts a local redis-server.
 * @returns {Promise<string>} the URL the services should use
 */
async function ensureRedis() {
  const explicit = process.env.REDIS_URL;
  const url = explicit ?? DEFAULT_REDIS_URL;
  const error = await pingError(url);
  if (!error) {
    say(`using the Redis at ${redact(url)} (it answered PING)`);
    return url;
  }
  say(`no Redis answers at ${redact(url)} (${error})`);
  const target = new URL(url);
  if (!LOCAL_HOSTS.has(target.hostname)) noRedis(`REDIS_URL points at ${target.host}, which does not answer.`);
  const bin = which('redis-server');
  if (!bin) noRedis('redis-server is not on PATH, so none can be started.');
  const wanted = Number(target.port || 6379);
  const port = (await tryPort(wanted)) ?? (explicit ? undefined : await tryPort(0));
  if (!port) noRedis(`port ${wanted} is taken by something that does not answer PING; free it or change REDIS_URL.`);
  const localUrl = explicit ? url : `redis://127.0.0.1:${port}`;
  const dir = root('.local/redis');
  say(`starting ${bin} on port ${port} (data in .local/redis)`);
  state.redis = spawnRedisServer({ bin, port, dir, password: decodeURIComponent(target.password) });
  await waitForRedis(state.redis, localUrl, `${dir}/redis.log`);
  say(`redis-server is up (pid ${state.redis.pid}) at ${redact(localUrl)}`);
  return localUrl;
}

/** @param {string} url a Redis URL, shown without its password */
function redact(url) {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * Starts the api and the analyzer, and stops everything if either exits on its own.
 * @param {NodeJS.ProcessEnv} env
 */
function startServices(env) {
  for (const name of ['api', 'analyzer']) {
    const script = root(`services/${name}/dist/main.js`);
    const child = startService(name, script, env, serviceNodeFlags(root(`services/${name}`)));
    state.services.set(name, child);
    child.once('close', (code, signal) => {
      if (state.stopping) return;
      say(`${name} exited on its own (${signal ?? `code ${code}`}); stopping the rest`);
      void shutdown(code ?? 1);
    });
  }
}

/**
 * Polls the api's /ready until it answers 200.
 * @param {number} port
 * @returns {Promise<boolean>} false on timeout or if we started stopping meanwhile
 */
async function waitReady(port) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !state.stopping) {
    const ok = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(1000) }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ok) return true;
    await sleep(250);
  }
  return false;
}

/**
 * Prints ready-to-paste commands for trying the pipeline.
 * @param {number} port
 * @param {number} metricsPort
 */
function printBanner(port, metricsPort) {
  const api = `localhost:${port}`;
  process.stdout.write(`
  ──────────────────────────────────────────────────────────────
  Pipeline is ready. Try:
    curl -s -XPOST ${api}/ingest -H 'content-type: application/json' -d '{"cpu": 55.5, "rps": 1800}'
    curl -s ${api}/stats
    curl -s ${api}/anomalies
  Metrics:  http://${api}/metrics   (api)
            http://localhost:${metricsPort}/metrics   (analyzer)
  Ctrl-C stops everything.
  ──────────────────────────────────────────────────────────────
`);
}

/**
 * Stops the services (SIGTERM, SIGKILL after 10 s), then the redis-server we started, then exits.
 * @param {number} code
 */
async function shutdown(code) {
  if (state.stopping) return;
  state.stopping = true;
  await Promise.all([...state.services.values()].map((child) => stopChild(child, STOP_GRACE_MS)));
  if (state.redis) {
    say(`stopping the redis-server it started (pid ${state.redis.pid})`);
    await stopChild(state.redis, STOP_GRACE_MS);
  }
  say('all stopped');
  process.exit(code);
}

/** Our children live in their own process groups; never leave them behind if we die. */
function killLeftoversOnExit() {
  process.on('exit', () => {
    for (const child of [...state.services.values(), state.redis]) if (child && isRunning(child)) child.kill('SIGTERM');
  });
}

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (!state.stopping) say(`${signal}: stopping the services`);
      void shutdown(0);
    });
  }
  killLeftoversOnExit();
  for (const name of ['api', 'analyzer']) {
    if (!existsSync(root(`services/${name}/dist/main.js`))) {
      process.stderr.write(`start-local: services/${name} is not built; run \`pnpm build\` (or just \`pnpm start\`).\n`);
      process.exit(1);
    }
  }
  const { PORT = '8080', METRICS_PORT = '9091' } = process.env; // the services validate them
  const port = Number(PORT);
  const metricsPort = Number(METRICS_PORT);
  const redisUrl = await ensureRedis();
  if (state.stopping) return;
  startServices({ ...process.env, REDIS_URL: redisUrl, PORT, METRICS_PORT });
  if (await waitReady(port)) printBanner(port, metricsPort);
  else if (!state.stopping) {
    say(`the api did not answer 200 on http://127.0.0.1:${port}/ready within ${READY_TIMEOUT_MS / 1000} s; stopping`);
    await shutdown(1);
  }
}

main().catch((err) => {
  process.stderr.write(`start-local: ${err instanceof Error ? err.message : err}\n`);
  void shutdown(1);
});
