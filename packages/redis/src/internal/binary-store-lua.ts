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
 * Reads a job's input blob when it is not in the job's hash: from where it was staged, if the process that created
 * the job (a workflow's step) stopped before moving it there, and moves it now, while the job exists. Only that
 * rare case pays for the blob passing through Lua.
 *
 * KEYS[1] the job's hash, KEYS[2] the staged blob; ARGV[1] the hash field. Returns the blob, or nil.
 */
export const readStagedInputLua = `
local blob = redis.call('HGET', KEYS[1], ARGV[1])
if blob then return blob end
blob = redis.call('GET', KEYS[2])
if blob and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], blob)
  redis.call('DEL', KEYS[2])
end
return blob
`;
