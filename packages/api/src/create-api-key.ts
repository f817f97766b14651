import { createHash, randomBytes } from 'node:crypto';
import { resolveOptions } from '@celeriac/core';
import { z } from 'zod';
import { apiKeyRecordSchema, type ApiKeyRecord } from './api-key-record.js';
import type { ApiScope } from './api-scope.js';

/** What {@link createApiKey} takes. */
export interface CreateApiKeyOptions {
  /** The scopes the key grants. */
  readonly scopes: readonly ApiScope[];
  /** The key's id in logs, rate limits and the key file. Default: `key-` and 8 random hex digits. */
  readonly id?: string;
}

/** A new API key: the secret to hand to its user once, and the record the server stores. */
export interface CreatedApiKey {
  /** The secret: `celeriac_` and 43 base64url characters (256 random bits). Show it once; it is not stored. */
  readonly key: string;
  /** What goes into the server's key file (one JSON line) or `auth.keys`. */
  readonly record: ApiKeyRecord;
}

const createApiKeyOptionsSchema = z
  .object({
    scopes: apiKeyRecordSchema.shape.scopes,
    id: apiKeyRecordSchema.shape.id.optional(),
  })
  .strict();

/**
 * Makes a new API key from 256 random bits, with its hashed record. Used by `celeriac api-key create`, by
 * `celeriac dev` for its session key, and by tests.
 *
 * @example
 * ```ts
 * const { key, record } = createApiKey({ scopes: ['read', 'submit'] });
 * const app = await createApiServer({ auth: { keys: [record] } });
 * await fetch(url, { headers: { authorization: `Bearer ${key}` } });
 * ```
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` for an unknown scope or a bad id
 */
export function createApiKey(options: CreateApiKeyOptions): CreatedApiKey {
  const { scopes, id } = resolveOptions(createApiKeyOptionsSchema, options, 'apiKey');
  const key = `celeriac_${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = Object.freeze({
    id: id ?? `key-${randomBytes(4).toString('hex')}`,
    hash: hashApiKey(key),
    scopes: Object.freeze([...new Set(scopes)]) as ApiScope[],
  });
  return Object.freeze({ key, record });
}

/** The stored form of a key: `sha256:` and the hex SHA-256 of its UTF-8 bytes. */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}
