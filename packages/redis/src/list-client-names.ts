import { Cluster, Redis } from 'ioredis';
import { omitUndefined } from '@celeriac/core';
import { isClusterConnection, resolveRedisBrokerOptions, type RedisConnectionOptions } from './redis-broker-options.js';

/**
 * Lists the names of the clients connected to a Redis server (`CLIENT LIST`), or to every node of a Redis Cluster
 * (CLIENT LIST only answers for the node it is sent to). celeriac names every connection
 * `celeriac:<key prefix>:<role>`, so this shows which deployments (or tests) still hold connections.
 *
 * @param connection a `redis://` URL, or any connection form a broker takes
 */
export async function listClientNames(connection: RedisConnectionOptions): Promise<string[]> {
  const resolved = resolveRedisBrokerOptions({ connection }).connection;
  if (isClusterConnection(resolved)) {
    const { cluster: seeds, username, password, tls } = resolved;
    const redisOptions = { ...(username ? { username } : {}), ...(password ? { password } : {}), ...(tls ? { tls: {} } : {}) };
    const probe = new Cluster(seeds, { lazyConnect: true, redisOptions });
    try {
      await probe.connect();
      const lists = await Promise.all(probe.nodes('all').map((node) => node.client('LIST') as Promise<string>));
      return lists.flatMap(namesIn);
    } finally {
      probe.disconnect();
    }
  }
  const probeOptions = { lazyConnect: true, maxRetriesPerRequest: 1 };
  const probe =
    typeof resolved === 'string'
      ? new Redis(resolved, probeOptions)
      : new Redis({ ...omitUndefined({ ...resolved, tls: resolved.tls ? {} : undefined }), ...probeOptions });
  try {
    await probe.connect();
    return namesIn((await probe.client('LIST')) as string);
  } finally {
    probe.disconnect();
  }
}

function namesIn(list: string): string[] {
  return list
    .split('\n')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name !== '');
}

