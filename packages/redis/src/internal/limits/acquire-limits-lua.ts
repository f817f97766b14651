import { leaseSetLua } from './lease-set-lua.js';

/**
 * The acquire script: takes a concurrency slot and a rate token for one job in one atomic step. Both limits are
 * checked before either is written, so a denial takes nothing (a job refused by the rate limit must not sit on a
 * concurrency slot, and the other way round).
 *
 * Called with a variable number of keys (ioredis passes the count first), because either limit may be absent:
 *   KEYS[1]       the concurrency lease set, when ARGV[2] is not ''
 *   KEYS[#KEYS]   the rate limit's GCRA state, when ARGV[4] is not ''
 *   ARGV[1]       job id
 *   ARGV[2..3]    concurrency limit ('' for none), lease ms
 *   ARGV[4..5]    rate limit ('' for none), period ms
 *   ARGV[6..7]    bounds (ms) of the retry delay after a concurrency denial
 * Returns {1} when acquired, or {0, retryAfterMs, reason} with reason 'concurrency' or 'rate'.
 */
export const acquireLimitsLua = `${leaseSetLua}
local jobId = ARGV[1]
local concurrencyLimit = tonumber(ARGV[2])
local leaseMs = tonumber(ARGV[3])
local rateLimit = tonumber(ARGV[4])
local ratePeriodMs = tonumber(ARGV[5])
local minRetryMs = tonumber(ARGV[6])
local maxRetryMs = tonumber(ARGV[7])

local nowUs = serverTimeUs()
local nowMs = math.floor(nowUs / 1000)

-- Concurrency, checked only.
local holdsSlot = false
local concurrencyWaitMs = nil
if concurrencyLimit then
  local key = KEYS[1]
  pruneExpiredLeases(key, nowMs)
  -- A job that already holds a slot gets it again: a retried pickup of the same job must not count twice.
  holdsSlot = redis.call('ZSCORE', key, jobId) ~= false
  if not holdsSlot and redis.call('ZCARD', key) >= concurrencyLimit then
    -- The earliest lease expiry is when a slot frees at the latest (if its worker dies); a release frees one
    -- sooner, so the wait is capped to notice that quickly, and floored to keep a nearly expired lease from turning
    -- the caller's retries into a busy loop.
    local earliest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local untilExpiryMs = math.ceil(tonumber(earliest[2]) - nowMs)
    concurrencyWaitMs = math.min(math.max(untilExpiryMs, minRetryMs), maxRetryMs)
  end
end

-- Rate, checked only: GCRA without burst, i.e. one grant per emission interval (period / limit). Each grant pushes
-- the theoretical arrival time (TAT) one interval further, and a grant is allowed once the TAT has come. Without
-- burst, no window of one period ever sees more than 'limit' grants, which is what '100/s' reads as (and how Celery's
-- rate_limit behaves). Microseconds, and an interval rounded up to a whole one, keep the arithmetic exact.
-- A job that holds its slot already took its token at its first grant, so a repeat takes none.
local rateKey = KEYS[#KEYS]
local newTatUs = nil
local rateWaitMs = nil
if rateLimit and not holdsSlot then
  local intervalUs = math.ceil(ratePeriodMs * 1000 / rateLimit)
  local tatUs = math.max(tonumber(redis.call('GET', rateKey) or nowUs), nowUs)
  newTatUs = tatUs + intervalUs
  local allowedAtUs = tatUs
  if allowedAtUs > nowUs then
    rateWaitMs = math.ceil((allowedAtUs - nowUs) / 1000)
  end
end

-- When both refuse, the job cannot start before the later of the two, so that one is reported.
if concurrencyWaitMs and (not rateWaitMs or concurrencyWaitMs >= rateWaitMs) then
  return {0, concurrencyWaitMs, 'concurrency'}
end
if rateWaitMs then
  return {0, rateWaitMs, 'rate'}
end

-- Both allow: take them.
if concurrencyLimit then
  putLease(KEYS[1], jobId, nowMs, leaseMs)
end
if newTatUs then
  -- Once the TAT has passed, the state equals an absent key, so it expires then. '%.0f': a plain tostring would
  -- print a 16-digit microsecond count in exponent form and lose precision.
  redis.call('SET', rateKey, string.format('%.0f', newTatUs), 'PX', math.ceil((newTatUs - nowUs) / 1000))
end
return {1}
`;
