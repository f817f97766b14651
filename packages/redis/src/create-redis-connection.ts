import type { Redis } from 'ioredis';
import { resolveRedisBrokerOptions, type RedisConnectionOptions } from './redis-broker-options.js';
import { ConnectionRole, createConnection } from './internal/create-connection.js';

/** What {@link createRedisConnection} takes: the same connection and prefix as the broker. */
export interface RedisConnectionRequest {
  /** Where Redis is: a `redis://` / `rediss://` URL (with `user:password@` for an ACL user), or host, port and TLS. */
  readonly connection?: RedisConnectionOptions;
  /** The deployment's key prefix; it names the connection in `CLIENT LIST`, as the broker's do. */
  readonly prefix?: string;
  /** One socket write for the commands of one tick, as the broker's `autoPipelining` option. Default `false`. */
  readonly autoPipelining?: boolean;
}

/**
 * Opens a plain ioredis command connection, configured exactly like the broker's (ACL credentials, TLS, fail-fast
 * while Redis is down), for a library that needs a Redis client of its own: the API's rate limiter hands it to
 * `@fastify/rate-limit`'s Redis store. This package stays the only one that imports ioredis; the caller closes the
 * connection with `quit()`. Connection errors are not emitted as events: commands fail while Redis is down.
 *
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` for a bad connection or prefix
 */
export function createRedisConnection(request: RedisConnectionRequest = {}): Redis {
  const redis = createConnection(resolveRedisBrokerOptions(request), ConnectionRole.Command);
  // ioredis reconnects on its own; while it is down, each command fails and the caller sees that instead.
  redis.on('error', () => {});
  return redis;
}
