// Child processes with readable logs, and stopping them by PID.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { prettyFactory } from 'pino-pretty';

/**
 * A line formatter for one service: pino JSON becomes `HH:MM:ss.l LEVEL: [name] msg …`,
 * anything else (e.g. a config error) passes through as-is.
 * prettyFactory is the synchronous core of `pino-pretty`'s stream, so lines keep their order
 * and nothing is left buffered when we exit.
 * @param {string} name
 * @returns {(line: string) => string}
 */
function prettifier(name) {
  return prettyFactory({
    colorize: Boolean(process.stdout.isTTY),
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name,req,res,responseTime', // request logs fit on one line instead
    messageFormat: (log, messageKey) => `[${name}] ${log[messageKey] ?? ''}${httpSummary(log)}`,
  });
}

/**
 * ` GET /stats → 200 (2 ms)` for pino-http's request logs, '' for other logs.
 * @param {Record<string, any>} log
 */
function httpSummary(log) {
  if (!log.req) return '';
  const status = log.res ? ` → ${log.res.statusCode}` : '';
  const time = log.responseTime === undefined ? '' : ` (${log.responseTime} ms)`;
  return ` ${log.req.method} ${log.req.url}${status}${time}`;
}

/**
 * Writes each line of `stream` to our stdout through `format`.
 * @param {import('node:stream').Readable} stream
 * @param {(line: string) => string} format
 */
function pipeLines(stream, format) {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    process.stdout.write(format(line));
  });
}

/** @type {WeakMap<import('node:child_process').ChildProcess, Promise<void>>} */
const closed = new WeakMap();

/**
 * spawn() in the child's own process group, so a terminal Ctrl-C reaches only us and we decide
 * the stopping order. Remembers when the child has exited and its output has been read.
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} options
 */
export function spawnChild(command, args, options) {
  const child = spawn(command, args, { ...options, detached: true });
  closed.set(child, new Promise((resolve) => child.once('close', () => resolve())));
  return child;
}

/**
 * Runs `node [flags] <script>` as service `name`, its stdout and stderr prettified with a `[name]` prefix.
 * @param {string} name
 * @param {string} script absolute path of the service's dist/main.js
 * @param {NodeJS.ProcessEnv} env
 * @param {readonly string[]} [nodeFlags]
 */
export function startService(name, script, env, nodeFlags = []) {
  const child = spawnChild(process.execPath, [...nodeFlags, script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = /** @type {import('node:stream').Readable} */ (child.stdout);
  const stderr = /** @type {import('node:stream').Readable} */ (child.stderr);
  const format = prettifier(name);
  pipeLines(stdout, format);
  pipeLines(stderr, format);
  return child;
}

/**
 * Whether `child` is still running.
 * @param {import('node:child_process').ChildProcess} child
 */
export function isRunning(child) {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * Sends SIGTERM to `child` (by PID), SIGKILL after `graceMs`; resolves once it has exited
 * and all its output has been printed.
 * @param {import('node:child_process').ChildProcess} child spawned by spawnChild
 * @param {number} graceMs
 */
export async function stopChild(child, graceMs) {
  if (isRunning(child)) {
    const killer = setTimeout(() => {
      process.stderr.write(`pid ${child.pid} still running after ${graceMs} ms; sending SIGKILL\n`);
      child.kill('SIGKILL');
    }, graceMs);
    child.once('exit', () => clearTimeout(killer));
    child.kill('SIGTERM');
  }
  await closed.get(child);
}
