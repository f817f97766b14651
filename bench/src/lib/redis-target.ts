import { once } from 'node:events';
import { Redis } from 'ioredis';
import { spawnRedisServer } from '@celeriac/redis';

/** The Redis server a benchmark runs against, with a connection of its own for housekeeping. */
export interface RedisTarget {
  /** `redis://` URL that every measured client connects to. */
  readonly url: string;
  /** Where the server came from, for the report: `REDIS_URL` or a private redis-server. */
  readonly source: string;
  /** Housekeeping connection (INFO, key cleanup); never used inside a timed section. */
  readonly admin: Redis;
  /** Closes the housekeeping connection and stops the private server, if one was spawned. */
  close(): Promise<void>;
}

/**
 * Connects to `REDIS_URL` when it is set, so a benchmark can target a tuned or remote server; otherwise spawns a
 * private redis-server without persistence, so the figures do not depend on whatever else runs on port 6379.
 */
export async function openRedisTarget(): Promise<RedisTarget> {
  const fromEnv = process.env.REDIS_URL;
  const spawned = fromEnv ? undefined : await spawnRedisServer();
  const url = fromEnv ?? spawned?.url ?? '';
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  return {
    url,
    source: fromEnv ? 'REDIS_URL' : 'private redis-server (spawnRedisServer)',
    admin,
    async close() {
      await admin.quit();
      await spawned?.stop();
    },
  };
}

/** Redis version and persistence settings, as the report prints them. */
export interface RedisDescription {
  readonly version: string;
  /** e.g. `AOF off, RDB snapshots off`. */
  readonly persistence: string;
}

/** Reads the server's version (INFO server) and persistence (INFO persistence, CONFIG GET save). */
export async function describeRedis(admin: Redis): Promise<RedisDescription> {
  const info = (await admin.info('server')) + (await admin.info('persistence'));
  const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  // Managed Redis services often disable CONFIG; the AOF flag from INFO is still worth printing.
  const save = await admin.config('GET', 'save').then(
    (reply) => (reply as string[])[1] ?? '',
    () => undefined,
  );
  const rdb = save === undefined ? 'RDB unknown' : save === '' ? 'RDB snapshots off' : `RDB save "${save}"`;
  return {
    version: field('redis_version') ?? 'unknown',
    persistence: `AOF ${field('aof_enabled') === '1' ? 'on' : 'off'}, ${rdb}`,
  };
}

/**
 * Deletes every key that starts with `prefix`. Each measurement uses its own prefix; removing its keys afterwards
 * keeps the server's memory (and so its speed) the same for every measurement, and leaves a shared server clean.
 */
export async function deleteKeys(admin: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    if (keys.length > 0) await admin.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** The one line a report names its Redis with: version, persistence and where it came from. */
export async function describeRedisTarget(target: RedisTarget): Promise<string> {
  const redis = await describeRedis(target.admin);
  return `${redis.version} (${redis.persistence}), ${target.source}`;
}

/**
 * Opens a connection of a baseline's own and resolves once it is ready, so no timed section pays for the connect.
 * BullMQ requires `maxRetriesPerRequest: null` on the connections of a worker and a `QueueEvents` (blocking reads).
 */
export async function connectRedis(url: string, options: { maxRetriesPerRequest?: null } = {}): Promise<Redis> {
  const connection = new Redis(url, options);
  await once(connection, 'ready');
  return connection;
}
