import type { Logger } from '@pipeline/logger';
import type { EventStore } from './event-store.js';

/**
 * Reads the consumer group's backlog (lag + pending) on a timer, so /ingest decides about
 * backpressure without a Redis call per request. Also recreates the group if Redis lost it.
 */
export class BacklogMonitor {
  private backlog: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly store: EventStore,
    private readonly maxBacklog: number,
    private readonly intervalMs: number,
    log: Logger,
  ) {
    this.log = log.child({ module: 'backlog-monitor' });
  }

  /** Entries accepted and not yet committed, as last read; null before the first reading. */
  get current(): number | null {
    return this.backlog;
  }

  /** True while the backlog is at or past MAX_BACKLOG: /ingest answers 503. */
  get overLimit(): boolean {
    return this.backlog !== null && this.backlog >= this.maxBacklog;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.check().catch((err: unknown) => this.log.debug({ err }, 'backlog check failed'));
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async check(): Promise<void> {
    const reading = await this.store.readBacklog();
    if (reading === null) {
      if (await this.store.ensureGroup()) this.log.info('created the consumer group');
      this.backlog = 0;
      return;
    }
    const wasOver = this.overLimit;
    this.backlog = reading.backlog;
    if (this.overLimit !== wasOver) {
      this.log.warn({ backlog: this.backlog, maxBacklog: this.maxBacklog }, this.overLimit ? 'backpressure on: /ingest answers 503' : 'backpressure off');
    }
  }
}
