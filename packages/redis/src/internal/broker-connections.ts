import type { Redis } from 'ioredis';
import { ErrorCode, isCeleriacError } from '@celeriac/core';
import type { ResolvedRedisBrokerOptions } from '../redis-broker-options.js';
import { ConnectionRole, createConnection } from './create-connection.js';
import { FirstConnect } from './deployment/first-connect.js';
import { verifyRedisDeployment, type DeploymentReport } from './deployment/verify-redis-deployment.js';
import { OperationDeadlines } from './operation-deadlines.js';

/**
 * A broker's Redis connections, and the gate its calls pass: it opens every connection the broker uses and closes
 * them all at the end, follows the command connection until it is first ready and the deployment is checked, and
 * runs each call under its deadline.
 */
export class BrokerConnections {
  /** The connection for plain commands. It has no offline queue, so calls fail fast while Redis is down. */
  readonly command: Redis;
  private readonly owned = new Set<Redis>();
  private readonly connecting: FirstConnect;
  /** Until the command connection is first ready and the deployment checked: what calls wait for (see {@link run}). */
  private firstConnect: Promise<void> | undefined;
  /** The deployment check, done once; see {@link verifyDeployment}. */
  private deployment: Promise<DeploymentReport> | undefined;
  private readonly deadlines = new OperationDeadlines();

  constructor(private readonly options: ResolvedRedisBrokerOptions) {
    this.command = this.open(ConnectionRole.Command);
    // ioredis reports connection errors as events; without a listener Node would print them as unhandled.
    // Failures still reach callers through the commands that fail.
    this.command.on('error', () => {});
    this.connecting = new FirstConnect(this.command);
    // Calls wait for the deployment check, so a misfit Redis fails the first one with a clear error rather than
    // with a MOVED or a lost job later. Only a misfit stops them: a check that could not run lets them through.
    this.firstConnect = this.connecting.ready.then(() => this.verifyDeployment()).then(
      () => {
        this.firstConnect = undefined;
      },
      (error: unknown) => {
        if (isCeleriacError(error, ErrorCode.BrokerMisconfigured)) throw error;
        this.firstConnect = undefined;
      },
    );
    this.firstConnect.catch(() => {}); // a close before the first connect is not an error worth reporting
  }

  /** See `Broker.verifyDeployment`: the check runs once, or again after one that could not reach Redis. */
  verifyDeployment(): Promise<DeploymentReport> {
    this.deployment ??= this.deadlines.run('verifyDeployment', this.firstConnectTimeoutMs, async () => {
      await this.connecting.whenReady();
      return verifyRedisDeployment(this.command, { allowEviction: this.options.allowEviction });
    });
    const checking = this.deployment;
    // A check that could not reach Redis runs again on the next call; a misfit deployment stays refused.
    checking.catch((error: unknown) => {
      if (!isCeleriacError(error, ErrorCode.BrokerMisconfigured) && this.deployment === checking) this.deployment = undefined;
    });
    return checking;
  }

  /**
   * Runs a command-connection operation under the command timeout. The connection has no offline queue (so calls
   * fail fast while Redis is down), which means a call made before the first connect completes must wait for it:
   * for the connection and the deployment check, under their own deadline, and then for the call's.
   */
  run<T>(operation: string, work: () => Promise<T>, timeoutMs = this.options.commandTimeoutMs): Promise<T> {
    const firstConnect = this.firstConnect;
    if (!firstConnect) return this.deadlines.run(operation, timeoutMs, work);
    // Redis refusing the connection fails the call at once, as a connected broker without an offline queue would,
    // rather than after the deadline. ioredis keeps trying, and calls go through once Redis is back.
    const connected = () => this.connecting.whenReady().then(() => firstConnect);
    return this.deadlines.run(operation, this.firstConnectTimeoutMs, connected).then(() => this.deadlines.run(operation, timeoutMs, work));
  }

  /** Opens a connection of `role`, closed by {@link closeAll} unless it ended before. */
  open(role: ConnectionRole): Redis {
    const connection = createConnection(this.options, role);
    this.owned.add(connection);
    connection.once('end', () => this.owned.delete(connection));
    return connection;
  }

  /** Closes every connection still open; one that cannot say QUIT (Redis away) is dropped. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.owned].map((connection) => connection.quit().catch(() => connection.disconnect())));
  }

  /**
   * How long the first connect and the deployment check may take: longer than one command, since a cluster
   * client maps the slots and the check then asks every master, each over a new connection. ioredis gives one
   * connection attempt 10 s by default.
   */
  private get firstConnectTimeoutMs(): number {
    return Math.max(this.options.commandTimeoutMs, 10_000);
  }
}
