export { ANALYZER_GROUP, DEFAULT_SERIES, seriesKeys, type SeriesKeys } from './keys.js';
export { closeRedis, createRedis, endpointTarget, waitUntilReady, type RedisConnectionOptions, type RedisEndpoint } from './connection.js';
export { coalesceWrites } from './write-coalescing.js';
export { compareStreamIds, correctedLag, ensureGroup, readBacklog, readGroupInfo, readStreamEnd, type GroupInfo, type StreamEnd } from './consumer-group.js';
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
export {
  ACL_USERS,
  IDEMPOTENCY_RECORD_COMMANDS,
  KEDA_COMMANDS,
  PIPELINE_SERVICES,
  SERVICE_COMMANDS,
  aclFileLine,
  aclPasswordHash,
  aclRules,
  aclSetUserCommand,
  aclUser,
  grantedCommands,
  type AclUserName,
  type PipelineService,
} from './acl.js';
export { defineLuaScripts, type LuaScript } from './lua-scripts.js';
export type { Redis } from 'ioredis';
