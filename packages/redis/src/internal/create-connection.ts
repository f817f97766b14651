import { Redis, type RedisOptions } from 'ioredis';
import type { ResolvedRedisBrokerOptions } from '../redis-broker-options.js';

/** The two kinds of connection celeriac opens, which need opposite failure behaviour. */
export const ConnectionRole = {
  /**
   * Plain commands from the client and the API. No offline queue: while Redis is down a command fails at once,
   * so a submit answers 503 instead of hanging until a timeout.
   */
  Command: 'command',
  /**
   * BullMQ workers and event listeners. They block on Redis and must ride out outages, so commands wait for the
   * reconnect (`maxRetriesPerRequest: null`, which BullMQ requires for blocking connections).
   */
  Blocking: 'blocking',
} as const;
export type ConnectionRole = (typeof ConnectionRole)[keyof typeof ConnectionRole];

/**
 * Opens an ioredis connection. Its client name carries the key prefix so the test harness (and an operator running
 * `CLIENT LIST`) can tell which deployment a connection belongs to.
 */
export function createConnection(options: ResolvedRedisBrokerOptions, role: ConnectionRole): Redis {
  const common: RedisOptions = {
    connectionName: `celeriac:${options.keyPrefix}:${role}`,
    lazyConnect: false,
    // Back off up to 2 s between reconnects: fast recovery after a Redis restart without a busy loop.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    ...(role === ConnectionRole.Command
      ? // No ioredis commandTimeout: the broker times whole operations (OperationDeadlines), and a timer per command
        // costs throughput for nothing.
        { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { maxRetriesPerRequest: null }),
  };
  const { connection } = options;
  if (typeof connection === 'string') return new Redis(connection, common);
  return new Redis({
    ...common,
    host: connection.host,
    port: connection.port,
    ...(connection.username === undefined ? {} : { username: connection.username }),
    ...(connection.password === undefined ? {} : { password: connection.password }),
    ...(connection.db === undefined ? {} : { db: connection.db }),
    ...(connection.tls ? { tls: {} } : {}),
  });
}
