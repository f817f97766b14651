/**
 * @celeriac/redis: the Redis broker for celeriac, on BullMQ and ioredis. This is the only package that talks to
 * Redis; everything else sees the `Broker` contract.
 *
 * @example
 * ```ts
 * import { createRedisBroker } from '@celeriac/redis';
 *
 * const broker = createRedisBroker({ connection: 'redis://127.0.0.1:6379', prefix: 'celeriac' });
 * console.log(await broker.listWorkers());
 * await broker.close();
 * ```
 * @packageDocumentation
 */
export { createRedisBroker } from './redis-broker.js';
export {
  resolveRedisBrokerOptions,
  type RedisBrokerOptions,
  type ResolvedRedisBrokerOptions,
  type RedisConnectionOptions,
  type RedisClusterConnectionOptions,
  type RetentionOptions,
} from './redis-broker-options.js';
export { spawnRedisServer, type SpawnRedisServerOptions, type SpawnedRedisServer } from './spawn-redis-server.js';
export { listClientNames } from './list-client-names.js';
export { createRedisConnection, type RedisConnectionRequest } from './create-redis-connection.js';
