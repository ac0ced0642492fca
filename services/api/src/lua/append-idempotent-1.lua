--[[
  POST /ingest with an Idempotency-Key: appends the request's metrics and records its 202 answer
  in one atomic step, or answers from the record of an earlier request with the same key. One
  script, so the entries and the record are written together: after a Redis crash (AOF) both
  exist or neither does, and a client that never saw the reply can resend safely.

  KEYS[1] events stream
  KEYS[2] the key's record, <prefix>:{<series>}:idem:<key>: a string, the request's fingerprint
          (64 hex digits) followed by the 202 body, expiring after ARGV[1] seconds
  ARGV[1] TTL of the record, seconds
  ARGV[2] fingerprint: SHA-256 (hex) of the request body's bytes
  ARGV[3] shape of the body: 'one' (a JSON object) or 'batch' (a JSON array)
  ARGV[4] k, the number of field/value words of one entry (6: ts, cpu, rps and their values)
  ARGV[5] the entries' words as encodeEntry writes them, k per entry, joined by single spaces
          (encodeEntries; see append-batch-2.lua)
  Returns {'new', body}, {'replay', body} (the record's fingerprint is ours) or {'conflict'}.
  The body is byte for byte what ingest-handler.ts sends (accepted-body.ts): stream ids need no
  JSON escaping, so it is built by concatenation (cjson would not keep the key order).
]]
local FINGERPRINT_LENGTH = 64
local record = redis.call('GET', KEYS[2])
if record then
  if string.sub(record, 1, FINGERPRINT_LENGTH) == ARGV[2] then
    return {'replay', string.sub(record, FINGERPRINT_LENGTH + 1)}
  end
  return {'conflict'}
end

local events = KEYS[1]
local k = tonumber(ARGV[4])
local words = {}
for word in string.gmatch(ARGV[5], '[^ ]+') do
  words[#words + 1] = word
end
local ids = {}
for first = 1, #words, k do
  ids[#ids + 1] = redis.call('XADD', events, '*', unpack(words, first, first + k - 1))
end

local body
if ARGV[3] == 'one' then
  body = '{"status":"accepted","id":"' .. ids[1] .. '"}'
else
  body = '{"status":"accepted","accepted":' .. #ids .. ',"ids":["' .. table.concat(ids, '","') .. '"]}'
end
redis.call('SET', KEYS[2], ARGV[2] .. body, 'EX', ARGV[1])
return {'new', body}
