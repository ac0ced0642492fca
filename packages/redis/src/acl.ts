import { createHash } from 'node:crypto';
import { seriesKeys } from './keys.js';

/** The services that log in to Redis, each as its own ACL user of the same name. */
export type PipelineService = 'api' | 'analyzer';
export const PIPELINE_SERVICES: readonly PipelineService[] = ['api', 'analyzer'];

/** Every ACL user defined here: the two services, and `keda` for KEDA's scaler (k8s/extras/keda). */
export type AclUserName = PipelineService | 'keda';
export const ACL_USERS: readonly AclUserName[] = [...PIPELINE_SERVICES, 'keda'];

// Every connection names itself (CLIENT SETNAME) and ioredis's ready check sends INFO (it waits
// out an AOF load). INFO shows server statistics, no data. PING is for checks by hand.
const CONNECTION_COMMANDS = ['client|setname', 'info', 'ping'];

/**
 * Exactly the commands each service sends, read off the code. A command added there and not here
 * fails with NOPERM in test/integration/redis-acl.test.ts, which runs both services as these users.
 */
export const SERVICE_COMMANDS: Readonly<Record<PipelineService, readonly string[]>> = {
  api: [
    ...CONNECTION_COMMANDS,
    // POST /ingest (event-store.ts): one XADD, or a batch through append-batch-2.lua, or a keyed
    // request through append-idempotent-1.lua (EVALSHA, EVAL when Redis has not cached it; a
    // script's commands are checked against the user too, so it can do no more than the api may:
    // XADD here, GET and SET on the idempotency records only, see IDEMPOTENCY_RECORD_COMMANDS).
    'xadd', 'evalsha', 'eval',
    // GET /stats and /metrics, GET /anomalies.
    'hgetall', 'zrevrangebylex',
    // Backlog, readiness, and creating the group (consumer-group.ts; XREVRANGE reads the newest
    // entry's id when Redis cannot tell the lag).
    'xinfo|groups', 'xlen', 'xrevrange', 'xgroup|create',
  ],
  analyzer: [
    ...CONNECTION_COMMANDS,
    // stream-store.ts: reading, claiming, trimming; consumer-group.ts.
    'xreadgroup', 'xrange', 'xrevrange', 'xpending', 'xclaim', 'xtrim', 'xlen', 'xinfo|groups', 'xgroup|create',
    // The commit script: ioredis sends EVALSHA, and EVAL when Redis has not cached it yet.
    'evalsha', 'eval',
    // What commit-batch-4.lua calls: a script's commands are checked against the user as well.
    'xack', 'zadd', 'zremrangebyrank', 'xadd', 'hincrby', 'hget', 'hset',
  ],
};

/**
 * What append-idempotent-1.lua does to an Idempotency-Key's record: read it, write it with its TTL.
 * Granted in an ACL selector on the records' keys alone: on the user's own rules, SET would also
 * let the api replace the events stream or the stats hash wholesale.
 */
export const IDEMPOTENCY_RECORD_COMMANDS: readonly string[] = ['get', 'set'];

/**
 * What KEDA's `redis-streams` scaler sends with `lagCount` (k8s/extras/keda), read off its code:
 * kedacore/keda pkg/scalers/redis_streams_scaler.go (the lag branch of createEntriesCountFn) and
 * redis_scaler.go (getRedisClient). KEDA is not one of the pipeline's services, so
 * test/deploy/redis-acl-commands.test.ts has no code of it to scan; test/integration/redis-acl.test.ts
 * checks that these work and nothing more does. Not granted, on purpose:
 * - HELLO 3 with AUTH (go-redis's handshake) needs no grant.
 * - CLIENT SETINFO, which go-redis sends after connecting and whose refusal it ignores: Redis 7.0
 *   does not know the subcommand, so granting it would stop the ACL file from loading there (on
 *   7.2+ each new KEDA connection leaves that one refusal in the ACL LOG).
 * - XPENDING: only `pendingEntriesCount` triggers send it.
 */
