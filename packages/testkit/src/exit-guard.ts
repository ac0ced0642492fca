import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();
const exitHooks = new Set<() => void>();
let installed = false;

/**
 * Registers a child process to be SIGKILLed if the test process exits while it still runs
 * (a forgotten `stop()`, a crashed test run). Unregisters itself when the child exits.
 */
export function killOnExit(child: ChildProcess): void {
  install();
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * Registers a synchronous hook to run at process exit, after all tracked children were
 * SIGKILLed (e.g. removing a temp dir). Returns a function that unregisters it.
 */
export function onProcessExit(hook: () => void): () => void {
  install();
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const child of running) {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          child.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const hook of exitHooks) {
      try {
        hook();
      } catch {
        // best effort at exit
      }
    }
  });
}
