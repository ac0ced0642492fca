/**
 * Keeps the last `maxLines` lines written to it (from a child's stdout/stderr chunks), so a
 * failing test can show what a process printed without holding its whole output in memory.
 */
export class OutputBuffer {
  readonly #maxLines: number;
  readonly #lines: string[] = [];
  #partial = '';
  #dropped = 0;

  /** @param maxLines how many complete lines to keep (older ones are dropped). */
  constructor(maxLines = 200) {
    this.#maxLines = maxLines;
  }

  /**
   * Appends a chunk of output; returns the complete lines it finished (for echoing).
   * @param prefix prepended to every stored line, e.g. `[stderr] `.
   */
  write(chunk: Buffer | string, prefix = ''): string[] {
    const text = this.#partial + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    const lines = parts.map((line) => prefix + line.replace(/\r$/, ''));
    this.#push(lines);
    return lines;
  }

  /** Everything kept so far, including an unterminated last line, joined with newlines. */
  text(): string {
    const head = this.#dropped > 0 ? [`... (${this.#dropped} earlier lines dropped)`] : [];
    const tail = this.#partial === '' ? [] : [this.#partial];
    return [...head, ...this.#lines, ...tail].join('\n');
  }

  #push(lines: string[]): void {
    this.#lines.push(...lines);
    const excess = this.#lines.length - this.#maxLines;
    if (excess > 0) {
      this.#lines.splice(0, excess);
      this.#dropped += excess;
    }
  }
}
