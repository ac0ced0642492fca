--[[
  Commits one analyzed batch: the exactly-once step (DESIGN.md invariants 2, 4, 5).
  Each entry's effects apply only where its XACK returns 1, so a duplicate, late or replayed
  commit of the same entries changes nothing.

  KEYS[1] events stream    KEYS[2] stats hash    KEYS[3] anomalies zset    KEYS[4] dead-letter stream
  ARGV[1] consumer group
  ARGV[2] commit time, ISO 8601 UTC (updated_at)
  ARGV[3] anomaly records to keep        ARGV[4] dead-letter entries to keep (approximate)
  ARGV[5] n, processed entries           ARGV[6] m, dead-letter entries
  ARGV[7] p, latest-stats field/value pairs
  ARGV[8] id of the batch's newest valid entry ('' if none): the candidate for last_*
  then p pairs:    field, value                 (that entry's statistics)
  then n triples:  id, flags (0 none, 1 cpu, 2 rps, 3 both), anomaly zset member ('' if none)
  then m triples:  id, reason, the entry's fields as JSON
  Returns { processed, duplicates, anomalies, anomalies_cpu, anomalies_rps, dead, latest_replaced }
]]
local events, stats, anomalies, dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, now = ARGV[1], ARGV[2]
local keepAnomalies, keepDead = tonumber(ARGV[3]), ARGV[4]
local n, m, p = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local latestId = ARGV[8]

-- Stream ids are 'ms-seq' with two unsigned integers; compare them as number pairs, exactly
-- (no float conversion): a shorter digit string is the smaller number.
local function uintLess(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function idGreater(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  if not bms then return true end
  if ams ~= bms then return uintLess(bms, ams) end
  return uintLess(bseq, aseq)
end

local processed, duplicates, anomalyCount, cpuCount, rpsCount = 0, 0, 0, 0, 0
local base = 8 + 2 * p
for i = 0, n - 1 do
  local id = ARGV[base + 3 * i + 1]
  if redis.call('XACK', events, group, id) == 1 then
    processed = processed + 1
    local flags = tonumber(ARGV[base + 3 * i + 2])
    if flags > 0 then
      anomalyCount = anomalyCount + 1
      if flags % 2 == 1 then cpuCount = cpuCount + 1 end
      if flags >= 2 then rpsCount = rpsCount + 1 end
      redis.call('ZADD', anomalies, 0, ARGV[base + 3 * i + 3])
    end
  else
    duplicates = duplicates + 1
  end
end

local deadCount = 0
base = base + 3 * n
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
    for i = 9, 8 + 2 * p do fields[#fields + 1] = ARGV[i] end
    redis.call('HSET', stats, unpack(fields))
    replaced = 1
  end
end

if processed > 0 or deadCount > 0 or replaced == 1 then
  redis.call('HSET', stats, 'updated_at', now)
end
return { processed, duplicates, anomalyCount, cpuCount, rpsCount, deadCount, replaced }
