import type { FlagSpec } from './command.js';
import { stringFlag } from './command.js';

/** Flags every command that talks to Redis shares; their defaults come from the environment. */
export const redisFlags = {
  'redis-url': { type: 'string', description: 'Redis to use', defaultHint: '$REDIS_URL or redis://127.0.0.1:6379' },
  prefix: { type: 'string', description: 'Key prefix shared by workers and clients', defaultHint: '$CELERIAC_PREFIX or celeriac' },
} as const satisfies Record<string, FlagSpec>;

/** The flags of the long-running processes that open a broker (`api`, `worker`), beside {@link redisFlags}. */
export const brokerFlags = {
  ...redisFlags,
  'allow-eviction': {
    type: 'boolean',
    description: 'Start even if Redis may evict keys (maxmemory-policy is not noeviction), accepting lost jobs',
  },
} as const satisfies Record<string, FlagSpec>;

/** The flags of commands that talk to the HTTP API. */
export const apiFlags = {
  'api-url': { type: 'string', description: 'The celeriac API', defaultHint: '$CELERIAC_API_URL or http://127.0.0.1:8080' },
  'api-key': {
    type: 'string',
    description: 'API key (prefer the environment variable: flags show in `ps`)',
    defaultHint: '$CELERIAC_API_KEY',
  },
} as const satisfies Record<string, FlagSpec>;

/** Where the API is and the key to call it with. */
export interface ApiTarget {
  /** Base URL, no trailing slash. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <key>`; none when undefined. */
  readonly key?: string | undefined;
}

/** Resolves the Redis URL and prefix from flags, then the environment, then defaults. */
export function resolveRedisFlags(flags: Record<string, string | boolean | undefined>): { url: string; prefix: string } {
  return {
    url: stringFlag(flags['redis-url']) ?? process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    prefix: stringFlag(flags['prefix']) ?? process.env['CELERIAC_PREFIX'] ?? 'celeriac',
  };
}

/** Resolves the API's base URL and key from flags, then `CELERIAC_API_URL` and `CELERIAC_API_KEY`. */
export function resolveApiTarget(flags: Record<string, string | boolean | undefined>): ApiTarget {
  return { url: resolveApiUrl(flags), key: stringFlag(flags['api-key']) ?? (process.env['CELERIAC_API_KEY'] || undefined) };
}

/** Resolves the API's base URL (no trailing slash). */
function resolveApiUrl(flags: Record<string, string | boolean | undefined>): string {
  return (stringFlag(flags['api-url']) ?? process.env['CELERIAC_API_URL'] ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
}