export const KEDA_COMMANDS: readonly string[] = [
  // go-redis's client is pinged once after it connects (getRedisClient).
  'ping',
  // Every poll first reads INFO's redis_version and fails below 7 (XINFO GROUPS has no lag before
  // 7). Server statistics, no data: the same grant the services have for ioredis's ready check.
  'info',
  // The lag itself: the `lag` field of the group in XINFO GROUPS <stream>.
  'xinfo|groups',
  // When the stream exists but the group does not yet, the scaler reports XLEN <stream> instead.
  'xlen',
];

/** Every command a user may send somewhere: its own, and for the api its records' ones. */
export function grantedCommands(user: AclUserName): readonly string[] {
  if (user === 'keda') return KEDA_COMMANDS;
  return user === 'api' ? [...SERVICE_COMMANDS.api, ...IDEMPOTENCY_RECORD_COMMANDS] : SERVICE_COMMANDS[user];
}

/**
 * The ACL rules of one Redis user: no command but its own, no Pub/Sub channel, and only the keys
 * of `<prefix>:{<any series>}`. KEDA may only read the events stream: it measures the group's lag
 * and needs no other key. The api may write only the events stream and its Idempotency-Key
 * records, and only read the stats hash and the anomalies; it never sees the dead letters. It has
 * the records as its own keys because EVAL requires read and write on every key it is given; GET
 * and SET come from a selector, `(+get +set ~<records>)`, that reaches no other key. The analyzer
 * needs read and write on all four keys: it passes them all to the commit script. Key names come
 * from keys.ts, the same place the services take them from.
 */
export function aclRules(user: AclUserName, prefix: string): string[] {
  if (!ACL_USERS.includes(user)) throw new Error(`unknown ACL user ${JSON.stringify(user)} (${ACL_USERS.join(', ')})`);
  // A glob character or a space in the prefix would widen or split the key patterns.
  if (prefix === '' || /[*?[\]\\\s{}]/.test(prefix)) throw new Error(`key prefix ${JSON.stringify(prefix)} may not contain * ? [ ] \\ { } or spaces`);
  const keys = seriesKeys(prefix, '*');
  if (user === 'keda') return ['resetchannels', '-@all', ...KEDA_COMMANDS.map((c) => `+${c}`), `%R~${keys.events}`];
  const records = keys.idempotency('*');
  const keyRules =
    user === 'api'
      ? [
          `~${keys.events}`,
          `~${records}`,
          `%R~${keys.stats}`,
          `%R~${keys.anomalies}`,
          `(${[...IDEMPOTENCY_RECORD_COMMANDS.map((c) => `+${c}`), `~${records}`].join(' ')})`,
        ]
      : [`~${keys.events}`, `~${keys.stats}`, `~${keys.anomalies}`, `~${keys.dead}`];
  return ['resetchannels', '-@all', ...SERVICE_COMMANDS[user].map((c) => `+${c}`), ...keyRules];
}

/** `#<sha256 hex>`: how an ACL stores a password, so the password itself is never written down. */
export function aclPasswordHash(password: string): string {
  return `#${createHash('sha256').update(password, 'utf8').digest('hex')}`;
}

/**
 * The whole user as the words of one `ACL SETUSER` (or an ACL file's `user` line): `reset` first,
 * so applying it again describes the user completely. Without a password the user is enabled but
 * cannot log in until one is added (`ACL SETUSER api >…`): never a user with no password at all.
 */
export function aclUser(user: AclUserName, prefix: string, password?: string): string[] {
  const auth = password === undefined ? [] : [aclPasswordHash(password)];
  return [user, 'reset', 'on', ...auth, ...aclRules(user, prefix)];
}

/** One line for redis-cli (interactive or piped), arguments quoted where a shell would expand them. */
export function aclSetUserCommand(user: AclUserName, prefix: string, password?: string): string {
  return ['ACL', 'SETUSER', ...aclUser(user, prefix, password).map(quote)].join(' ');
}

/** One line of an ACL file (`redis-server --aclfile`), which takes the rules unquoted. */
export function aclFileLine(user: AclUserName, prefix: string, password?: string): string {
  return ['user', ...aclUser(user, prefix, password)].join(' ');
}

function quote(word: string): string {
  return /^[A-Za-z0-9_.:@+-]+$/.test(word) ? word : `'${word}'`;
}
