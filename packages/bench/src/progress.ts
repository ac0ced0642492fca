// Progress on stderr while the benchmark runs: one line per step, and on a terminal a ticking
// elapsed/expected counter while a measurement is under way.

export class Progress {
  private readonly started = Date.now();
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly quiet = false) {}

  /** A line of its own, prefixed with the time since the start. */
  say(message: string): void {
    if (this.quiet) return;
    process.stderr.write(`${this.stamp()} ${message}\n`);
  }

  /** Runs `work`, showing `label` with a ticking counter of `expectedSeconds`; then `label  <summary>`. */
  async during<T>(label: string, expectedSeconds: number, work: Promise<T>, summary: (value: T) => string): Promise<T> {
    const begun = Date.now();
    let timer: NodeJS.Timeout | undefined;
    if (this.tty && !this.quiet) {
      const draw = () => {
        const elapsed = (Date.now() - begun) / 1000;
        process.stderr.write(`\r\x1b[K${this.stamp()} ${label}  ${elapsed.toFixed(1)}/${expectedSeconds.toFixed(1)} s`);
      };
      draw();
      timer = setInterval(draw, 250);
    }
    try {
      const value = await work;
      if (timer) process.stderr.write('\r\x1b[K');
      this.say(`${label}  ${summary(value)}`);
      return value;
    } catch (err) {
      if (timer) process.stderr.write('\r\x1b[K');
      throw err;
    } finally {
      clearInterval(timer);
    }
  }

  private stamp(): string {
    const s = Math.round((Date.now() - this.started) / 1000);
    return `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`;
  }
}

/** 12345.6 → "12,346". */
export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
