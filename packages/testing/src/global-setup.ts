import type { TestProject } from 'vitest/node';
import { resolveTestRedis } from './resolve-test-redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL of the Redis server this test run uses. */
    redisUrl: string;
  }
}

/**
 * vitest global setup: one Redis for the whole run (tests isolate themselves by key prefix), stopped at the end.
 * Point vitest's `globalSetup` at `@celeriac/testing/global-setup`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await resolveTestRedis();
  console.log(`[celeriac/testing] Redis from ${redis.source}: ${redis.url}`);
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
