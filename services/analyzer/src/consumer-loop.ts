import type { Logger } from '@pipeline/logger';
import type { BatchProcessor } from './batch-processor.js';
import type { CommitPlan, DecodedSegment } from './commit-plan.js';
import type { Claimer } from './claimer.js';
import type { AnalyzerMetrics } from './metrics.js';
import type { StreamStore } from './stream-store.js';

export interface LoopSettings {
  readonly batchSize: number;
  readonly blockMs: number;
  readonly claimIntervalMs: number;
  /** Valid entries read before each new batch as its window context. */
  readonly windowSize: number;
}

type ReadResult = { batch: DecodedSegment } | { error: unknown };

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2000;

/**
 * read → analyze → commit → repeat, claiming idle entries between reads. Three batches overlap:
 * while batch k is analyzed here, batch k+1 (with its context) is being read on the blocking
 * connection and batch k-1's commit runs in Redis. Commits stay one at a time and in order.
 * stop() lets the batches in hand finish and commit (a blocked read returns within BLOCK_MS).
 */
export class ConsumerLoop {
  private readonly log: Logger;
  private stopping = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly store: StreamStore,
    private readonly processor: BatchProcessor,
    private readonly claimer: Claimer,
    private readonly settings: LoopSettings,
    private readonly metrics: AnalyzerMetrics,
    log: Logger,
  ) {
    this.log = log.child({ module: 'consumer-loop' });
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Resolves once the batches in hand are committed and the loop has left. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let nextClaimAt = 0;
    let failures = 0;
    // Settled into a value, so that a failed read waits for its turn.
    let reading: Promise<ReadResult> | null = null;
    // The previous batch's commit; it never rejects (commitWithRetry settles every outcome).
    let committing: Promise<void> = Promise.resolve();
    for (;;) {
      let stage = 'claim';
      try {
        if (!this.stopping && Date.now() >= nextClaimAt) {
          nextClaimAt = Date.now() + this.settings.claimIntervalMs;
          await this.claimer.run();
        }
        stage = 'read';
        const result: ReadResult = await (reading ?? this.read());
        reading = null;
        if ('error' in result) throw result.error;
        // Entries of a read started before stop() are ours already: they are processed too.
        if (!this.stopping) reading = this.read();
        if (result.batch.size > 0) {
          stage = 'process';
          const started = process.hrtime.bigint();
          const plan = this.processor.plan(result.batch);
          await committing;
          committing = this.commitWithRetry(plan, result.batch, started);
        }
        failures = 0;
      } catch (err) {
        failures++;
        this.metrics.errors.inc({ stage });
        if (isNoGroup(err)) {
          // The stream or group vanished (Redis restarted without its data): recreate and go on.
          this.log.warn('consumer group missing; creating it');
          await this.store.ensureGroup().catch(() => undefined);
        } else {
          this.log.error({ err, stage }, 'analyzer loop step failed');
        }
        if (!this.stopping) await this.pause(backoff(failures));
      }
      if (this.stopping && !reading) {
        await committing;
        return;
      }
    }
  }

  private read(): Promise<ReadResult> {
    const { batchSize, blockMs, windowSize } = this.settings;
    // Decoded on arrival, whatever the loop is waiting for meanwhile (see DecodedSegment).
    return this.store
      .readNew(batchSize, blockMs, windowSize)
      .then((batch): ReadResult => ({ batch: this.processor.decode(batch) }))
      .catch((error: unknown) => ({ error }));
  }

  /**
   * A batch this consumer read stays pending until committed; retrying it here (the commit is
   * idempotent) beats leaving it to be claimed after CLAIM_IDLE_MS. Once stopping, it is left
   * pending for another consumer to claim.
   */
  private async commitWithRetry(plan: CommitPlan, batch: DecodedSegment, started: bigint): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.processor.commitBatch(plan, batch.size, 'new', started);
        return;
      } catch (err) {
        this.metrics.errors.inc({ stage: 'process' });
        const first = batch.ids[0] ?? batch.malformed[0]?.id;
        if (this.stopping) {
          this.log.error({ err, attempt, first, entries: batch.size }, 'batch failed while stopping; left pending for another consumer');
          return;
        }
        this.log.error({ err, attempt, first, entries: batch.size }, 'batch failed; retrying');
        await this.pause(backoff(attempt));
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

function backoff(attempt: number): number {
  return Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), RETRY_MAX_MS);
}

function isNoGroup(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOGROUP');
}
