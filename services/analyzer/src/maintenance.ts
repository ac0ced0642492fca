import type { Logger } from '@pipeline/logger';
import { correctedLag } from '@pipeline/redis';
import type { AnalyzerMetrics } from './metrics.js';
import type { StreamStore } from './stream-store.js';

/**
 * On a timer: exports lag and pending as gauges, and trims the stream to the safe MINID, the
 * oldest entry that an uncommitted entry may still need as window context (DESIGN.md invariant 1).
 */
export class Maintenance {
  private readonly log: Logger;

  constructor(
    private readonly store: StreamStore,
    private readonly windowSize: number,
    private readonly metrics: AnalyzerMetrics,
    log: Logger,
  ) {
    this.log = log.child({ module: 'maintenance' });
  }

  async run(): Promise<void> {
    // Group info first, pending second: an entry delivered between the two reads is then either
    // after last-delivered-id as read, or pending as read; both keep their context.
    const info = await this.store.groupInfo();
    if (!info) return;
    this.metrics.streamPending.set(info.pending);
    const end = await this.store.end();
    this.metrics.streamLag.set(correctedLag(info, end));
    this.metrics.groupConsumers.set(info.consumers);
    this.metrics.streamLength.set(end.length);
    const oldestPending = await this.store.oldestPendingId();
    const minId = await this.safeMinId(oldestPending, info.lastDeliveredId);
    if (minId) {
      const trimmed = await this.store.trimBefore(minId);
      if (trimmed > 0) {
        this.metrics.trimmed.inc(trimmed);
        this.log.debug({ trimmed, minId }, 'trimmed committed entries');
      }
    }
  }

  /** The oldest id to keep, or null when nothing may go yet. */
  private async safeMinId(oldestPending: string | null, lastDelivered: string): Promise<string | null> {
    if (oldestPending === null && lastDelivered === '0-0') return null;
    // Pending entries need the window before them; undelivered ones need the window ending at
    // last-delivered-id (inclusive). The oldest pending entry is never after last-delivered-id.
    const end = oldestPending !== null ? `(${oldestPending}` : lastDelivered;
    const context = await this.store.readValidBefore(end, this.windowSize);
    if (context.length < this.windowSize) return null;
    return context[0]!.id;
  }
}
