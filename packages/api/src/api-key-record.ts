import { z } from 'zod';
import { apiScopes } from './api-scope.js';

/**
 * One API key as the server stores it: an id (for logs, rate limits and revocation), the SHA-256 of the key, and
 * its scopes. The key itself is never stored; `celeriac api-key create` prints it once.
 *
 * Why SHA-256 and not bcrypt: the keys are 256 random bits, so a leaked hash cannot be reversed by guessing, and a
 * slow hash (whose only purpose is to protect low-entropy passwords) would cost tens of milliseconds of CPU on every
 * request, making each call slow and the API an easy CPU target.
 */
export const apiKeyRecordSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected 1-64 letters, digits, "_", "." or "-", starting with a letter or digit'),
    hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected "sha256:" and 64 lowercase hex digits (celeriac api-key create prints it)'),
    scopes: z.array(z.enum(apiScopes)).min(1, 'give at least one scope: read, submit or admin'),
  })
  .strict();

/** A stored API key: `{ id, hash: 'sha256:<hex>', scopes }`. See {@link apiKeyRecordSchema}. */
export type ApiKeyRecord = Readonly<z.output<typeof apiKeyRecordSchema>>;
