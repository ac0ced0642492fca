// A Node child process of ours (fork) that reports over IPC; SIGKILLed if we exit before it does.
import { fork, type ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let hooked = false;

export interface IpcChild {
  readonly child: ChildProcess;
  /** The next message that satisfies `accept`; rejects if the child exits first. */
  next<T>(accept: (message: unknown) => message is T, timeoutMs: number): Promise<T>;
  send(message: string): void;
  /** Resolves when it has exited; SIGKILLs it after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function forkChild(script: string, config: unknown): IpcChild {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  }
  const child = fork(script, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  return {
    child,
    next<T>(accept: (message: unknown) => message is T, timeoutMs: number) {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`${script}: no report within ${timeoutMs} ms`)), timeoutMs);
        const onMessage = (message: unknown) => {
          if (accept(message)) done(undefined, message);
        };
        const onExit = (code: number | null) => done(new Error(`${script} exited (code ${code}) before reporting`));
        function done(err?: Error, value?: T) {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (err) reject(err);
          else resolve(value!);
        }
        child.on('message', onMessage);
        child.once('exit', onExit);
      });
    },
    send(message) {
      if (child.connected) child.send(message);
    },
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      if (!child.connected) child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}
