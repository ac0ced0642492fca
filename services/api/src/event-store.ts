import { encodeEntry, type Metric } from '@pipeline/metric';
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
  async append(metric: Metric): Promise<string> {
    return (await this.redis.xadd(this.keys.events, '*', ...encodeEntry(metric)))!;
  }

  /** XADDs many in one script call: all are in the stream, in order, or none. */
  async appendAll(metrics: readonly Metric[]): Promise<string[]> {
    const words: string[] = [];
    for (const metric of metrics) for (const word of encodeEntry(metric)) words.push(word);
    return this.redis.appendBatch(this.keys.events, words.length / metrics.length, ...words);
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
