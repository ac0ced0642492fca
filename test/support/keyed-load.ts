// A load generator for Idempotency-Key clients: each batch gets a key of its own and is resent,
// same key and same bytes, after every 503 or unanswered request until it gets a 202. That is the
// retry the key makes safe; ./faults.ts's Load instead gives up on such a batch and sends a new one.
import { Agent } from 'node:http';
import { sleep } from '@pipeline/testkit';
import type { Metric } from '../../packages/metric/src/index.js';
import { EventSource, post } from './faults.js';

/** One keyed batch that got its 202. */
export interface KeyedBatch {
  readonly key: string;
  readonly metrics: readonly Metric[];
  /** The ids of its 202 (the first answer's, when this one is replayed). */
  readonly ids: readonly string[];
  /** The 202 came from the key's record: an earlier attempt was stored, though its client never heard so. */
  readonly replayed: boolean;
  /** Attempts that got no 202 before it: 503s and requests that got no answer. */
  readonly failedAttempts: number;
}

export interface KeyedLoadCounts {
  requests: number;
  unavailable: number;
  backpressure: number;
  /** Requests that got no answer at all (refused, reset, timed out). */
  unanswered: number;
  /** Anything that is not a 202 or a retryable failure (a 4xx, a 202 without ids...). */
  failures: string[];
}

/**
 * `concurrency` senders post fresh batches (unique timestamps, {@link EventSource}) each under a
 * new Idempotency-Key. Stopping lets every sender finish retrying the batch in hand.
 */
export class KeyedLoad {
  readonly done: KeyedBatch[] = [];
  readonly counts: KeyedLoadCounts = { requests: 0, unavailable: 0, backpressure: 0, unanswered: 0, failures: [] };
  #stopped = false;
  #senders: Promise<void>[] = [];
  #batches = 0;
  readonly #events: EventSource;
  readonly #agent: Agent;

  constructor(
    private readonly opts: {
      url: string;
      batchSize: number;
      concurrency: number;
      seed?: number;
      /** Each sender's pause after a batch, to keep this shared machine's load modest. */
      paceMs?: number;
      /** Pause before a resend. */
      backoffMs?: number;
      /** Give a batch up (as a failure) after this long without a 202. */
      giveUpMs?: number;
    },
  ) {
    this.#events = new EventSource(opts.seed ?? 1);
    this.#agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  }

  start(): this {
    this.#senders = Array.from({ length: this.opts.concurrency }, () => this.#sender());
    return this;
  }

  /** No new batches; resolves once every batch in hand got its 202 (or was given up). */
  async stop(): Promise<this> {
    this.#stopped = true;
    await Promise.all(this.#senders);
    this.#agent.destroy();
    return this;
  }

  async #sender(): Promise<void> {
    const { url, batchSize, paceMs = 0, backoffMs = 50, giveUpMs = 30_000 } = this.opts;
    while (!this.#stopped) {
      const metrics = this.#events.take(batchSize);
      const key = `load-${this.opts.seed ?? 1}-${++this.#batches}`;
      const body = JSON.stringify(metrics);
      const since = performance.now();
      let failedAttempts = 0;
      for (;;) {
        const outcome = await post(`${url}/ingest`, body, { agent: this.#agent, headers: { 'idempotency-key': key }, timeoutMs: 5000 });
        this.counts.requests++;
        if (outcome.kind === 'response' && outcome.status === 202) {
          const ids = (JSON.parse(outcome.text) as { ids?: string[] }).ids;
          if (ids?.length !== metrics.length) this.counts.failures.push(`${key}: 202 ${outcome.text.slice(0, 200)}`);
          else this.done.push({ key, metrics, ids, replayed: outcome.headers['idempotent-replayed'] === 'true', failedAttempts });
          break;
        }
        if (outcome.kind === 'response' && outcome.status === 503) {
          if (outcome.text.includes(':backpressure')) this.counts.backpressure++;
          else this.counts.unavailable++;
        } else if (outcome.kind === 'error') {
          this.counts.unanswered++;
        } else {
          this.counts.failures.push(`${key}: ${outcome.status} ${outcome.text.slice(0, 200)}`);
          break;
        }
        failedAttempts++;
        if (performance.now() - since > giveUpMs) {
          this.counts.failures.push(`${key}: no 202 in ${giveUpMs} ms (${failedAttempts} attempts)`);
          break;
        }
        await sleep(backoffMs);
      }
      if (paceMs > 0) await sleep(paceMs);
    }
  }
}
