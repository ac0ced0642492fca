// Everything the benchmark started, stopped in reverse order at the end, on an error, or on
// Ctrl-C / SIGTERM. Each entry stops one thing this process started (by its own handle).

type Stop = () => Promise<unknown> | unknown;

export class Resources {
  private readonly stack: { name: string; stop: Stop }[] = [];

  /** Registers `stop` and returns a function that runs it now (once) and unregisters it. */
  add(name: string, stop: Stop): () => Promise<void> {
    const entry = { name, stop };
    this.stack.push(entry);
    let done: Promise<void> | undefined;
    return () =>
      (done ??= (async () => {
        const at = this.stack.indexOf(entry);
        if (at >= 0) this.stack.splice(at, 1);
        await entry.stop();
      })());
  }

  /** Stops everything still registered, newest first; errors are reported, not thrown. */
  async stopAll(): Promise<void> {
    while (this.stack.length > 0) {
      const entry = this.stack.pop()!;
      try {
        await entry.stop();
      } catch (err) {
        process.stderr.write(`bench: stopping ${entry.name} failed: ${(err as Error).message}\n`);
      }
    }
  }
}
