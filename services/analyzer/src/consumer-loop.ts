import type { Logger } from '@pipeline/logger';
import type { BatchProcessor } from './batch-processor.js';
import type { RawEntry } from './commit-plan.js';
import type { Claimer } from './claimer.js';
import type { AnalyzerMetrics } from './metrics.js';
import type { StreamStore } from './stream-store.js';

export interface LoopSettings {
  readonly batchSize: number;
  readonly blockMs: number;
  readonly claimIntervalMs: number;
}

type ReadResult = { batch: RawEntry[] } | { error: unknown };

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2000;

/**
 * read → analyze → commit → repeat, claiming idle entries between reads. One batch at a time;
 * stop() lets the batch in hand finish and commit (a blocked read returns within BLOCK_MS).
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

  /** Resolves once the batch in hand is committed and the loop has left. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let nextClaimAt = 0;
    let failures = 0;
    // The read of the next batch runs on the blocking connection while this one is analyzed and
    // committed on the other. Settled into a value so that a failure waits for its turn.
    let reading: Promise<ReadResult> | null = null;
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
        if (result.batch.length > 0) {
          stage = 'process';
          await this.processWithRetry(result.batch);
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
      if (this.stopping && !reading) return;
    }
  }

  private read(): Promise<ReadResult> {
    return this.store.readNew(this.settings.batchSize, this.settings.blockMs).then(
      (batch) => ({ batch }),
      (error: unknown) => ({ error }),
    );
  }

  /**
   * A batch this consumer read stays pending until committed; retrying it here (the commit is
   * idempotent) beats leaving it to be claimed after CLAIM_IDLE_MS. Once stopping, it is left
   * pending for another consumer to claim.
   */
  private async processWithRetry(batch: RawEntry[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.processor.process(batch, false);
        return;
      } catch (err) {
        this.metrics.errors.inc({ stage: 'process' });
        this.log.error({ err, attempt, first: batch[0]![0], entries: batch.length }, 'batch failed; retrying');
        if (this.stopping) throw err;
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
