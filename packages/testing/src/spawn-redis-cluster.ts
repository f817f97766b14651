import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CeleriacError, ErrorCode } from '@celeriac/core';
import { spawnRedisServer, type RedisClusterConnectionOptions, type SpawnedRedisServer } from '@celeriac/redis';

const run = promisify(execFile);

/** Options for {@link spawnRedisCluster}. */
export interface SpawnRedisClusterOptions {
  /** How many masters (no replicas). At least 3, as `redis-cli --cluster create` requires. Default 3. */
  readonly masters?: number;
  /** How long to wait for every node to report `cluster_state:ok`. Default 20 s. */
  readonly readyTimeoutMs?: number;
}

/** A local Redis Cluster of spawned `redis-server` processes. */
export interface SpawnedRedisCluster {
  /** The connection option that reaches it: `{ cluster: [{ host, port }, ...] }`. */
  readonly connection: RedisClusterConnectionOptions;
  /** Each node's `redis://127.0.0.1:<port>`, to reach one node on its own (a misconfiguration test does). */
  readonly urls: readonly string[];
  /** Stops every node and removes their folder. */
  stop(): Promise<void>;
}

/**
 * Starts a Redis Cluster of `masters` masters on free loopback ports: one `redis-server --cluster-enabled yes` per
 * node, each with its own folder (its `nodes.conf`) under one temp folder, joined with `redis-cli --cluster create`.
 * Resolves once every node reports `cluster_state:ok`. Needs `redis-server` and `redis-cli` on PATH.
 *
 * @example
 * ```ts
 * const cluster = await spawnRedisCluster();
 * const broker = createRedisBroker({ connection: cluster.connection, prefix: 'test' });
 * // ...
 * await broker.close();
 * await cluster.stop();
 * ```
 * @throws CeleriacError `CELERIAC_BROKER_UNAVAILABLE` if a node does not start or the cluster does not form
 */
export async function spawnRedisCluster(options: SpawnRedisClusterOptions = {}): Promise<SpawnedRedisCluster> {
  const masters = options.masters ?? 3;
  const root = mkdtempSync(join(tmpdir(), 'celeriac-cluster-'));
  const servers: SpawnedRedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (let index = 0; index < masters; index++) {
      const extraArgs = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'];
      servers.push(await spawnRedisServer({ dataDir: join(root, `node-${index}`), extraArgs }));
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    await waitForClusterOk(servers, options.readyTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw new CeleriacError(ErrorCode.BrokerUnavailable, `The Redis Cluster did not start: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    connection: { cluster: servers.map((server) => ({ host: '127.0.0.1', port: server.port })) },
    urls: servers.map((server) => server.url),
    stop,
  };
}

/** Polls `CLUSTER INFO` on every node: the slots are assigned at once, but the nodes agree a moment later. */
async function waitForClusterOk(servers: readonly SpawnedRedisServer[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const isOk = async (port: number): Promise<boolean> => {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
    return stdout.includes('cluster_state:ok') && stdout.includes('cluster_slots_ok:16384');
  };
  while (Date.now() < deadline) {
    const states = await Promise.all(servers.map((server) => isOk(server.port).catch(() => false)));
    if (states.every(Boolean)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not every node reported cluster_state:ok within ${timeoutMs} ms`);
}
