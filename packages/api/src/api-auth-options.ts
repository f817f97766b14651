import { z } from 'zod';
import { CeleriacError, ErrorCode } from '@celeriac/core';
import { apiKeyRecordSchema, type ApiKeyRecord } from './api-key-record.js';
import { loadApiKeysFile } from './load-api-keys-file.js';

/** The environment variable naming the API key file when `auth` is not given. */
export const apiKeysFileEnv = 'CELERIAC_API_KEYS_FILE';

/** How the API authenticates callers: the `auth` option of `createApiServer`. */
export interface ApiAuthOptions {
  /** Keys as records (`createApiKey().record`, or lines of a key file). */
  readonly keys?: readonly ApiKeyRecord[];
  /** A key file: JSON lines or a JSON array of `{ id, hash, scopes }`, read once at start-up. */
  readonly keysFile?: string;
  /**
   * Whether `/docs` (the OpenAPI document and its interactive page) answers without a key. Default `true`: the
   * document describes routes, never data, and a browser cannot attach a bearer key to a page it navigates to.
   * With `false`, the docs need the `read` scope.
   */
  readonly publicDocs?: boolean;
}

/** The `auth` option's schema: `false` turns authentication off (and the server logs a warning). */
export const apiAuthOptionsSchema = z.union([
  z.literal(false),
  z
    .object({
      keys: z.array(apiKeyRecordSchema).optional(),
      keysFile: z.string().min(1).optional(),
      publicDocs: z.boolean().default(true),
    })
    .strict(),
]);

/** {@link ApiAuthOptions} resolved: `false`, or every key from `keys` and `keysFile` together. */
export type ResolvedApiAuth = false | { readonly keys: readonly ApiKeyRecord[]; readonly publicDocs: boolean };

/**
 * Resolves the `auth` option: `false` stays off; otherwise the keys given and those in `keysFile` (or, when `auth`
 * is not given at all, in the file named by `CELERIAC_API_KEYS_FILE`). A server without a single key refuses to
 * start: secure by default means never serving protected routes openly by accident.
 *
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` when there is no key, or the key file is bad
 */
export function resolveApiAuth(
  auth: z.output<typeof apiAuthOptionsSchema> | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedApiAuth {
  if (auth === false) return false;
  const keysFile = auth === undefined ? env[apiKeysFileEnv] || undefined : auth.keysFile;
  const keys = [...(auth?.keys ?? []), ...(keysFile === undefined ? [] : loadApiKeysFile(keysFile))];
  if (keys.length === 0) {
    throw new CeleriacError(
      ErrorCode.InvalidOptions,
      'The API has no API keys, so it would serve every route to anyone who can reach it. Give auth: { keys } or ' +
        `auth: { keysFile } (or set ${apiKeysFileEnv}); create a key with \`celeriac api-key create --scopes read,submit\`. ` +
        'To run without authentication on a trusted network or in tests, pass auth: false explicitly.',
      { details: { issues: [{ path: 'api.auth', message: 'no API keys configured' }] } },
    );
  }
  const ids = new Set<string>();
  for (const key of keys) {
    if (ids.has(key.id)) {
      throw new CeleriacError(ErrorCode.InvalidOptions, `Two API keys have the id "${key.id}". Give each key its own id.`, {
        details: { issues: [{ path: 'api.auth.keys', message: `duplicate id ${key.id}` }] },
      });
    }
    ids.add(key.id);
  }
  return Object.freeze({ keys: Object.freeze(keys), publicDocs: auth?.publicDocs ?? true });
}
