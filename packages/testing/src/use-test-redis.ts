import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, inject } from 'vitest';
import { createRedisBroker, listClientNames, type RedisBrokerOptions } from '@celeriac/redis';
import type { Broker } from '@celeriac/broker';

/** Anything a test opens that must be closed: a broker, a worker, a client, a server. */
export interface Closeable {
  close(): Promise<void> | void;
}

/** Per-test Redis access, from {@link useTestRedis}. */
export interface TestRedisContext {
  /** The run's Redis URL. */
  readonly url: string;
  /** This test's unique prefix (fresh in every test). */
  readonly prefix: string;
  /** Creates a broker on this test's prefix; it is closed after the test. */
  createBroker(options?: Omit<RedisBrokerOptions, 'connection' | 'prefix'>): Broker;
  /** Registers something to close after the test, before the leak check. Returns it for chaining. */
  track<T extends Closeable>(closeable: T): T;
}

/**
 * Gives each test in the file its own key prefix on the run's Redis, closes what the test registered, and then
 * checks that no connection of that prefix is still open: a leaked worker or client fails the test that leaked it.
 *
 * @example
 * ```ts
 * const redis = useTestRedis();
 * it('enqueues', async () => {
 *   const broker = redis.createBroker();
 *   // ...
 * });
 * ```
 */
export function useTestRedis(): TestRedisContext {
  const url = inject('redisUrl');
  let prefix = '';
  let closeables: Closeable[] = [];

  beforeEach(() => {
    prefix = `t${randomBytes(6).toString('hex')}`;
    closeables = [];
  });

  afterEach(async () => {
    // Close in reverse order: a worker goes before the broker it was built on.
    for (const closeable of closeables.reverse()) await closeable.close();
    expect(await openConnections(url, prefix), `connections leaked by prefix ${prefix}`).toEqual([]);
  });

  return {
    url,
    get prefix() {
      return prefix;
    },
    createBroker(options = {}) {
      return this.track(createRedisBroker({ ...options, connection: url, prefix }));
    },
    track(closeable) {
      closeables.push(closeable);
      return closeable;
    },
  };
}

/** Connections still named with `prefix`, polled briefly because QUIT completes asynchronously on the server. */
async function openConnections(url: string, prefix: string): Promise<string[]> {
  let open: string[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    open = (await listClientNames(url)).filter((name) => name.includes(prefix));
    if (open.length === 0) return open;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return open;
}
