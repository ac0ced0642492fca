// Watches the stats hash's `count` field during a drain: when the first commit showed (count > 0),
// when the count passed halfway from there to the target, and when it reached the target. Polls
// HGET every POLL_MS on the benchmark's own connection.
import type { Redis } from 'ioredis';
import { sharedNow } from '../clock.js';

const POLL_MS = 2;

export interface DrainTiming {
  /** sharedNow() of the first poll that saw count > 0, and the count it saw. */
  readonly firstAt: number;
  readonly firstCount: number;
  /** sharedNow() of the first poll that saw count ≥ halfway from firstCount to the target, and that count. */
  readonly halfAt: number;
  readonly halfCount: number;
  /** sharedNow() of the first poll that saw count ≥ target. */
  readonly doneAt: number;
}

export class CountWatcher {
  /** The last count seen. */
  latest = 0;
  readonly done: Promise<DrainTiming>;
  private cancelled = false;

  constructor(client: Redis, statsKey: string, target: number, timeoutMs: number) {
    this.done = (async () => {
      const deadline = sharedNow() + timeoutMs;
      let first: { at: number; count: number } | undefined;
      let half: { at: number; count: number } | undefined;
      for (;;) {
        const count = Number((await client.hget(statsKey, 'count')) ?? 0);
        const at = sharedNow();
        this.latest = count;
        if (count > 0 && !first) first = { at, count };
        if (first && !half && count >= first.count + (target - first.count) / 2) half = { at, count };
        if (first && half && count >= target) return { firstAt: first.at, firstCount: first.count, halfAt: half.at, halfCount: half.count, doneAt: at };
        if (this.cancelled) throw new Error('drain: watch cancelled');
        if (at > deadline) throw new Error(`drain: count reached only ${count} of ${target} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    })();
    this.done.catch(() => undefined); // awaited later; never an unhandled rejection meanwhile
  }

  /** Ends the watch early (its promise rejects). */
  cancel(): void {
    this.cancelled = true;
  }
}
