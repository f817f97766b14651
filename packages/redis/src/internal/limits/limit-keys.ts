/**
 * The Redis keys of the per-key limits, under `<prefix>:_meta:limit:` so they share the prefix's Cluster hash tag
 * with every other celeriac key (the acquire script touches a concurrency key and a rate key at once, which Redis
 * Cluster allows only within one slot).
 *
 * A user's key (a tenant id, say) is percent-encoded into the name, so `:`, spaces, braces or any unicode in it can
 * neither break the key's structure nor move it to another slot, and the names stay readable in `redis-cli --scan`.
 */
export function limitKeys(keyPrefix: string) {
  const limit = `${keyPrefix}:_meta:limit`;
  return {
    /** Sorted set: job id → lease expiry (ms, Redis server time) of each job holding a slot for `key`. */
    concurrency: (key: string) => `${limit}:concurrency:${encodeLimitKey(key)}`,
    /** String: the GCRA theoretical arrival time (µs, Redis server time) of the rate limit for `key`. */
    rate: (key: string) => `${limit}:rate:${encodeLimitKey(key)}`,
  };
}

/** The key set for one prefix. */
export type LimitKeys = ReturnType<typeof limitKeys>;

/** A UTF-16 surrogate without its partner: valid in a JS string, but not text, and refused by `encodeURIComponent`. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Percent-encodes a user's key as UTF-8. Lone surrogates (possible in a string decoded from JSON such as `"\ud800"`)
 * become U+FFFD first, as `String.prototype.toWellFormed` does, so a malformed key still gets a limit instead of
 * failing the job's pickup; such keys share that limit with their U+FFFD spelling.
 */
function encodeLimitKey(key: string): string {
  return encodeURIComponent(key.replace(loneSurrogate, '\uFFFD'));
}
