import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { FlowProducer, Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  CeleriacError,
  ErrorCode,
  JobState,
  attemptRecordSchema,
  catalogueEntrySchema,
  flowJobs,
  workflowRecordSchema,
  isCeleriacError,
  isTerminalState,
  jobRecordSchema,
  workerInfoSchema,
  type AttemptRecord,
  type CatalogueEntry,
  type FlowParent,
  type FlowSpec,
  type JobRecord,
  type SerializedError,
  type WorkerInfo,
  type WorkflowRecord,
} from '@celeriac/core';
import type {
  Broker,
  CancelOutcome,
  ChildrenDeadline,
  ConsumeOptions,
  Consumer,
  EnqueueRequest,
  JobEvent,
  JobOutcome,
  JobProcessor,
  LimitDecision,
  LimitRequest,
} from '@celeriac/broker';
import { resolveRedisBrokerOptions, type RedisBrokerOptions, type ResolvedRedisBrokerOptions } from './redis-broker-options.js';
import { ConnectionRole, createConnection } from './internal/create-connection.js';
import { createConsumer } from './internal/create-consumer.js';
import { celeriacBackoff, type AttemptHistory } from './internal/consumed-job.js';
import { metaKeys, type MetaKeys } from './internal/keys.js';
import {
  parseFailedReason,
  refineState,
  toFreshJobRecord,
  toJobOutcome,
  toJobRecord,
  toJobState,
} from './internal/to-job-record.js';
import { OperationDeadlines } from './internal/operation-deadlines.js';
import { KeyLimiter } from './internal/limits/key-limiter.js';
import { toBullFlowJob } from './internal/workflow/to-flow-job.js';
import { ChildrenDeadlines } from './internal/workflow/children-deadlines.js';

/** How many of a job's most recent log lines its record carries. */
const maxLogLines = 100;

/**
 * The Redis implementation of the celeriac {@link Broker}, on BullMQ. One instance shares a command connection
 * between all its queues, and opens blocking connections only for consumers and result waiters.
 *
 * @example
 * ```ts
 * const broker = createRedisBroker({ connection: process.env.REDIS_URL, prefix: 'celeriac' });
 * const job = await broker.getJob('a-job-id');
 * await broker.close();
 * ```
 */
export function createRedisBroker(options: RedisBrokerOptions = {}): Broker {
  return new RedisBroker(resolveRedisBrokerOptions(options));
}

class RedisBroker implements Broker {
  readonly prefix: string;
  private readonly keys: MetaKeys;
  private readonly connection: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly queueEvents = new Map<string, Promise<QueueEvents>>();
  private readonly registeredQueues = new Map<string, Promise<void>>();
  /** Queues whose registration has completed: checked synchronously, so enqueue skips an await. */
  private readonly knownQueues = new Set<string>();
  private readonly ownedConnections = new Set<Redis>();
  private readonly consumers = new Set<Consumer>();
  private firstConnect: Promise<void> | undefined;
  private readonly deadlines = new OperationDeadlines();
  private readonly limiter: KeyLimiter;
  private flowProducer: FlowProducer | undefined;
  private readonly childrenDeadlines: ChildrenDeadlines;
  /** BullMQ options every job gets; built once, since enqueue is the hot path. */
  private readonly jobDefaults;

  constructor(private readonly options: ResolvedRedisBrokerOptions) {
    this.prefix = options.keyPrefix;
    this.keys = metaKeys(options.keyPrefix);
    const { retention } = options;
    this.jobDefaults = Object.freeze({
      attempts: 1,
      removeOnComplete: { age: Math.ceil(retention.succeededAgeMs / 1000), count: retention.succeededCount },
      removeOnFail: { age: Math.ceil(retention.failedAgeMs / 1000) },
    });
    this.connection = this.openConnection(ConnectionRole.Command);
    this.limiter = new KeyLimiter(this.connection, options.keyPrefix);
    this.childrenDeadlines = new ChildrenDeadlines(this.connection, this.keys.childrenDeadlines, this.prefix, (name) =>
      this.queue(name),
    );
    // ioredis reports connection errors as events; without a listener Node would print them as unhandled.
    // Failures still reach callers through the commands that fail.
    this.connection.on('error', () => {});
    this.firstConnect = once(this.connection, 'ready').then(() => {
      this.firstConnect = undefined;
    });
    this.firstConnect.catch(() => {}); // a close before the first connect is not an error worth reporting
  }

