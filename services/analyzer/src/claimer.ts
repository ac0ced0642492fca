import type { Logger } from '@pipeline/logger';
import type { BatchProcessor } from './batch-processor.js';
import { deadEntry } from './commit-plan.js';
import type { AnalyzerMetrics } from './metrics.js';
import type { PendingEntry, StreamStore } from './stream-store.js';

export interface ClaimPolicy {
  readonly claimIdleMs: number;
  readonly maxDeliveries: number;
  readonly batchSize: number;
}

/**
 * Recovers entries that consumers left pending (they crashed, or stalled): dead-letters those
 * delivered more than MAX_DELIVERIES times (they stay in the stream as context but are not
 * counted), claims the rest with XCLAIM and processes them as a claimed batch. One XPENDING
 * answer decides both: with a separate check and XAUTOCLAIM, an entry over the limit that became
 * idle between the two was claimed and counted.
 */
export class Claimer {
  private readonly log: Logger;

  constructor(
    private readonly store: StreamStore,
    private readonly processor: BatchProcessor,
    private readonly policy: ClaimPolicy,
    private readonly metrics: AnalyzerMetrics,
    log: Logger,
  ) {
    this.log = log.child({ module: 'claimer' });
  }

  /** One pass; returns how many entries it took over. */
  async run(): Promise<number> {
    const pending = await this.store.pendingIdle(this.policy.claimIdleMs, this.policy.batchSize);
    const poison = pending.filter((p) => p.deliveries > this.policy.maxDeliveries);
    if (poison.length > 0) await this.deadLetter(poison);
    const idle = pending.filter((p) => p.deliveries <= this.policy.maxDeliveries).map((p) => p.id);
    if (idle.length === 0) return 0;
    const claimed = await this.store.claim(idle, this.policy.claimIdleMs);
    if (claimed.length === 0) return 0;
    this.metrics.claimed.inc(claimed.length);
    this.log.info({ entries: claimed.length, first: claimed[0]![0] }, 'claimed idle entries');
    await this.processor.processClaimed(claimed);
    return claimed.length;
  }

  private async deadLetter(poison: readonly PendingEntry[]): Promise<void> {
    const deliveries = new Map(poison.map((p) => [p.id, p.deliveries]));
    const entries = await this.store.readEntries(poison.map((p) => p.id));
    const dead = entries.map(([id, fields]) =>
      deadEntry(id, fields, `delivered ${deliveries.get(id)} times (MAX_DELIVERIES ${this.policy.maxDeliveries})`),
    );
    const result = await this.processor.commit({ processed: [], dead, latest: null }, 'max_deliveries');
    this.log.warn({ entries: result.deadLettered, ids: poison.map((p) => p.id).slice(0, 10) }, 'dead-lettered entries that were delivered too often');
  }
}
