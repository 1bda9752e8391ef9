-- GCRA decisions for one or more keys, atomic, on the Redis server's clock so every replica
-- agrees on time. Mirrors `gcra::step` in Rust (same rule, microsecond units): keep the two in
-- step.
--
-- The keys are checked in order, each charged when it allows, until the first denial of a key
-- that stops the sequence (later keys are neither checked nor charged): a route's limits in
-- one round trip, exactly as if they were checked one by one.
--
-- KEYS[i]          key i's theoretical arrival time (TAT), microseconds since the epoch
-- ARGV[4i-3 .. 4i] for key i: emission interval in microseconds (period / count, rounded up,
--                  >= 0), burst (> 0), cost (0 peeks: allowed exactly when one more request
--                  would be, nothing recorded), stop (1: a denial ends the sequence)
-- Returns, per key checked, {allowed (0|1), remaining, retry_after_us, reset_after_us}, flat.
--
-- Lua numbers are doubles: microsecond timestamps (~2^51) stay exact. Scripts are replicated by
-- effects, so reading TIME before writing is safe.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local out = {}

for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[4 * i - 3])
  local burst = tonumber(ARGV[4 * i - 2])
  local cost = tonumber(ARGV[4 * i - 1])
  local stop = ARGV[4 * i] == '1'
  local tolerance = interval * burst

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

  -- A missing key (GET returns false) is a full bucket: its TAT is now.
  local tat = tonumber(redis.call('GET', key))
  if tat == nil or tat < now then
    tat = now
  end
  local new_tat = tat + interval * cost
  local allow_at = tat + interval * math.max(cost, 1) - tolerance

  if now < allow_at then
    table.insert(out, 0)
    table.insert(out, remaining(tat))
    table.insert(out, allow_at - now)
    table.insert(out, tat - now)
    if stop then
      return out
    end
  else
    if new_tat > tat then
      -- The key disappears exactly when its bucket is full again, so idle keys cost nothing.
      redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
    end
    table.insert(out, 1)
    table.insert(out, remaining(new_tat))
    table.insert(out, 0)
    table.insert(out, new_tat - now)
  end
end
return out