  async enqueue(request: EnqueueRequest): Promise<JobRecord> {
    return this.run('enqueue', async () => {
      if (!this.knownQueues.has(request.queue)) await this.registerQueue(request.queue);
      const jobId = request.jobId ?? randomUUID();
      const job = await this.queue(request.queue).add(request.task, request.envelope, {
        ...this.jobDefaults,
        jobId,
        ...(request.delayMs ? { delay: request.delayMs } : {}),
        ...(request.priority ? { priority: request.priority } : {}),
        ...(request.attempts && request.attempts > 1
          ? { attempts: request.attempts, backoff: { type: celeriacBackoff } }
          : {}),
        ...(request.dedupe ? { deduplication: { id: request.dedupe.id, ttl: request.dedupe.ttlMs } } : {}),
      });
      const id = String(job.id);
      // A generated id is new, so the state follows from the options and costs no round trip. A caller's jobId or
      // dedupe id may name an existing job, which `add` leaves untouched (and whose state may be anything by now).
      // (BullMQ answers a deduplicated add with the id of the job that holds the dedupe key.)
      if (request.jobId === undefined && id === jobId) return toFreshJobRecord(request, id, job.timestamp);
      return (await this.readJob(this.queue(request.queue), id))?.record ?? this.notFound(id);
    });
  }

  async addFlow(flow: FlowSpec, parent?: FlowParent): Promise<void> {
    await this.run('addFlow', async () => {
      const { job } = flow;
      // Creating a flow again (a job that created its next step ran twice) must not touch the first one.
      if ((await this.connection.exists(`${this.prefix}:${job.queue}:${job.id}`)) === 1) return;
      const queues = new Set(flowJobs(flow).map((flowJob) => flowJob.queue));
      await Promise.all([...queues].filter((name) => !this.knownQueues.has(name)).map((name) => this.registerQueue(name)));
      this.flowProducer ??= new FlowProducer({ connection: this.connection, prefix: this.prefix });
      await this.flowProducer.add(toBullFlowJob(flow, this.prefix, this.jobDefaults, parent));
    });
  }

  async saveWorkflow(record: WorkflowRecord): Promise<void> {
    await this.run('saveWorkflow', async () => {
      const ttlMs = this.options.retention.failedAgeMs;
      await this.connection.set(this.keys.workflow(record.id), JSON.stringify(record), 'PX', ttlMs);
    });
  }

  async getWorkflow(id: string): Promise<WorkflowRecord | undefined> {
    return this.run('getWorkflow', async () => {
      const raw = await this.connection.get(this.keys.workflow(id));
      return raw === null ? undefined : parseAll([raw], (value) => workflowRecordSchema.safeParse(value))[0];
    });
  }

  async addChildrenDeadlines(deadlines: readonly ChildrenDeadline[]): Promise<void> {
    await this.run('addChildrenDeadlines', () => this.childrenDeadlines.add(deadlines));
  }

  async enforceChildrenDeadlines(): Promise<number> {
    return this.run('enforceChildrenDeadlines', () => this.childrenDeadlines.enforce());
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    return this.run('getJob', async () => {
      const queue = await this.findQueue(id);
      const found = queue && (await this.readJob(queue, id));
      return found ? found.record : this.readCancelled(id);
    });
  }

