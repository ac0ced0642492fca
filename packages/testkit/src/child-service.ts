import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { killOnExit } from './exit-guard.js';
import { OutputBuffer } from './output-buffer.js';
import { sleep } from './wait.js';

/** Options of {@link startService}. */
export interface StartServiceOptions {
  /** Absolute path of the built entry point, e.g. `.../services/api/dist/main.js`. */
  script: string;
  /** The service's whole configuration; only PATH and HOME are inherited from the test process. */
  env: Record<string, string>;
  /** Label for output lines and error messages, e.g. `api-1`. */
  name: string;
  /** If set, poll this URL until it answers 200 (timeout 15 s) before resolving. */
  readyUrl?: string;
  /** Node flags before the script (see serviceNodeFlags). */
  nodeFlags?: readonly string[];
  /** The Node binary to run it with (default: the one running this process). */
  node?: string;
}

/** How a child process ended. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

/** A service process started by {@link startService}. */
export interface ServiceProcess {
  readonly pid: number;
  readonly name: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** The last ~200 lines of stdout/stderr (stderr lines prefixed `[stderr] `), for assertion messages. */
  output(): string;
  /** Sends `signal`; returns false if the process is gone. Does not wait. */
  kill(signal: NodeJS.Signals): boolean;
  /** SIGTERM, wait; SIGKILL after `timeoutMs` (default 10000). Resolves to the exit info. Idempotent. */
  stop(timeoutMs?: number): Promise<ExitInfo>;
  /** SIGSTOP: freeze the process (it keeps its sockets, answers nothing). */
  pause(): void;
  /** SIGCONT: unfreeze a paused process. */
  resume(): void;
}

const READY_TIMEOUT_MS = 15_000;

/**
 * Runs `node <script>` as a child with exactly `{ PATH, HOME, ...opts.env }` as its environment
 * (nothing else of the test process leaks in, notably not `REDIS_URL`). Output is kept in a bounded
 * buffer and echoed to stderr with a `[name]` prefix when `TEST_SERVICE_LOGS` is set. With
 * `readyUrl`, resolves only once that URL answers 200; if the child exits first or 15 s pass, it is
 * killed and the error carries its output. Leftover children are SIGKILLed when the test process exits.
 */
export async function startService(opts: StartServiceOptions): Promise<ServiceProcess> {
  try {
    await access(opts.script);
  } catch {
    throw new Error(`startService(${opts.name}): ${opts.script} does not exist — run \`pnpm build\` first.`);
  }
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME'] as const) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, opts.env);

  const child = spawn(opts.node ?? process.execPath, [...(opts.nodeFlags ?? []), opts.script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const buffer = new OutputBuffer(200);
  const echo = Boolean(process.env['TEST_SERVICE_LOGS']);
  const capture = (prefix: string) => (chunk: Buffer) => {
    const lines = buffer.write(chunk, prefix);
    if (echo) for (const line of lines) process.stderr.write(`[${opts.name}] ${line}\n`);
  };
  child.stdout?.on('data', capture(''));
  child.stderr?.on('data', capture('[stderr] '));

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', (err) => {
      buffer.write(`[testkit] spawn failed: ${err.message}\n`);
      exitInfo = { code: null, signal: null };
      resolve(exitInfo);
    });
  });

  let paused = false;
  let stopping: Promise<ExitInfo> | undefined;
  const alive = (): boolean => exitInfo === undefined && child.exitCode === null && child.signalCode === null;
  const send = (signal: NodeJS.Signals): boolean => (alive() ? child.kill(signal) : false);

  const service: ServiceProcess = {
    pid: child.pid ?? 0,
    name: opts.name,
    exited,
    output: () => buffer.text(),
    kill: send,
    pause() {
      if (send('SIGSTOP')) paused = true;
    },
    resume() {
      if (send('SIGCONT')) paused = false;
    },
    stop(timeoutMs = 10_000) {
      stopping ??= (async () => {
        if (!alive()) return exited;
        send('SIGTERM');
        // A stopped process keeps SIGTERM pending until continued.
        if (paused) service.resume();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        const first = await Promise.race([exited, timeout]);
        clearTimeout(timer);
        if (first === 'timeout') {
          buffer.write(`[testkit] ${opts.name} ignored SIGTERM for ${timeoutMs} ms, sending SIGKILL\n`);
          send('SIGKILL');
        }
        return exited;
      })();
      return stopping;
    },
  };

  if (opts.readyUrl !== undefined) {
    try {
      await waitUntilReady(opts.readyUrl, () => exitInfo);
    } catch (err) {
      await service.stop(2000);
      throw new Error(`${opts.name}: ${(err as Error).message}\n--- output of ${opts.name} ---\n${buffer.text()}`);
    }
  }
  return service;
}

async function waitUntilReady(url: string, exitInfo: () => ExitInfo | undefined): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer yet';
  for (;;) {
    const exit = exitInfo();
    if (exit) throw new Error(`exited (code ${exit.code}, signal ${exit.signal}) before ${url} answered 200`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`${url} did not answer 200 within ${READY_TIMEOUT_MS} ms (last: ${last})`);
    await sleep(50);
  }
}
