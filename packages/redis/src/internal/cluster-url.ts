import { z } from 'zod';

/** The schemes of a cluster URL: `redis+cluster://`, and `rediss+cluster://` for TLS. */
const clusterUrlPattern = /^(rediss?)\+cluster:\/\/(.*)$/;

/** Whether `value` is written as a cluster URL (well formed or not). */
export function isClusterUrl(value: unknown): boolean {
  return typeof value === 'string' && clusterUrlPattern.test(value);
}

/** One seed node, `host:port` or `[ipv6]:port`; the port defaults to 6379. */
const nodePattern = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/;

/**
 * A Redis Cluster as one URL, for places that take a string (`--redis-url`, `REDIS_URL`):
 * `redis+cluster://[user:password@]host:port,host:port,...`, or `rediss+cluster://` for TLS. Credentials are
 * URL-encoded, as in a `redis://` URL. It parses to the same object as the `{ cluster: [...] }` connection form.
 */
export const clusterUrlSchema = z
  .string()
  .regex(clusterUrlPattern)
  .transform((url, context) => {
    const [, scheme, rest] = clusterUrlPattern.exec(url)!;
    const at = rest!.lastIndexOf('@');
    const [userInfo, hosts] = at === -1 ? [undefined, rest!] : [rest!.slice(0, at), rest!.slice(at + 1)];
    const cluster: { host: string; port: number }[] = [];
    for (const node of hosts.split(',')) {
      const match = nodePattern.exec(node.trim());
      const port = Number(match?.[3] ?? 6379);
      if (!match || port < 1 || port > 65535) {
        context.addIssue({ code: 'custom', message: `"${node}" is not host:port` });
        return z.NEVER;
      }
      cluster.push({ host: match[1] ?? match[2]!, port });
    }
    const [username, password] = userInfo === undefined ? [] : splitUserInfo(userInfo);
    return {
      cluster,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(scheme === 'rediss' ? { tls: true } : {}),
    };
  });

/** `user:password`, `:password` or `user`, each URL-decoded. */
function splitUserInfo(userInfo: string): [string | undefined, string | undefined] {
  const colon = userInfo.indexOf(':');
  const decode = (text: string) => (text === '' ? undefined : decodeURIComponent(text));
  return colon === -1 ? [decode(userInfo), undefined] : [decode(userInfo.slice(0, colon)), decode(userInfo.slice(colon + 1))];
}