  async waitForJob(id: string, timeoutMs: number): Promise<JobOutcome | undefined> {
    const first = await this.getOutcome(id);
    if (first === undefined || isTerminalState(first.outcome.state)) return first?.outcome;
    return new Promise<JobOutcome | undefined>((resolve, reject) => {
      let stop = (): void => {};
      const finish = (outcome: JobOutcome | undefined): void => {
        clearTimeout(timer);
        stop();
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        stop();
        reject(
          new CeleriacError(
            ErrorCode.ResultTimeout,
            `Job "${id}" did not finish within ${timeoutMs} ms; it is still ${first.outcome.state}. ` +
              `Wait longer, or check that a worker consumes queue "${first.queue}".`,
            { details: { id, timeoutMs, state: first.outcome.state } },
          ),
        );
      }, timeoutMs);
      const watching = this.watchJob(id, (event) => {
        if (event.type === 'finished') finish(event.outcome);
      })
        .then((unwatch) => {
          stop = unwatch;
        })
        // The job left its queue between the first read and the subscription (cancelled, or removed by retention).
        .catch((error: unknown) => {
          if (!isCeleriacError(error, ErrorCode.JobNotFound)) throw error;
        });
      // Either way, it may have finished meanwhile: look once more.
      watching
        .then(() => this.getOutcome(id))
        .then((now) => {
          if (now === undefined || isTerminalState(now.outcome.state)) finish(now?.outcome);
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          stop();
          reject(error);
        });
    });
  }

  async watchJob(id: string, listener: (event: JobEvent) => void): Promise<() => void> {
    const queue = await this.run('watchJob', () => this.findQueue(id));
    if (!queue) {
      throw new CeleriacError(ErrorCode.JobNotFound, `Job "${id}" was not found, so it cannot be watched.`, {
        details: { id },
      });
    }
    const events = await this.eventsFor(queue.name);
    const onActive = (event: { jobId: string }): void => {
      if (event.jobId === id) listener({ type: 'active', id });
    };
    const onProgress = (event: { jobId: string; data: unknown }): void => {
      if (event.jobId === id) listener({ type: 'progress', id, progress: event.data });
    };
    const onEnd = (event: { jobId: string }): void => {
      if (event.jobId !== id) return;
      this.getOutcome(id).then(
        (found) => {
          // A failed attempt that will be retried is not the end.
          if (!found || !isTerminalState(found.outcome.state)) return;
          stop();
          listener({ type: 'finished', id, outcome: found.outcome });
        },
        () => undefined, // Redis away: the watcher sees no event, as with any missed pub/sub message
      );
    };
    const stop = (): void => {
      events.off('active', onActive);
      events.off('progress', onProgress);
      events.off('completed', onEnd);
      events.off('failed', onEnd);
      events.off('removed', onEnd);
    };
    events.on('active', onActive);
    events.on('progress', onProgress);
    events.on('completed', onEnd);
    events.on('failed', onEnd);
    events.on('removed', onEnd);
    return stop;
  }

  async cancelJob(id: string): Promise<CancelOutcome> {
    return this.run('cancelJob', async () => {
      const queue = await this.findQueue(id);
      const found = queue && (await this.readJob(queue, id));
      if (!found) return (await this.readCancelled(id)) ? 'cancelled' : 'not-found';
      const { job, record } = found;
      if (isTerminalState(record.state)) return 'already-finished';
      if (record.state === JobState.Active) return this.cancelRunning(id);
      const cancelled: JobRecord = { ...record, state: JobState.Cancelled, finishedAt: new Date().toISOString() };
      // Write the tombstone first: if the removal then fails (the job just became active), a reader still sees the
      // live job, because getJob prefers the job itself over the tombstone.
      await this.connection.set(
        this.keys.cancelled(id),
        JSON.stringify(cancelled),
        'PX',
        this.options.retention.failedAgeMs,
      );
      try {
        await job.remove();
        return 'cancelled';
      } catch {
        // BullMQ refuses to remove a locked job: a worker picked it up meanwhile, so stop it where it runs.
        await this.connection.del(this.keys.cancelled(id));
        return this.cancelRunning(id);
      }
    });
  }

  /**
   * Tells whichever worker runs the job to stop it: every consumer subscribes to the cancel channel, and the one
   * running the job aborts its signal and ends it `cancelled`. Delivery is at most once (Redis pub/sub): a worker
   * that is reconnecting at that instant misses it, and the job then finishes normally.
   */
  private async cancelRunning(id: string): Promise<CancelOutcome> {
    await this.connection.publish(this.keys.cancelChannel, id);
    return 'cancelling';
  }

  async consume(processor: JobProcessor, options: ConsumeOptions): Promise<Consumer> {
    const context = {
      keyPrefix: this.prefix,
      cancelChannel: this.keys.cancelChannel,
      history: this.attemptHistory,
      openConnection: () => this.openConnection(ConnectionRole.Blocking),
    };
    const consumer = await createConsumer(context, processor, options);
    this.consumers.add(consumer);
    return {
      close: (deadlineMs) => {
        this.consumers.delete(consumer);
        return consumer.close(deadlineMs);
      },
    };
  }

  acquireLimits(request: LimitRequest): Promise<LimitDecision> {
    return this.run('acquireLimits', () => this.limiter.acquire(request));
  }

  renewLimit(jobId: string, concurrency: { readonly key: string; readonly leaseMs: number }): Promise<boolean> {
    return this.run('renewLimit', () => this.limiter.renew(jobId, concurrency));
  }

  releaseLimit(jobId: string, concurrencyKey: string): Promise<void> {
    return this.run('releaseLimit', () => this.limiter.release(jobId, concurrencyKey));
  }

  async publishCatalogue(entries: readonly CatalogueEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const fields = entries.flatMap((entry) => [entry.name, JSON.stringify(entry)]);
    await this.run('publishCatalogue', () =>
      this.connection.hset(this.keys.catalogue, ...fields),
    );
  }

  async listCatalogue(): Promise<CatalogueEntry[]> {
    const raw = await this.run('listCatalogue', () =>
      this.connection.hvals(this.keys.catalogue),
    );
    return parseAll(raw, (value) => catalogueEntrySchema.safeParse(value)).sort((a, b) => a.name.localeCompare(b.name));
  }

  async heartbeat(worker: WorkerInfo, ttlMs: number): Promise<void> {
    await this.run('heartbeat', () =>
      this.connection
        .multi()
        .set(this.keys.worker(worker.id), JSON.stringify(worker), 'PX', ttlMs)
        .zadd(this.keys.workers, Date.now() + ttlMs, worker.id)
        .exec(),
    );
  }

  async removeWorker(id: string): Promise<void> {
    await this.run('removeWorker', () =>
      this.connection.multi().del(this.keys.worker(id)).zrem(this.keys.workers, id).exec(),
    );
  }

  async listWorkers(): Promise<WorkerInfo[]> {
    return this.run('listWorkers', async () => {
      const now = Date.now();
      // Expired heartbeats are pruned by whoever reads: no background sweeper needed.
      await this.connection.zremrangebyscore(this.keys.workers, '-inf', now);
      const ids = await this.connection.zrange(this.keys.workers, 0, -1);
      if (ids.length === 0) return [];
      const raw = await this.connection.mget(ids.map((id) => this.keys.worker(id)));
      return parseAll(raw, (value) => workerInfoSchema.safeParse(value));
    });
  }

  async ping(timeoutMs: number): Promise<void> {
    await this.run('ping', () => this.connection.ping(), timeoutMs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.close(0)));
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    await this.flowProducer?.close();
    const events = await Promise.allSettled(this.queueEvents.values());
    await Promise.all(events.map((e) => (e.status === 'fulfilled' ? e.value.close() : undefined)));
    await Promise.all([...this.ownedConnections].map((c) => c.quit().catch(() => c.disconnect())));
  }

  /**
   * Runs a command-connection operation under the command timeout. The connection has no offline queue (so calls
   * fail fast while Redis is down), which means a call made before the first connect completes must wait for it.
   */
  private run<T>(operation: string, work: () => Promise<T>, timeoutMs = this.options.commandTimeoutMs): Promise<T> {
    const firstConnect = this.firstConnect;
    return this.deadlines.run(operation, timeoutMs, firstConnect ? () => firstConnect.then(work) : work);
  }

  private openConnection(role: ConnectionRole): Redis {
    const connection = createConnection(this.options, role);
    this.ownedConnections.add(connection);
    connection.once('end', () => this.ownedConnections.delete(connection));
    return connection;
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      queue.on('error', () => {}); // surfaced through the failing call instead
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Adds a queue to the known-queues set once per process; concurrent first calls share one SADD. */
  private registerQueue(name: string): Promise<void> {
    let registered = this.registeredQueues.get(name);
    if (!registered) {
      registered = this.connection.sadd(this.keys.queues, name).then(
        () => {
          this.knownQueues.add(name);
        },
        (error: unknown) => {
          this.registeredQueues.delete(name); // try again on the next enqueue
          throw error;
        },
      );
      this.registeredQueues.set(name, registered);
    }
    return registered;
  }

  /** Finds which queue holds a job: one EXISTS per known queue, in a single round trip. */
  private async findQueue(id: string): Promise<Queue | undefined> {
    const names = await this.connection.smembers(this.keys.queues);
    if (names.length === 0) return undefined;
    const pipeline = this.connection.pipeline();
    for (const name of names) pipeline.exists(`${this.prefix}:${name}:${id}`);
    const found = (await pipeline.exec()) ?? [];
    const name = names[found.findIndex(([error, exists]) => error === null && exists === 1)];
    return name === undefined ? undefined : this.queue(name);
  }

  /** The attempt records of every job, in one hash per job that expires with the failed-job retention. */
  private readonly attemptHistory: AttemptHistory = {
    recordFailure: async (id, attempt, error) => {
      const record: AttemptRecord = { attempt, outcome: 'failed', error, at: new Date().toISOString() };
      await this.writeAttempts(id, [record], false);
    },
    recordLost: async (id, attempt) => {
      const at = new Date().toISOString();
      const lost = Array.from({ length: attempt - 1 }, (_, index): AttemptRecord => ({
        attempt: index + 1,
        outcome: 'lost',
        error: {
          code: ErrorCode.WorkerLost,
          message: `Attempt ${index + 1} did not finish: its worker stopped first (killed, shut down past its deadline, or cut off from Redis).`,
          retryable: true,
          details: {},
        },
        at,
      }));
      // HSETNX: attempts that failed keep their own record; only the ones without any become "lost".
      await this.writeAttempts(id, lost, true);
    },
  };

  private async writeAttempts(id: string, records: readonly AttemptRecord[], onlyIfAbsent: boolean): Promise<void> {
    const key = this.keys.attempts(id);
    const pipeline = this.connection.pipeline();
    for (const record of records) {
      const field = String(record.attempt);
      if (onlyIfAbsent) pipeline.hsetnx(key, field, JSON.stringify(record));
      else pipeline.hset(key, field, JSON.stringify(record));
    }
    pipeline.pexpire(key, this.options.retention.failedAgeMs);
    await pipeline.exec();
  }

  /**
   * Reads a job's state, then its data. In that order, a job that moves on between the two reads shows an older
   * state with newer data (harmless) instead of `succeeded` without its result.
   */
  private async readJob(queue: Queue, id: string): Promise<{ job: Job; record: JobRecord } | undefined> {
    const bullState = await queue.getJobState(id);
    const job = await Job.fromId(queue, id);
    const state = job && toJobState(bullState, job.attemptsMade);
    if (!job || !state) return undefined;
    const record = toJobRecord(job, state);
    if (record.error) record.error = await this.withChildError(record.error);
    const [attempts, logs] = (await this.connection
      .pipeline()
      .hvals(this.keys.attempts(id))
      // BullMQ keeps a job's log lines in a list beside the job, and removes it with the job.
      .lrange(`${this.prefix}:${queue.name}:${id}:logs`, -maxLogLines, -1)
      .exec()) as [[Error | null, string[]], [Error | null, string[]]];
    const history = parseAll(attempts[1] ?? [], (value) => attemptRecordSchema.safeParse(value));
    if (history.length > 0) record.history = history.sort((a, b) => a.attempt - b.attempt);
    if (logs[1] && logs[1].length > 0) record.logs = logs[1];
    return { job, record };
  }

  /** A job's outcome and queue, or its cancellation tombstone; `undefined` when neither exists. */
  private async getOutcome(id: string): Promise<{ outcome: JobOutcome; queue: string } | undefined> {
    return this.run('getJob', async () => {
      const queue = await this.findQueue(id);
      const outcome = queue && (await this.readOutcome(queue, id));
      if (queue && outcome) return { outcome, queue: queue.name };
      const cancelled = await this.readCancelled(id);
      return cancelled && { outcome: toJobOutcome(cancelled), queue: cancelled.queue };
    });
  }

  /**
   * Reads how a job ended without its data: the state, then three fields of BullMQ's job hash. State first, for the
   * same reason as in {@link readJob}.
   */
  private async readOutcome(queue: Queue, id: string): Promise<JobOutcome | undefined> {
    const bullState = await queue.getJobState(id);
    const [task = null, attemptsMade = null, returnvalue = null, failedReason = null] = await this.connection.hmget(
      `${this.prefix}:${queue.name}:${id}`,
      'name',
      'atm',
      'returnvalue',
      'failedReason',
    );
    const bull = task === null ? undefined : toJobState(bullState, Number(attemptsMade ?? 0));
    if (task === null || bull === undefined) return undefined;
    const error = failedReason ? await this.withChildError(parseFailedReason(failedReason)) : undefined;
    // The expiry lives in the job's data, which this read skips on purpose; a waiting job past its expiry is
    // reported by getJob, and reaches a terminal state here once a worker discards it.
    const state = refineState(bull, error?.code, undefined);
    return toJobOutcome({
      id,
      task,
      state,
      ...(state === JobState.Succeeded && returnvalue !== null ? { result: JSON.parse(returnvalue) as unknown } : {}),
      ...(error ? { error } : {}),
    });
  }

  /** A failure caused by a failed child (a workflow's default policy) carries the child's own error. */
  private async withChildError(error: SerializedError): Promise<SerializedError> {
    const child = error.code === ErrorCode.ChildFailed ? error.details['child'] : undefined;
    if (typeof child !== 'string') return error;
    const queue = await this.findQueue(child);
    const outcome = queue && (await this.readOutcome(queue, child));
    if (!outcome?.error) return error;
    const message = `Job "${child}", which this job waited for, failed: ${outcome.error.message}`;
    return { ...error, message, details: { child, error: outcome.error } };
  }

  private async readCancelled(id: string): Promise<JobRecord | undefined> {
    const raw = await this.connection.get(this.keys.cancelled(id));
    return raw === null ? undefined : parseAll([raw], (value) => jobRecordSchema.safeParse(value))[0];
  }

  private notFound(id: string): never {
    throw new CeleriacError(ErrorCode.JobNotFound, `Job "${id}" vanished right after it was enqueued.`, {
      details: { id },
    });
  }

  private eventsFor(queue: string): Promise<QueueEvents> {
    let events = this.queueEvents.get(queue);
    if (!events) {
      const created = new QueueEvents(queue, {
        connection: this.openConnection(ConnectionRole.Blocking),
        prefix: this.prefix,
      });
      created.on('error', () => {});
      events = created.waitUntilReady().then(() => created);
      this.queueEvents.set(queue, events);
    }
    return events;
  }
}

/**
 * Parses JSON values read back from Redis with a schema, dropping entries that do not match: one corrupt entry
 * (written by an incompatible version, or by hand) must not hide the rest from an operator.
 */
function parseAll<T>(
  raw: readonly (string | null)[],
  parse: (value: unknown) => { success: true; data: T } | { success: false },
): T[] {
  const out: T[] = [];
  for (const value of raw) {
    if (value === null) continue;
    try {
      const parsed = parse(JSON.parse(value));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // not JSON: skip, as above
    }
  }
  return out;
}
