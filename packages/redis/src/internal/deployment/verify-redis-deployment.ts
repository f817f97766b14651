import type { Redis } from 'ioredis';
import { CeleriacError, ErrorCode } from '@celeriac/core';
import { asCluster } from '../create-connection.js';

/** What the deployment check found that is worth a warning but no refusal. */
export interface DeploymentReport {
  /** One sentence each, saying what was found and what to do. */
  readonly warnings: string[];
}

/** What {@link verifyRedisDeployment} checks against. */
export interface DeploymentExpectations {
  /** Accept a `maxmemory-policy` other than `noeviction` (with a warning) instead of refusing it. */
  readonly allowEviction: boolean;
}

/** What one node said about itself; a field is `undefined` when that node would not tell (an ACL, a renamed command). */
interface NodeFacts {
  readonly address: string;
  readonly clusterEnabled: boolean | undefined;
  /** How many nodes the cluster has, when the node is in cluster mode. */
  readonly clusterNodes: number | undefined;
  readonly evictionPolicy: string | undefined;
  readonly aofEnabled: boolean | undefined;
}

/**
 * Checks, once at startup, that the Redis behind `connection` fits it and keeps celeriac's promise never to lose a
 * job: a plain connection must not point at a cluster node (keys of other slots would fail with MOVED at run time),
 * and every master must have the `noeviction` policy (any other policy deletes keys, jobs included, when memory
 * runs out). On a cluster each master is asked, since each has its own configuration.
 *
 * @throws CeleriacError `CELERIAC_BROKER_MISCONFIGURED` saying what was found and how to fix it
 */
export async function verifyRedisDeployment(connection: Redis, expect: DeploymentExpectations): Promise<DeploymentReport> {
  const cluster = asCluster(connection);
  const nodes = cluster ? cluster.nodes('master') : [connection];
  const facts = await Promise.all(nodes.map(readNodeFacts));
  const warnings: string[] = [];
  for (const node of facts) {
    // A one-node cluster (Dragonfly's emulated cluster mode, a lone Redis Cluster master) owns every slot, so a plain
    // connection works there; with more nodes, keys in another node's slots would fail with MOVED.
    if (!cluster && node.clusterEnabled === true && (node.clusterNodes ?? 2) > 1) throw plainToCluster(node.address);
    checkEviction(node, expect, warnings);
    if (node.aofEnabled === false) {
      warnings.push(
        `Redis at ${node.address} does not keep an append-only file (appendonly no): jobs accepted since its last ` +
          'snapshot are lost if it restarts. Turn on `appendonly yes` with `appendfsync everysec` (see docs/redis.md).',
      );
    }
  }
  return { warnings };
}

function checkEviction(node: NodeFacts, expect: DeploymentExpectations, warnings: string[]): void {
  const policy = node.evictionPolicy;
  if (policy === undefined) {
    warnings.push(
      `Could not read the maxmemory-policy of Redis at ${node.address} (CONFIG GET and INFO memory were refused). ` +
        'Make sure it is `noeviction`: any other policy lets Redis delete jobs when it runs out of memory.',
    );
  } else if (policy !== 'noeviction' && expect.allowEviction) {
    warnings.push(
      `Redis at ${node.address} has maxmemory-policy ${policy}: when it runs out of memory it deletes keys, jobs ` +
        'included, and allowEviction is on, so celeriac accepts that. Set `maxmemory-policy noeviction` to keep every job.',
    );
  } else if (policy !== 'noeviction') {
    throw new CeleriacError(
      ErrorCode.BrokerMisconfigured,
      `Redis at ${node.address} has maxmemory-policy ${policy}: when it runs out of memory it deletes keys, and jobs ` +
        'with them, without telling anyone. Set `maxmemory-policy noeviction` (CONFIG SET maxmemory-policy noeviction, ' +
        'and in redis.conf or your provider\'s parameter group), or pass `allowEviction: true` if losing jobs is acceptable.',
      { details: { check: 'maxmemory-policy', expected: 'noeviction', found: policy, node: node.address } },
    );
  }
}

function plainToCluster(address: string): CeleriacError {
  return new CeleriacError(
    ErrorCode.BrokerMisconfigured,
    `Redis at ${address} is a Redis Cluster node (cluster_enabled:1), but the connection names a single server, so ` +
      'keys in slots of other nodes would fail with MOVED. Connect with `connection: { cluster: [{ host, port }, ...] }`, ' +
      `or the URL redis+cluster://${address} (--redis-url, REDIS_URL).`,
    { details: { check: 'cluster-mode', expected: 'standalone', found: 'cluster', node: address } },
  );
}

async function readNodeFacts(node: Redis): Promise<NodeFacts> {
  const address = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
  // Managed Redis and ACL users often refuse CONFIG (or rename it); INFO memory carries the policy too.
  const [info, config] = await Promise.all([
    node.info().catch(() => undefined),
    (node.config('GET', 'maxmemory-policy') as Promise<unknown>).catch(() => undefined),
  ]);
  const fields = info === undefined ? new Map<string, string>() : parseInfo(info);
  const configured = Array.isArray(config) && typeof config[1] === 'string' ? config[1] : undefined;
  const flag = (name: string) => (fields.has(name) ? fields.get(name) === '1' : undefined);
  const clusterInfo =
    flag('cluster_enabled') === true ? await (node.cluster('INFO') as Promise<string>).catch(() => undefined) : undefined;
  const knownNodes = clusterInfo === undefined ? undefined : Number(parseInfo(clusterInfo).get('cluster_known_nodes'));
  return {
    address,
    clusterEnabled: flag('cluster_enabled'),
    clusterNodes: knownNodes !== undefined && Number.isInteger(knownNodes) ? knownNodes : undefined,
    evictionPolicy: configured ?? fields.get('maxmemory_policy'),
    aofEnabled: flag('aof_enabled'),
  };
}

/** INFO's `name:value` lines. */
function parseInfo(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}
