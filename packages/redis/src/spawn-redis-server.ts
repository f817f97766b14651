import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { CeleriacError, ErrorCode } from '@celeriac/core';

/** Options for {@link spawnRedisServer}. */
export interface SpawnRedisServerOptions {
  /** Folder for Redis's data (its AOF when `persist` is on). Created if missing. Default: a private temp folder. */
  readonly dataDir?: string;
  /** Keep data across restarts with an append-only file. Default `false` (tests want a clean slate). */
  readonly persist?: boolean;
  /** The `redis-server` binary. Default `redis-server` from PATH. */
  readonly binary?: string;
  /**
   * The port to listen on. Default: a free port. Give the port of a server that was stopped to restart it at the
   * same address (with the same `dataDir` and `persist`), as a crash-recovery test does.
   */
  readonly port?: number;
  /** More `redis-server` arguments, after celeriac's own (a later one wins): `['--appendfsync', 'always']`. */
  readonly extraArgs?: readonly string[];
}

/** A redis-server child process. */
export interface SpawnedRedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The server's process id: a test kills it with `process.kill(pid, 'SIGKILL')` to simulate a crash. */
  readonly pid: number;
  /** Shuts the server down and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts a private `redis-server` on a free loopback port and resolves once it accepts connections. Used by
 * `celeriac dev` and by the test harness when no `REDIS_URL` is given and no Docker engine answers.
 *
 * @throws CeleriacError `CELERIAC_BROKER_UNAVAILABLE` if redis-server is not installed or does not start
 */
export async function spawnRedisServer(options: SpawnRedisServerOptions = {}): Promise<SpawnedRedisServer> {
  const port = options.port ?? (await findFreePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--loglevel', 'warning'];
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('--dir', options.dataDir);
  }
  args.push('--appendonly', options.persist ? 'yes' : 'no', ...(options.extraArgs ?? []));
  const binary = options.binary ?? 'redis-server';
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    await waitUntilListening(child, port);
  } catch (error) {
    child.kill('SIGKILL');
    const installHint = (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? `"${binary}" is not installed. Install it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL.`
      : `redis-server did not start: ${stderr.trim() || (error as Error).message}`;
    throw new CeleriacError(ErrorCode.BrokerUnavailable, installHint, { cause: error, details: { binary, port } });
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    stop: () => stopChild(child),
  };
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilListening(child: ChildProcess, port: number): Promise<void> {
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}`)));
  });
  const deadline = Date.now() + 10_000;
  const poll = async (): Promise<void> => {
    while (Date.now() < deadline) {
      if (await canConnect(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('redis-server did not listen within 10 s');
  };
  await Promise.race([poll(), exited]);
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
