-- GCRA decision, atomic, on the Redis server's clock so every replica agrees on time.
-- Mirrors `gcra::step` in Rust (same rule, microsecond units): keep the two in step.
--
-- KEYS[1]  the key's theoretical arrival time (TAT), microseconds since the epoch
-- ARGV[1]  emission interval in microseconds (period / count, rounded up), > 0 or 0
-- ARGV[2]  burst (> 0)
-- ARGV[3]  cost
-- Returns {allowed (0|1), remaining, retry_after_us, reset_after_us}.
--
-- Lua numbers are doubles: microsecond timestamps (~2^51) stay exact. Scripts are replicated by
-- effects, so reading TIME before writing is safe.
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tolerance = interval * burst

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

-- A missing key (GET returns false) is a full bucket: its TAT is now.
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
local new_tat = tat + interval * cost
local allow_at = new_tat - tolerance

local function remaining(at)
  if interval == 0 then
    return burst
  end
  local left = math.floor((tolerance - (at - now)) / interval)
  if left < 0 then
    return 0
  end
  if left > burst then
    return burst
  end
  return left
end

if now < allow_at then
  return {0, remaining(tat), allow_at - now, tat - now}
end
if new_tat > tat then
  -- The key disappears exactly when its bucket is full again, so idle keys cost nothing.
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
end
return {1, remaining(new_tat), 0, new_tat - now}
