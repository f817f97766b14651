import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { resolveOptions } from '@celeriac/core';
import type { WorkerHealth } from './worker-health.js';

/** Options for {@link serveWorkerHealth}. */
export interface WorkerHealthServerOptions {
  /** Port to listen on; 0 picks a free one (read it back from `port`). */
  readonly port: number;
  /**
   * Address to listen on. Default `0.0.0.0`: the kubelet probes the pod's own address, not loopback. The server
   * answers only the two probes, with the worker's state and counts, never job data.
   */
  readonly host?: string;
}

const healthServerOptionsSchema = z
  .object({
    port: z.number().int().min(0).max(65_535),
    host: z.string().min(1).default('0.0.0.0'),
  })
  .strict();

/** A listening health server, from {@link serveWorkerHealth}. */
export interface WorkerHealthServer {
  /** The port it listens on (the chosen one when `port` was 0). */
  readonly port: number;
  /** `http://<host>:<port>` */
  readonly url: string;
  /** Stops listening and waits for open connections to end. */
  close(): Promise<void>;
}

/**
 * Serves a worker's liveness and readiness over plain `node:http`, for Kubernetes probes and Docker healthchecks:
 * `GET /livez` is 200 while the consumer loop polls Redis (503 once it stopped), `GET /readyz` is 200 from start until
 * shutdown begins. Both answer with the worker's {@link WorkerHealth} as JSON. No framework: the worker should not
 * carry the API's dependencies, and two routes need none.
 *
 * @example
 * ```ts
 * const health = await serveWorkerHealth(worker, { port: 9090 });
 * await worker.start();
 * await worker.waitUntilClosed();
 * await health.close();
 * ```
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` for a bad port or host
 */
export async function serveWorkerHealth(
  worker: { health(): WorkerHealth },
  options: WorkerHealthServerOptions,
): Promise<WorkerHealthServer> {
  const { port, host } = resolveOptions(healthServerOptionsSchema, options, 'healthServer');
  const server = createServer((request, response) => answerProbe(worker.health(), request, response));
  // Probes open a connection per check; do not let an idle keep-alive one hold up close().
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

function answerProbe(health: WorkerHealth, request: IncomingMessage, response: ServerResponse): void {
  const path = (request.url ?? '/').split('?')[0];
  const ok = path === '/livez' ? health.live : path === '/readyz' ? health.ready : undefined;
  if (ok === undefined) return reply(response, 404, { error: 'not found: the worker serves GET /livez and GET /readyz' });
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return reply(response, 405, { error: `method ${String(request.method)} not allowed; use GET` });
  }
  reply(response, ok ? 200 : 503, health);
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(response.req.method === 'HEAD' ? undefined : text);
}
