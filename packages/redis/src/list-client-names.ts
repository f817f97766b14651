import { Redis } from 'ioredis';

/**
 * Lists the names of the clients connected to a Redis server (`CLIENT LIST`). celeriac names every connection
 * `celeriac:<key prefix>:<role>`, so this shows which deployments (or tests) still hold connections.
 */
export async function listClientNames(url: string): Promise<string[]> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await probe.connect();
    const list = (await probe.client('LIST')) as string;
    return list
      .split('\n')
      .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
      .filter((name) => name !== '');
  } finally {
    probe.disconnect();
  }
}
