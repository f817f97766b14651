/**
 * Runs in the MULTI that has just written a blob into a job's hash with a plain HSET, and takes it out again unless
 * the job is one it belongs to. The HSET carries the bytes (Redis keeps them as they arrive); this script only looks
 * at the job's small `data` field, so no blob is ever copied through Lua. Within the MULTI nobody sees the blob
 * that is taken out again.
 *
 * KEYS[1] the job's hash; KEYS[2], if given, where the blob was staged (deleted either way).
 * ARGV[1] the field just written; ARGV[2], if given, the blob id the job's data must name.
 * Keeps the field when the job exists (the hash has its `data`; a hash that the HSET itself created has none) and,
 * with ARGV[2], its data names that blob (when `add` met another job, a caller's jobId or a dedupe id, that job's
 * data names another blob). Returns 1 when it kept the field.
 *
 * Sent with EVAL, never EVALSHA, so it runs even when Redis has lost its scripts (a SCRIPT FLUSH): inside a MULTI an
 * EVALSHA would then fail, ioredis would not send the script again, and the HSET would stay where it does not belong.
 */
export const keepBlobLua = `
local data = redis.call('HGET', KEYS[1], 'data')
local keep = data and (ARGV[2] == nil or string.find(data, ARGV[2], 1, true) ~= nil)
if not keep then redis.call('HDEL', KEYS[1], ARGV[1]) end
if KEYS[2] then redis.call('DEL', KEYS[2]) end
return keep and 1 or 0
`;

/**
 * Reads a job's input blob when it is not in the job's hash, and puts it there while the job exists. It is either
 * staged, when the process that created the job (a workflow's step) stopped before moving it, and then moved; or the
 * job is a schedule's firing, which BullMQ created from the schedule's data in Lua, and the blob is the schedule's,
 * shared by every firing, and copied. Only these cases pay for the blob passing through Lua.
 *
 * KEYS[1] the job's hash, KEYS[2] the staged blob, KEYS[3] the schedule's blob; ARGV[1] the hash field. Returns the
 * blob, or nil.
 */
export const readUnattachedInputLua = `
local blob = redis.call('HGET', KEYS[1], ARGV[1])
if blob then return blob end
local exists = redis.call('EXISTS', KEYS[1]) == 1
blob = redis.call('GET', KEYS[2])
if blob then
  if exists then
    redis.call('HSET', KEYS[1], ARGV[1], blob)
    redis.call('DEL', KEYS[2])
  end
  return blob
end
blob = redis.call('GET', KEYS[3])
if blob and exists then redis.call('HSET', KEYS[1], ARGV[1], blob) end
return blob
`;
