import { existsSync } from 'node:fs';
import { spawnRedisServer } from '@celeriac/redis';

/** A Redis server for a test run, and how to stop it. */
export interface TestRedis {
  readonly url: string;
  /** Where it came from, printed once so a failing CI log shows which Redis the tests used. */
  readonly source: 'REDIS_URL' | 'testcontainers' | 'redis-server';
  stop(): Promise<void>;
}

/**
 * Finds a Redis for the tests, in order: `REDIS_URL` if set; a testcontainers Redis when a Docker engine answers;
 * otherwise a `redis-server` spawned on a free port. Tests never use the machine's default 6379 by accident.
 */
export async function resolveTestRedis(): Promise<TestRedis> {
  const fromEnv = process.env['REDIS_URL'];
  if (fromEnv) return { url: fromEnv, source: 'REDIS_URL', stop: async () => {} };
  if (dockerEngineMayAnswer()) {
    const container = await startContainer().catch(() => undefined);
    if (container) return container;
  }
  const server = await spawnRedisServer();
  return { url: server.url, source: 'redis-server', stop: () => server.stop() };
}

/** Cheap check before paying for testcontainers' own discovery, which is slow to give up. */
function dockerEngineMayAnswer(): boolean {
  return Boolean(process.env['DOCKER_HOST']) || existsSync('/var/run/docker.sock');
}

async function startContainer(): Promise<TestRedis> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('redis:7-alpine')
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  return {
    url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
    source: 'testcontainers',
    stop: async () => {
      await container.stop();
    },
  };
}
