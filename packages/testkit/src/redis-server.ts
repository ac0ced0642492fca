import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { killOnExit, onProcessExit } from './exit-guard.js';
import { freePort } from './free-port.js';
import { OutputBuffer } from './output-buffer.js';
import { sleep } from './wait.js';

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Port to listen on (127.0.0.1 only); default: a free port. Never use 6379 on shared machines. */
  port?: number;
  /** Enable the append-only file, so data survives a kill + {@link RedisServerProcess.start}. Default false. */
  appendonly?: boolean;
  /** AOF fsync policy; default Redis' own (`everysec`). Use `always` to survive SIGKILL without loss. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Working dir (AOF lives here). Default: a fresh temp dir, removed by `cleanup()`. A given dir is never removed. */
  dir?: string;
  /** More `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. */
  extraArgs?: string[];
}

/** A `redis-server` child process started by {@link startRedisServer}. */
export interface RedisServerProcess {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The server's working dir (holds the AOF). */
  readonly dir: string;
  /** PID of the current (or, when stopped, the last) server process. */
  readonly pid: number;
  /** Whether a server process is currently running. */
  readonly running: boolean;
  /** The last ~200 lines the server printed (across restarts), for assertion messages. */
  output(): string;
  /** SIGTERM and wait for the exit. Keeps the dir, so `start()` brings the data back (with AOF). Idempotent. */
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL — a crash) and waits for the exit. Must be a terminating signal. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the SAME port and dir and waits until it answers PING. No-op if running. */
  start(): Promise<void>;
  /** `stop()`, then removes the dir if this module created it. Call once when done. Idempotent. */
  cleanup(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

/**
 * Starts the `redis-server` binary from PATH for a test run: bound to 127.0.0.1 on a free port,
 * no RDB snapshots (`--save ''`), in its own temp dir, and resolves once it answers PING
 * (timeout 10 s; the error includes the server's output). The child is SIGKILLed if the test
 * process exits while it still runs; call `cleanup()` when done to also remove the temp dir.
 */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerProcess> {
  const binary = findRedisServerBinary();
  const port = opts.port ?? (await freePort());
  let dir = opts.dir;
  if (dir === undefined) {
    dir = await mkdtemp(join(tmpdir(), 'testkit-redis-'));
  }
  const ownsDir = opts.dir === undefined;
  const server = new RedisServer(binary, port, dir, ownsDir, buildArgs(port, dir, opts));
  try {
    await server.start();
  } catch (err) {
    await server.cleanup().catch(() => undefined);
    throw err;
  }
  return server;
}

function buildArgs(port: number, dir: string, opts: RedisServerOptions): string[] {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--dir', dir,
    '--daemonize', 'no',
    '--logfile', '',
    '--appendonly', opts.appendonly ? 'yes' : 'no',
  ];
  if (opts.appendfsync !== undefined) args.push('--appendfsync', opts.appendfsync);
  if (opts.extraArgs) args.push(...opts.extraArgs);
  return args;
}

/** Resolves `redis-server` on PATH, or throws an error saying how to install it. */
function findRedisServerBinary(): string {
  for (const entry of (process.env['PATH'] ?? '').split(delimiter)) {
    if (entry === '') continue;
    const candidate = join(entry, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    'redis-server binary not found on PATH. Integration tests need a Redis: set REDIS_URL, ' +
      'run a Docker engine (testcontainers), or install the binary (apt-get install redis-server).',
  );
}

class RedisServer implements RedisServerProcess {
  readonly url: string;
  readonly #binary: string;
  readonly #args: string[];
  readonly #ownsDir: boolean;
  readonly #output = new OutputBuffer(200);
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #starting: Promise<void> | undefined;
  #pid = 0;
  #cleaned = false;
  #unregisterDirHook: (() => void) | undefined;

  constructor(
    binary: string,
    readonly port: number,
    readonly dir: string,
    ownsDir: boolean,
    args: string[],
  ) {
    this.#binary = binary;
    this.#args = args;
    this.#ownsDir = ownsDir;
    this.url = `redis://127.0.0.1:${port}`;
    if (ownsDir) {
      this.#unregisterDirHook = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
    }
  }

  get pid(): number {
    return this.#pid;
  }

  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  output(): string {
    return this.#output.text();
  }

  start(): Promise<void> {
    if (this.#cleaned) return Promise.reject(new Error(`redis-server ${this.url}: already cleaned up`));
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    if (this.running) return;
    const child = spawn(this.#binary, this.#args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#pid = child.pid ?? 0;
    killOnExit(child);
    child.stdout?.on('data', (chunk: Buffer) => this.#output.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.#output.write(chunk));
    let exitInfo: string | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = `exited with code ${code} signal ${signal}`;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `failed to spawn: ${err.message}`;
        resolve();
      });
    });

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exitInfo !== undefined) {
        throw new Error(`redis-server on port ${this.port} ${exitInfo} before answering PING.\n${this.output()}`);
      }
      if (await pingOwnServer(this.port, this.#pid)) return;
      if (Date.now() >= deadline) {
        child.kill('SIGKILL');
        await this.#exited;
        throw new Error(
          `redis-server on port ${this.port} did not answer PING within ${READY_TIMEOUT_MS} ms.\n${this.output()}`,
        );
      }
      await sleep(25);
    }
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.#starting?.catch(() => undefined);
    const child = this.#child;
    if (child && this.running) child.kill(signal);
    await this.#exited;
  }

  async cleanup(): Promise<void> {
    if (this.#cleaned) return;
    await this.stop();
    this.#cleaned = true;
    if (this.#ownsDir) {
      await rm(this.dir, { recursive: true, force: true });
      this.#unregisterDirHook?.();
    }
  }
}

/**
 * PING plus `INFO server` over a raw socket. True only on `+PONG` (a server still loading its AOF
 * answers `-LOADING`) from the process we spawned: if the port was taken by another Redis, our
 * child fails to bind and exits, but that other server would answer PING — never hand it out.
 */
function pingOwnServer(port: number, pid: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const match = /\r\nprocess_id:(\d+)\r\n/.exec(reply);
      if (match) done(reply.startsWith('+PONG\r\n') && Number(match[1]) === pid);
    });
    socket.once('end', () => done(false));
  });
}
