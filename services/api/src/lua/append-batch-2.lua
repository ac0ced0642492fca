--[[
  Appends a batch of metrics to the events stream in one atomic step: one command for the whole
  batch instead of a MULTI of one XADD each (the per-command cost in the client dominated).

  KEYS[1] events stream
  ARGV[1] k, the number of field/value words of one entry (6: ts, cpu, rps and their values)
  ARGV[2] the entries' words as encodeEntry writes them, k per entry, joined by single spaces
          (no word holds a space). One argument instead of 6 per metric: the api builds and
          holds one string per request, not thousands.
  Returns the new entries' ids, in order.
]]
local events = KEYS[1]
local k = tonumber(ARGV[1])
local words = {}
for word in string.gmatch(ARGV[2], '[^ ]+') do
  words[#words + 1] = word
end
local ids = {}
for first = 1, #words, k do
  ids[#ids + 1] = redis.call('XADD', events, '*', unpack(words, first, first + k - 1))
end
return ids
