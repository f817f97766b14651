import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { isClusterConnection, type ResolvedClusterConnection, type ResolvedRedisBrokerOptions } from '../redis-broker-options.js';

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
 * Opens an ioredis connection, or an ioredis `Cluster` when the options name a Redis Cluster. Its client name
 * carries the key prefix so the test harness (and an operator running `CLIENT LIST`) can tell which deployment a
 * connection belongs to.
 *
 * A `Cluster` is returned typed as `Redis`: both implement the same commands, pipelines, MULTI, pub/sub, scripts
 * (`defineCommand`), `duplicate()` and `quit()`, which is all celeriac and BullMQ use, so every caller works on
 * either without a union type threaded through the package. Code that must tell them apart uses {@link isCluster}.
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
        { enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: options.autoPipelining }
      : { maxRetriesPerRequest: null }),
  };
  const { connection } = options;
  if (isClusterConnection(connection)) return createCluster(connection, common) as unknown as Redis;
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

/**
 * An ioredis Cluster whose node connections get the role's options. The fail-fast and auto-pipelining settings
 * belong to the Cluster object (it is what queues commands while the slot map is unknown); the rest apply per node.
 */
function createCluster(connection: ResolvedClusterConnection, common: RedisOptions): Cluster {
  const { enableOfflineQueue, enableAutoPipelining, retryStrategy, ...perNode } = common;
  const options: ClusterOptions = {
    lazyConnect: false,
    clusterRetryStrategy: retryStrategy ?? null,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    redisOptions: {
      ...perNode,
      ...(connection.username === undefined ? {} : { username: connection.username }),
      ...(connection.password === undefined ? {} : { password: connection.password }),
      ...(connection.tls ? { tls: {} } : {}),
    },
    // With TLS, hand the node's name (not an address ioredis resolved) to the TLS layer, so the certificate's name
    // matches: managed clusters (ElastiCache, Memorystore) announce names and need this.
    ...(connection.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
  return new Cluster(connection.cluster.map(({ host, port }) => ({ host, port })), options);
}

/** Whether a connection from {@link createConnection} is an ioredis Cluster. */
export function isCluster(connection: Redis): boolean {
  return (connection as unknown as { isCluster?: boolean }).isCluster === true;
}

/** The same connection, typed as the ioredis Cluster it is; see {@link isCluster}. */
export function asCluster(connection: Redis): Cluster | undefined {
  return isCluster(connection) ? (connection as unknown as Cluster) : undefined;
}
