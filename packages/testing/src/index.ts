/**
 * @celeriac/testing: the test harness celeriac's own tests use, published for apps that test their tasks against
 * a real Redis. Add `@celeriac/testing/global-setup` to vitest's `globalSetup`, then:
 *
 * @example
 * ```ts
 * import { useTestRedis } from '@celeriac/testing';
 * const redis = useTestRedis();
 * it('round-trips a job', async () => {
 *   const broker = redis.createBroker();
 *   expect(await broker.getJob('nope')).toBeUndefined();
 * });
 * ```
 * @packageDocumentation
 */
export { resolveTestRedis, type TestRedis } from './resolve-test-redis.js';
export { useTestRedis, type TestRedisContext, type Closeable } from './use-test-redis.js';
export { spawnRedisCluster, type SpawnRedisClusterOptions, type SpawnedRedisCluster } from './spawn-redis-cluster.js';
