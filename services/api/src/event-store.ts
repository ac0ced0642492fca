import { encodeEntries, encodeEntry, ENTRY_WORDS, type Metric } from '@pipeline/metric';
import {
  decodeAnomalyMember,
  decodeCounters,
  decodeStats,
  ensureGroup,
  readBacklog,
  readGroupInfo,
  type AnomalyRecord,
  type GroupInfo,
  type Redis,
  type SeriesKeys,
  type StatsCounters,
  type StatsView,
} from '@pipeline/redis';
import { defineScripts } from './lua-scripts.js';

/** A keyed append's result: the 202 body, newly stored or recorded earlier; or the key held another body. */
export type IdempotentAppend =
  | { readonly outcome: 'new' | 'replay'; readonly body: string }
  | { readonly outcome: 'conflict' };

/** All of the api's Redis access. */
export class EventStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: SeriesKeys,
    private readonly windowSize: number,
  ) {
    defineScripts(redis);
  }

  /** XADD one metric; resolves with its stream id once Redis has it. */
  append(metric: Metric): Promise<string> {
    // Not null: XADD answers null only with NOMKSTREAM. No async wrapper on the hot path.
    return this.redis.xadd(this.keys.events, '*', ...encodeEntry(metric)) as Promise<string>;
  }

  /** XADDs many in one script call: all are in the stream, in order, or none. */
  async appendAll(metrics: readonly Metric[]): Promise<string[]> {
    return this.redis.appendBatch(this.keys.events, ENTRY_WORDS, encodeEntries(metrics));
  }

  /**
   * Appends under an Idempotency-Key (append-idempotent-1.lua): the metrics and the key's record
   * (fingerprint + 202 body, for `ttlSeconds`) in one atomic step, unless the key has a record:
   * then its body when `fingerprint` matches, else a conflict, and nothing is appended.
   */
  async appendIdempotent(
    key: string,
    fingerprint: string,
    ttlSeconds: number,
    shape: 'one' | 'batch',
    metrics: readonly Metric[],
  ): Promise<IdempotentAppend> {
    const [outcome, body] = await this.redis.appendIdempotent(
      this.keys.events,
      this.keys.idempotency(key),
      ttlSeconds,
      fingerprint,
      shape,
      ENTRY_WORDS,
      encodeEntries(metrics),
    );
    if (outcome === 'conflict') return { outcome };
    if ((outcome === 'new' || outcome === 'replay') && body !== undefined) return { outcome, body };
    throw new Error(`append-idempotent-1.lua answered ${JSON.stringify([outcome, body])}`);
  }

  async readStats(): Promise<{ view: StatsView; counters: StatsCounters }> {
    const hash = await this.redis.hgetall(this.keys.stats);
    return { view: decodeStats(hash, this.windowSize), counters: decodeCounters(hash) };
  }

  /** The most recent anomalies, newest first by event id. */
  async readAnomalies(limit: number): Promise<AnomalyRecord[]> {
    const members = await this.redis.zrevrangebylex(this.keys.anomalies, '+', '-', 'LIMIT', 0, limit);
    return members.map(decodeAnomalyMember);
  }

  readBacklog(): Promise<{ backlog: number; info: GroupInfo } | null> {
    return readBacklog(this.redis, this.keys.events);
  }

  groupInfo(): Promise<GroupInfo | null> {
    return readGroupInfo(this.redis, this.keys.events);
  }

  ensureGroup(): Promise<boolean> {
    return ensureGroup(this.redis, this.keys.events);
  }
}
