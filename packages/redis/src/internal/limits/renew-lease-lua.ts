import { leaseSetLua } from './lease-set-lua.js';

/**
 * The renew script: extends a job's concurrency lease if the job still holds it.
 *
 *   KEYS[1]  the concurrency lease set
 *   ARGV[1]  job id
 *   ARGV[2]  new lease length, ms from now
 * Returns 1 when renewed, 0 when the lease was lost (expired, released, or never taken).
 */
export const renewLeaseLua = `${leaseSetLua}
local key = KEYS[1]
local jobId = ARGV[1]
local leaseMs = tonumber(ARGV[2])
local nowMs = math.floor(serverTimeUs() / 1000)

-- A lease that ran out is lost even if nobody has taken the slot yet: another acquire may take it at any moment,
-- so the job's worker must hear that it no longer holds one, rather than have it silently revived.
pruneExpiredLeases(key, nowMs)
if redis.call('ZSCORE', key, jobId) == false then
  return 0
end
putLease(key, jobId, nowMs, leaseMs)
return 1
`;
