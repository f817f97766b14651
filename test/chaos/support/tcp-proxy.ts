import { connect, createServer, type Server, type Socket } from 'node:net';

/** How a cut treats new connections: `refuse` closes them at once, `blackhole` accepts them and never answers. */
export type CutMode = 'refuse' | 'blackhole';

/** A TCP proxy between a process and a server, under the test's control. */
export interface TcpProxy {
  /** The proxy's loopback port. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, for a proxy in front of Redis. */
  readonly url: string;
  /** Delays every chunk, both ways, by `ms` (0 to forward at once). Order is kept. */
  setLatency(ms: number): void;
  /** Cuts the network: destroys every open connection, and refuses or blackholes new ones until `heal()`. */
  cut(mode?: CutMode): void;
  /** Ends the cut: new connections are forwarded again, and blackholed ones are closed so their clients retry. */
  heal(): void;
  /** Connections forwarded since the proxy started (a client that reconnected shows here). */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy on a free loopback port that forwards to `targetPort`. The chaos suite puts it between a
 * worker and Redis to add latency and to cut the network, which a kill of either side cannot simulate: both
 * processes live on, each believing the other is there until a write fails or a lease runs out.
 */
export async function createTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const blackholed = new Set<Socket>();
  let latencyMs = 0;
  let cutMode: CutMode | undefined;
  let connections = 0;

  const server: Server = createServer((client) => {
    if (cutMode === 'refuse') return void client.destroy();
    if (cutMode === 'blackhole') {
      // Accept and say nothing: the client waits for its connect or command timeout, as behind a dropped route.
      blackholed.add(client);
      client.on('error', () => undefined).on('close', () => blackholed.delete(client));
      return;
    }
    connections += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        open.delete(socket);
        // One side closing closes the pair, as a real connection does.
        client.destroy();
        upstream.destroy();
      });
    }
    pipeWithLatency(client, upstream, () => latencyMs);
    pipeWithLatency(upstream, client, () => latencyMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the proxy has no port');
  return {
    port: address.port,
    url: `redis://127.0.0.1:${address.port}`,
    get connections() {
      return connections;
    },
    setLatency: (ms) => void (latencyMs = ms),
    cut(mode = 'refuse') {
      cutMode = mode;
      for (const socket of open) socket.destroy();
    },
    heal() {
      cutMode = undefined;
      for (const socket of blackholed) socket.destroy();
    },
    async close() {
      for (const socket of [...open, ...blackholed]) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Forwards `from` to `to`, each chunk delayed by the latency at the time it arrived. One queue per direction with
 * a single timer keeps the order even when the latency changes while chunks are in flight.
 */
function pipeWithLatency(from: Socket, to: Socket, latencyMs: () => number): void {
  const queue: { chunk: Buffer; dueMs: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = (): void => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0]!.dueMs <= now) {
      if (!to.destroyed) to.write(queue.shift()!.chunk);
      else queue.length = 0;
    }
    if (queue.length > 0) timer = setTimeout(pump, queue[0]!.dueMs - now);
  };
  from.on('data', (chunk: Buffer) => {
    const delay = latencyMs();
    if (delay === 0 && queue.length === 0) return void to.write(chunk);
    const last = queue.at(-1)?.dueMs ?? 0;
    queue.push({ chunk, dueMs: Math.max(Date.now() + delay, last) });
    timer ??= setTimeout(pump, delay);
  });
  from.on('close', () => {
    clearTimeout(timer);
    queue.length = 0;
  });
}
