import type { Logger } from '@pipeline/logger';
import { decodeSegment, planCommit, planDecoded, type CommitPlan, type DecodedSegment, type TextEntry } from './commit-plan.js';
import type { AnalyzerMetrics } from './metrics.js';
import type { StatsConfig } from './stats/window-stats.js';
import type { CommitResult, NewBatch, StreamStore } from './stream-store.js';

/**
 * Analyzes and commits one batch. Holds no state between batches: each entry's window is read
 * from the stream, so any replica may process any batch (DESIGN.md invariant 3).
 */
export class BatchProcessor {
  private readonly log: Logger;

  constructor(
    private readonly store: StreamStore,
    private readonly stats: StatsConfig,
    private readonly metrics: AnalyzerMetrics,
    log: Logger,
  ) {
    this.log = log.child({ module: 'batch-processor' });
  }

  /**
   * Plans and commits entries taken over from other consumers (XCLAIM), in id order. They
   * are usually not contiguous: entries between their ids were committed by others, so the
   * whole range from the first to the last is read and serves as context, with the window before
   * it (DESIGN.md invariant 3). New batches go through decode, plan and commitBatch instead.
   */
  async processClaimed(batch: readonly TextEntry[]): Promise<CommitResult> {
    const started = process.hrtime.bigint();
    const first = batch[0]![0];
    const last = batch[batch.length - 1]![0];
    const [context, segment] = await Promise.all([
      this.store.readValidBefore(`(${first}`, this.stats.windowSize),
      this.store.readRange(first, last),
    ]);
    const plan = planCommit(context, segment, new Set(batch.map(([id]) => id)), this.stats);
    return this.commitBatch(plan, batch.length, 'claimed', started);
  }

  /** Decodes a batch read with `>` together with its context, for plan(). */
  decode(batch: NewBatch): DecodedSegment {
    return decodeSegment(batch.context, batch.entries, this.stats.windowSize);
  }

  /** Plans a decoded `>` batch (pure computation, no I/O). */
  plan(segment: DecodedSegment): CommitPlan {
    return planDecoded(segment, null, this.stats);
  }

  /**
   * Commits a planned batch and records its size and how long it took from `started` (when its
   * planning began).
   */
  async commitBatch(plan: CommitPlan, entries: number, source: 'new' | 'claimed', started: bigint): Promise<CommitResult> {
    const result = await this.commit(plan);
    this.metrics.batchSize.observe({ source }, entries);
    this.metrics.batchDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return result;
  }

  /** Commits a plan and records what it changed. */
  async commit(plan: CommitPlan, deadReason = 'malformed'): Promise<CommitResult> {
    const started = process.hrtime.bigint();
    const result = await this.store.commit(plan, new Date());
    const m = this.metrics;
    m.commitDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    m.lastCommit.set(Date.now() / 1000);
    m.eventsProcessed.inc(result.processed);
    m.duplicatesSkipped.inc(result.duplicates);
    if (result.deadLettered > 0) m.deadLettered.inc({ reason: deadReason }, result.deadLettered);
    if (result.anomalies > 0) {
      m.anomalies.inc({ metric: 'any' }, result.anomalies);
      m.anomalies.inc({ metric: 'cpu' }, result.anomaliesCpu);
      m.anomalies.inc({ metric: 'rps' }, result.anomaliesRps);
    }
    if (result.duplicates > 0) {
      this.log.info({ duplicates: result.duplicates, processed: result.processed }, 'entries already committed by another consumer were skipped');
    }
    return result;
  }
}
