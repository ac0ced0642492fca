export { ANALYZER_GROUP, DEFAULT_SERIES, seriesKeys, type SeriesKeys } from './keys.js';
export { closeRedis, createRedis, waitUntilReady, type RedisConnectionOptions } from './connection.js';
export { ensureGroup, readBacklog, readGroupInfo, type GroupInfo } from './consumer-group.js';
export {
  COUNTER_FIELDS,
  decodeCounters,
  decodeStats,
  encodeLatestStats,
  type LatestStats,
  type StatsCounters,
  type StatsView,
} from './stats-hash.js';
export {
  decodeAnomalyMember,
  encodeAnomalyMember,
  sortableId,
  type AnomalyRecord,
} from './anomaly-record.js';
export type { Redis } from 'ioredis';
