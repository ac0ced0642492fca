--[[
  Commits one analyzed batch: the exactly-once step (DESIGN.md invariants 2, 4, 5).
  Each entry's effects apply only where XACK acknowledged it, so a duplicate, late or replayed
  commit of the same entries changes nothing. Entries without an anomaly are acknowledged with
  one variadic XACK (its reply counts them); anomalous and dead-letter entries one by one, since
  their records must be written only for the ids this call acknowledged.

  KEYS[1] events stream    KEYS[2] stats hash    KEYS[3] anomalies zset    KEYS[4] dead-letter stream
  ARGV[1] consumer group
  ARGV[2] commit time, ISO 8601 UTC (updated_at)
  ARGV[3] anomaly records to keep        ARGV[4] dead-letter entries to keep (approximate)
  ARGV[5] n, plain entries (no anomaly)  ARGV[6] a, anomalous entries   ARGV[7] m, dead-letter entries
  ARGV[8] p, latest-stats field/value pairs
  ARGV[9] id of the batch's newest valid entry ('' if none): the candidate for last_*
  then p pairs:    field, value                 (that entry's statistics)
  then n ids:      the plain entries
  then a triples:  id, flags (1 cpu, 2 rps, 3 both), anomaly zset member
  then m triples:  id, reason, the entry's fields as JSON
  Returns { processed, duplicates, anomalies, anomalies_cpu, anomalies_rps, dead, latest_replaced }
]]
local events, stats, anomalies, dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, now = ARGV[1], ARGV[2]
local keepAnomalies, keepDead = tonumber(ARGV[3]), ARGV[4]
local n, a, m, p = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local latestId = ARGV[9]

-- Stream ids are 'ms-seq' with two unsigned integers; compare them as number pairs, exactly
-- (no float conversion): a shorter digit string is the smaller number.
local function uintLess(x, y)
  if #x ~= #y then return #x < #y end
  return x < y
end
local function idGreater(x, y)
  local xms, xseq = string.match(x, '^(%d+)-(%d+)$')
  local yms, yseq = string.match(y, '^(%d+)-(%d+)$')
  if not yms then return true end
  if xms ~= yms then return uintLess(yms, xms) end
  return uintLess(yseq, xseq)
end

-- Plain entries: one XACK per chunk (unpack is bounded by Lua's C stack).
local base = 9 + 2 * p
local processed = 0
local CHUNK = 1000
for first = 1, n, CHUNK do
  local last = math.min(first + CHUNK - 1, n)
  processed = processed + redis.call('XACK', events, group, unpack(ARGV, base + first, base + last))
end
local duplicates = n - processed

local anomalyCount, cpuCount, rpsCount = 0, 0, 0
base = base + n
for i = 0, a - 1 do
  local id = ARGV[base + 3 * i + 1]
  if redis.call('XACK', events, group, id) == 1 then
    local flags = tonumber(ARGV[base + 3 * i + 2])
    anomalyCount = anomalyCount + 1
    if flags % 2 == 1 then cpuCount = cpuCount + 1 end
    if flags >= 2 then rpsCount = rpsCount + 1 end
    redis.call('ZADD', anomalies, 0, ARGV[base + 3 * i + 3])
  else
    duplicates = duplicates + 1
  end
end
processed = processed + anomalyCount

local deadCount = 0
base = base + 3 * a
for i = 0, m - 1 do
  local id = ARGV[base + 3 * i + 1]
  if redis.call('XACK', events, group, id) == 1 then
    deadCount = deadCount + 1
    redis.call('XADD', dead, 'MAXLEN', '~', keepDead, '*',
      'id', id, 'reason', ARGV[base + 3 * i + 2], 'fields', ARGV[base + 3 * i + 3])
  else
    duplicates = duplicates + 1
  end
end

if processed > 0 then
  redis.call('HINCRBY', stats, 'count', processed)
  redis.call('HINCRBY', stats, 'anomalies_total', anomalyCount)
  redis.call('HINCRBY', stats, 'anomalies_cpu', cpuCount)
  redis.call('HINCRBY', stats, 'anomalies_rps', rpsCount)
end
if anomalyCount > 0 then
  redis.call('ZREMRANGEBYRANK', anomalies, 0, -keepAnomalies - 1)
end
if deadCount > 0 then
  redis.call('HINCRBY', stats, 'dead_total', deadCount)
end

-- The latest never goes backwards: replace last_* only for a newer entry.
local replaced = 0
if latestId ~= '' then
  local stored = redis.call('HGET', stats, 'last_id')
  if not stored or idGreater(latestId, stored) then
    local fields = { 'last_id', latestId }
    for i = 10, 9 + 2 * p do fields[#fields + 1] = ARGV[i] end
    redis.call('HSET', stats, unpack(fields))
    replaced = 1
  end
end

if processed > 0 or deadCount > 0 or replaced == 1 then
  redis.call('HSET', stats, 'updated_at', now)
end
return { processed, duplicates, anomalyCount, cpuCount, rpsCount, deadCount, replaced }
