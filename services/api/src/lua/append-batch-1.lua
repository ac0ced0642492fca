--[[
  Appends a batch of metrics to the events stream in one atomic step: one command for the whole
  batch instead of a MULTI of one XADD each (the per-command cost in the client dominated).

  KEYS[1] events stream
  ARGV[1] k, the number of field/value words of one entry (6: ts, cpu, rps and their values)
  then the entries' words, k per entry, as encodeEntry writes them
  Returns the new entries' ids, in order.
]]
local events = KEYS[1]
local k = tonumber(ARGV[1])
local ids = {}
for first = 2, #ARGV, k do
  ids[#ids + 1] = redis.call('XADD', events, '*', unpack(ARGV, first, first + k - 1))
end
return ids
