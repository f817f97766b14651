/**
 * Lua helpers shared by the limit scripts: the server clock and the concurrency lease set (a sorted set of
 * job id → lease expiry in ms). Each script that uses them starts with this text.
 */
export const leaseSetLua = `
-- Redis server time, never a worker's clock: workers with skewed clocks must agree on every lease and token.
-- (Redis >= 5 replicates scripts by their effects, which is what allows TIME before a write.)
local function serverTimeUs()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000000 + tonumber(time[2])
end

-- Drops the leases that have run out: their workers died or stalled without releasing, and must not hold a slot
-- forever. A lease that ends exactly now has run out.
local function pruneExpiredLeases(key, nowMs)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', nowMs)
end

-- Records (or extends) a lease, then lets the whole set expire with its last lease: once every lease has run out the
-- set means nothing, so an abandoned key (a tenant gone quiet) leaves nothing behind.
local function putLease(key, jobId, nowMs, leaseMs)
  redis.call('ZADD', key, nowMs + leaseMs, jobId)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', key, math.ceil(tonumber(last[2]) - nowMs))
end
`;
