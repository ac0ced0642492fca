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

/** All of the api's Redis access. */
export class EventStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: SeriesKeys,
    private readonly windowSize: number,
  ) {}

  /** XADD one metric; resolves with its stream id once Redis has it. */
  async append(metric: Metric): Promise<string> {
    return (await this.redis.xadd(this.keys.events, '*', ...encodeEntry(metric)))!;
  }

  /** XADD many in one MULTI: all are in the stream, in order, or none. */
  async appendAll(metrics: readonly Metric[]): Promise<string[]> {
    const multi = this.redis.multi();
    for (const metric of metrics) multi.xadd(this.keys.events, '*', ...encodeEntry(metric));
    const replies = await multi.exec();
    if (!replies) throw new Error('MULTI was aborted');
    return replies.map(([err, id]) => {
      if (err) throw err;
      return id as string;
    });
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
