import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord } from '../api-key-record.js';

/** Finds the stored key that a presented key matches, or `undefined`. */
export type ApiKeyVerifier = (presentedKey: string) => ApiKeyRecord | undefined;

/**
 * Builds the key lookup. The presented key is hashed with SHA-256 and compared with **every** stored hash by
 * `crypto.timingSafeEqual`, without stopping at a match: the time taken depends only on the number of keys, never
 * on how much of a guess was right or which key matched. Comparing fixed-length digests (not the keys) also keeps
 * the key's length out of the timing.
 */
export function createApiKeyVerifier(records: readonly ApiKeyRecord[]): ApiKeyVerifier {
  const stored = records.map((record) => ({ record, digest: Buffer.from(record.hash.slice('sha256:'.length), 'hex') }));
  return (presentedKey) => {
    const digest = createHash('sha256').update(presentedKey, 'utf8').digest();
    let found: ApiKeyRecord | undefined;
    for (const candidate of stored) {
      if (timingSafeEqual(digest, candidate.digest) && found === undefined) found = candidate.record;
    }
    return found;
  };
}

/** The key of an `Authorization: Bearer <key>` header; `undefined` for a missing or malformed header. */
export function parseBearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer +([\x21-\x7e]{1,512}) *$/i.exec(header);
  return match?.[1];
}
