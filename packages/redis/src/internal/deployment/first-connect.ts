import type { Redis } from 'ioredis';
import { CeleriacError, ErrorCode } from '@celeriac/core';

/**
 * Follows a connection until it is first ready. ioredis keeps reconnecting after a failed attempt, so a broker
 * created while Redis is down starts working once Redis is up; meanwhile {@link failure} holds the last attempt's
 * error, so calls can fail fast with it instead of waiting out their deadline.
 *
 * One failure never heals by retrying: a cluster connection to a server without cluster mode. It becomes a
 * `CELERIAC_BROKER_MISCONFIGURED` error that rejects {@link ready}.
 */
export class FirstConnect {
  /** Resolves when the connection is first ready; rejects for a cluster connection to a non-cluster server. */
  readonly ready: Promise<void>;
  /** The last connection error before the first ready; `undefined` once connected. */
  failure: Error | undefined;
  /** The rejections of {@link whenReady} calls waiting on the attempt under way. */
  private readonly waiting = new Set<(error: Error) => void>();

  constructor(connection: Redis) {
    this.ready = new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        const misfit = toClusterMisfit(error);
        this.failure = misfit ?? error;
        for (const fail of this.waiting) fail(this.failure);
        this.waiting.clear();
        if (misfit) {
          stop();
          reject(misfit);
        }
      };
      const onReady = (): void => {
        this.failure = undefined;
        stop();
        resolve();
      };
      const onEnd = (): void => {
        stop();
        reject(new Error('the connection was closed before it was ready'));
      };
      const stop = (): void => {
        connection.off('error', onError);
        connection.off('ready', onReady);
        connection.off('end', onEnd);
      };
      connection.on('error', onError);
      connection.once('ready', onReady);
      connection.once('end', onEnd);
    });
    this.ready.catch(() => {}); // a broker closed before it connected is not an error worth reporting
  }

  /**
   * Resolves once the connection is first ready, however long the attempt under way takes. Rejects with the
   * connection's error as soon as it has one: at once when the last attempt failed (Redis is down), else when the
   * attempt under way fails. ioredis keeps trying, so a later call can still succeed.
   */
  whenReady(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.waiting.add(reject);
      this.ready.then(resolve, reject).finally(() => this.waiting.delete(reject));
    });
  }
}

/**
 * ioredis's Cluster reports a node without cluster mode as a failed slot refresh whose last node error is Redis's
 * "ERR This instance has cluster support disabled".
 */
function toClusterMisfit(error: Error): CeleriacError | undefined {
  const nodeError = (error as { lastNodeError?: unknown }).lastNodeError;
  const message = nodeError instanceof Error ? nodeError.message : '';
  if (!/cluster support disabled/i.test(message)) return undefined;
  return new CeleriacError(
    ErrorCode.BrokerMisconfigured,
    'The connection names a Redis Cluster (`connection: { cluster: [...] }` or a redis+cluster:// URL), but Redis answered that it is not in ' +
      'cluster mode (cluster support disabled). Connect to it as a single server instead: a redis:// URL or ' +
      '`{ host, port }`.',
    { cause: nodeError, details: { check: 'cluster-mode', expected: 'cluster', found: 'standalone' } },
  );
}
