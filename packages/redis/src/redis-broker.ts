import { randomUUID } from 'node:crypto';
import { FlowProducer, Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  CeleriacError,
  ErrorCode,
  JobState,
  attemptRecordSchema,
  catalogueEntrySchema,
  flowJobs,
  workflowRecordSchema,
  isTerminalState,
  jobRecordSchema,
  workerInfoSchema,
  type AttemptRecord,
  type CatalogueEntry,
  type ControlReport,
  type ControlRequest,
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
  ControlHandler,
  ControlListener,
  EventSubscription,
  EventSubscriptionOptions,
  JobStats,
  StreamedJobEvent,
  JobListQuery,
  JobPage,
  QueueSummary,
  RetryOutcome,
  SendControlOptions,
  Consumer,
  EnqueueRequest,
  JobEvent,
  JobOutcome,
  JobProcessor,
  LimitDecision,
  LimitRequest,
  ScheduleRecord,
  ScheduleRequest,
} from '@celeriac/broker';
import { resolveRedisBrokerOptions, type RedisBrokerOptions, type ResolvedRedisBrokerOptions } from './redis-broker-options.js';
import type { DeploymentReport } from './internal/deployment/verify-redis-deployment.js';
import { BrokerConnections } from './internal/broker-connections.js';
import { waitForJob } from './internal/wait-for-job.js';
import { ConnectionRole } from './internal/create-connection.js';
import { createConsumer } from './internal/create-consumer.js';
import { celeriacBackoff, type AttemptHistory } from './internal/consumed-job.js';
import { BinaryStore } from './internal/binary-store.js';
import { addJobWithInput } from './internal/add-job-with-input.js';
import { toJobHash } from './internal/read-job-hash.js';
import { metaKeys, type MetaKeys } from './internal/keys.js';
import {
  parseFailedReason,
  refineState,
  toFreshJobRecord,
  toJobOutcome,
  toJobRecord,
  toJobState,
} from './internal/to-job-record.js';
import { KeyLimiter } from './internal/limits/key-limiter.js';
import { RedisScheduleStore } from './internal/schedule-store.js';
import { toBullFlowJob } from './internal/workflow/to-flow-job.js';
import { ChildrenDeadlines } from './internal/workflow/children-deadlines.js';
import { currentCursor, startJobEventReader } from './internal/events/job-event-reader.js';
import { QueueEventReaders } from './internal/events/queue-event-readers.js';
import { TaskNameCache } from './internal/events/decode-stream-entries.js';
import { appendLogEvent } from './internal/events/append-log-event.js';
import { JobStatsRecorder } from './internal/stats/job-stats-recorder.js';
import { readJobStats } from './internal/stats/read-job-stats.js';
import { addJobsInBulk } from './internal/operator/add-jobs-in-bulk.js';
import { listJobs } from './internal/operator/list-jobs.js';
import { QueueAdmin } from './internal/operator/queue-admin.js';
import { RedisControlBus } from './internal/operator/redis-control-bus.js';
import { retryJob } from './internal/operator/retry-job.js';

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
  /** Every connection the broker opens, and the gate its calls pass. */
  private readonly redis: BrokerConnections;
  /** The command connection (`redis.command`). */
  private readonly connection: Redis;
  private readonly queues = new Map<string, Queue>();
  /** The queues' BullMQ event readers, for watches of single jobs. */
  private readonly queueEvents: QueueEventReaders;
  private readonly registeredQueues = new Map<string, Promise<void>>();
  /** Queues whose registration has completed: checked synchronously, so enqueue skips an await. */
  private readonly knownQueues = new Set<string>();
  /** Every queue's name, as {@link findQueue} last read them from Redis. */
  private queueNames: readonly string[] | undefined;
  private readonly consumers = new Set<Consumer>();
  private readonly limiter: KeyLimiter;
  private flowProducer: FlowProducer | undefined;
  private readonly childrenDeadlines: ChildrenDeadlines;
  /** BullMQ options every job gets; built once, since enqueue is the hot path. */
  private readonly jobDefaults;
  /** The typed arrays of inputs and results, stored as blobs in their job's hash. */
  private readonly binary: BinaryStore;

  constructor(private readonly options: ResolvedRedisBrokerOptions) {
    this.prefix = options.keyPrefix;
    this.keys = metaKeys(options.keyPrefix);
    const { retention } = options;
    this.jobDefaults = Object.freeze({
      attempts: 1,
      removeOnComplete: { age: Math.ceil(retention.succeededAgeMs / 1000), count: retention.succeededCount },
      removeOnFail: { age: Math.ceil(retention.failedAgeMs / 1000) },
    });
    this.redis = new BrokerConnections(options);
    this.connection = this.redis.command;
    this.limiter = new KeyLimiter(this.connection, options.keyPrefix);
    this.binary = new BinaryStore(this.connection, options.keyPrefix, options.maxPayloadBytes);
    this.queueEvents = new QueueEventReaders(this.connection, this.prefix, () => this.redis.open(ConnectionRole.Blocking));
    this.childrenDeadlines = new ChildrenDeadlines(this.connection, this.keys.childrenDeadlines, this.prefix, (name) =>
      this.queue(name),
    );
  }

  verifyDeployment(): Promise<DeploymentReport> {
    return this.redis.verifyDeployment();
  }

  async enqueue(request: EnqueueRequest): Promise<JobRecord> {
    return this.redis.run('enqueue', async () => {
      if (!this.knownQueues.has(request.queue)) await this.registerQueue(request.queue);
      const jobId = request.jobId ?? randomUUID();
      const queue = this.queue(request.queue);
      const opts = this.jobOptions(request, jobId);
      // Typed arrays go to a blob that is written in the same MULTI as the job, so no worker can fetch one without it.
      const { envelope, blob } = this.binary.packInput(request.envelope, jobId);
      const job = blob
        ? await addJobWithInput(this.connection, queue, this.binary, { task: request.task, envelope, opts }, blob)
        : await queue.add(request.task, envelope, opts);
      const id = String(job.id);
      // A generated id is new, so the state follows from the options and costs no round trip. A caller's jobId or
      // dedupe id may name an existing job, which `add` leaves untouched (and whose state may be anything by now).
      // (BullMQ answers a deduplicated add with the id of the job that holds the dedupe key.)
      if (request.jobId === undefined && id === jobId) return toFreshJobRecord(request, id, job.timestamp);
      return (await this.readJob(queue, id))?.record ?? this.notFound(id);
    });
  }

  /** BullMQ's options for one job. */
  private jobOptions(request: EnqueueRequest, jobId: string) {
    return {
      ...this.jobDefaults,
      jobId,
      ...(request.delayMs ? { delay: request.delayMs } : {}),
      ...(request.priority ? { priority: request.priority } : {}),
      ...(request.attempts && request.attempts > 1 ? { attempts: request.attempts, backoff: { type: celeriacBackoff } } : {}),
      ...(request.dedupe ? { deduplication: { id: request.dedupe.id, ttl: request.dedupe.ttlMs } } : {}),
    };
  }

  async enqueueBulk(requests: readonly EnqueueRequest[]): Promise<JobRecord[]> {
    return this.redis.run('enqueueBulk', async () => {
      const queues = new Set(requests.map((request) => request.queue));
      await Promise.all([...queues].filter((name) => !this.knownQueues.has(name)).map((name) => this.registerQueue(name)));
      const entries = requests.map((request) => {
        const jobId = request.jobId ?? randomUUID();
        const { envelope, blob } = this.binary.packInput(request.envelope, jobId);
        const opts = this.jobOptions(request, jobId);
        return { queue: this.queue(request.queue), task: request.task, envelope, opts, ...(blob ? { blob } : {}) };
      });
      const jobs = await addJobsInBulk(this.connection, this.binary, entries);
      return Promise.all(
        jobs.map(async (job, index) => {
          const request = requests[index]!;
          const id = String(job.id);
          // As in enqueue: a generated id is a new job; a caller's id (or a dedupe hit) may name an older one.
          if (request.jobId === undefined && id === entries[index]!.opts.jobId) return toFreshJobRecord(request, id, job.timestamp);
          return (await this.readJob(this.queue(request.queue), id))?.record ?? this.notFound(id);
        }),
      );
    });
  }

  listJobs(query: JobListQuery): Promise<JobPage> {
    const { connection, keys } = this;
    const context = {
      connection,
      queue: (name: string) => this.queue(name),
      queueNames: () => connection.smembers(keys.queues),
      cancelledIndex: keys.cancelledIndex,
      cancelledKey: keys.cancelled,
    };
    // A listing reads every job of the selected sets: give it more than a single command's time.
    return this.redis.run('listJobs', () => listJobs(context, query), this.options.commandTimeoutMs * 10);
  }

  async retryJob(id: string): Promise<RetryOutcome> {
    return this.redis.run('retryJob', () =>
      retryJob(
        {
          findQueue: (jobId) => this.findQueue(jobId),
          readState: async (queue, jobId) => (await this.readOutcome(queue, jobId))?.state,
          readCancelled: (jobId) => this.readCancelled(jobId),
          enqueue: (request) => this.enqueue(request),
          dropCancelled: async (jobId) => {
            const { cancelled, cancelledBinary, cancelledIndex } = this.keys;
            await this.connection.multi().del(cancelled(jobId), cancelledBinary(jobId)).zrem(cancelledIndex, jobId).exec();
          },
        },
        id,
      ),
    );
  }

  /** Created on first use, as the control bus: only the API's broker administers queues. */
  private queueAdmin: QueueAdmin | undefined;

  private admin(): QueueAdmin {
    return (this.queueAdmin ??= new QueueAdmin({
      connection: this.connection,
      queuesKey: this.keys.queues,
      queue: (name) => this.queue(name),
      listWorkers: () => this.listWorkers(),
    }));
  }

  listQueues(): Promise<QueueSummary[]> {
    return this.redis.run('listQueues', () => this.admin().list());
  }

  setQueuePaused(name: string, paused: boolean): Promise<QueueSummary> {
    return this.redis.run('setQueuePaused', () => this.admin().setPaused(name, paused));
  }

  drainQueue(name: string, options: { readonly delayed: boolean }): Promise<{ readonly removed: number }> {
    return this.redis.run('drainQueue', () => this.admin().drain(name, options.delayed));
  }

  /** Created on first use: only the API's broker sends commands, and only workers listen. */
  private controlBus: RedisControlBus | undefined;

  sendControl(request: ControlRequest, options: SendControlOptions): Promise<ControlReport> {
    return this.control().send(request, options);
  }

  listenForControl(workerId: string, handler: ControlHandler): Promise<ControlListener> {
    return this.control().listen(workerId, handler);
  }

  private control(): RedisControlBus {
    this.controlBus ??= new RedisControlBus({
      connection: this.connection,
      openSubscriber: () => this.redis.open(ConnectionRole.Blocking),
      channel: this.keys.controlChannel,
      replyChannel: (requestId) => this.keys.controlReply(requestId),
      liveWorkers: async () => (await this.listWorkers()).map((worker) => worker.id),
    });
    return this.controlBus;
  }

  async addFlow(flow: FlowSpec, parent?: FlowParent): Promise<void> {
    await this.redis.run('addFlow', async () => {
      const { job } = flow;
      // Creating a flow again (a job that created its next step ran twice) must not touch the first one.
      if ((await this.connection.exists(`${this.prefix}:${job.queue}:${job.id}`)) === 1) return;
      const queues = new Set(flowJobs(flow).map((flowJob) => flowJob.queue));
      await Promise.all([...queues].filter((name) => !this.knownQueues.has(name)).map((name) => this.registerQueue(name)));
      this.flowProducer ??= new FlowProducer({ connection: this.connection, prefix: this.prefix });
      // The FlowProducer adds the jobs in a MULTI of its own, so typed arrays are staged before the jobs exist (no
      // worker can fetch one without its blob), and moved into their hashes after.
      const staged = await this.binary.stageFlow(flow);
      await this.flowProducer.add(toBullFlowJob(staged.flow, this.prefix, this.jobDefaults, parent)).catch(async (error: unknown) => {
        await Promise.all(staged.staged.map(({ blob }) => this.binary.discard(blob.id)));
        throw error;
      });
      await Promise.all(staged.staged.map((blob) => this.binary.adopt(blob)));
    });
  }

  async saveWorkflow(record: WorkflowRecord): Promise<void> {
    await this.redis.run('saveWorkflow', async () => {
      const ttlMs = this.options.retention.failedAgeMs;
      await this.connection.set(this.keys.workflow(record.id), JSON.stringify(record), 'PX', ttlMs);
    });
  }

  async getWorkflow(id: string): Promise<WorkflowRecord | undefined> {
    return this.redis.run('getWorkflow', async () => {
      const raw = await this.connection.get(this.keys.workflow(id));
      return raw === null ? undefined : parseAll([raw], (value) => workflowRecordSchema.safeParse(value))[0];
    });
  }

  async addChildrenDeadlines(deadlines: readonly ChildrenDeadline[]): Promise<void> {
    await this.redis.run('addChildrenDeadlines', () => this.childrenDeadlines.add(deadlines));
  }

  async enforceChildrenDeadlines(): Promise<number> {
    return this.redis.run('enforceChildrenDeadlines', () => this.childrenDeadlines.enforce());
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    return this.redis.run('getJob', async () => {
      const queue = await this.findQueue(id);
      const found = queue && (await this.readJob(queue, id));
      return found ? found.record : this.readCancelled(id);
    });
  }

  waitForJob(id: string, timeoutMs: number): Promise<JobOutcome | undefined> {
    return waitForJob(id, timeoutMs, {
      getOutcome: (job) => this.getOutcome(job),
      watchJob: (job, listener) => this.watchJob(job, listener),
    });
  }

  async watchJob(id: string, listener: (event: JobEvent) => void): Promise<() => void> {
    const queue = await this.redis.run('watchJob', () => this.findQueue(id));
    if (!queue) {
      throw new CeleriacError(ErrorCode.JobNotFound, `Job "${id}" was not found, so it cannot be watched.`, {
        details: { id },
      });
    }
    const events = await this.queueEvents.get(queue.name);
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
    return this.redis.run('cancelJob', async () => {
      const queue = await this.findQueue(id);
      const found = queue && (await this.readJob(queue, id));
      if (!found) return (await this.readCancelled(id)) ? 'cancelled' : 'not-found';
      const { job, record } = found;
      if (isTerminalState(record.state)) return 'already-finished';
      if (record.state === JobState.Active) return this.cancelRunning(id);
      const cancelled: JobRecord = { ...record, state: JobState.Cancelled, finishedAt: new Date().toISOString() };
      // Write the tombstone first: if the removal then fails (the job just became active), a reader still sees the
      // live job, because getJob prefers the job itself over the tombstone. The input's typed arrays leave with
      // the job's hash, so the tombstone keeps its own copy of their blob, with the same TTL.
      const ttlMs = this.options.retention.failedAgeMs;
      const input = await this.binary.storeDetached(this.keys.cancelledBinary(id), cancelled.input, ttlMs, `job "${id}"`);
      await this.connection.set(this.keys.cancelled(id), JSON.stringify({ ...cancelled, input }), 'PX', ttlMs);
      await this.connection.zadd(this.keys.cancelledIndex, Date.now(), id); // for listings; pruned as records expire
      try {
        await job.remove();
        return 'cancelled';
      } catch {
        // BullMQ refuses to remove a locked job: a worker picked it up meanwhile, so stop it where it runs.
        await this.connection.del(this.keys.cancelled(id), this.keys.cancelledBinary(id));
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
      binary: this.binary,
      openConnection: () => this.redis.open(ConnectionRole.Blocking),
      appendLog: (queue: string, id: string, line: string) => appendLogEvent(this.connection, this.prefix, queue, id, line),
      stats: (this.stats ??= new JobStatsRecorder(this.connection, this.keys.stats)),
    };
    const consumer = await createConsumer(context, processor, options);
    this.consumers.add(consumer);
    return {
      close: (deadlineMs) => {
        this.consumers.delete(consumer);
        return consumer.close(deadlineMs);
      },
      pause: () => consumer.pause(),
      resume: () => consumer.resume(),
      setConcurrency: (concurrency) => consumer.setConcurrency(concurrency),
      get lastPollAtMs() {
        return consumer.lastPollAtMs;
      },
      get pollDue() {
        return consumer.pollDue;
      },
    };
  }

  acquireLimits(request: LimitRequest): Promise<LimitDecision> {
    return this.redis.run('acquireLimits', () => this.limiter.acquire(request));
  }

  renewLimit(jobId: string, concurrency: { readonly key: string; readonly leaseMs: number }): Promise<boolean> {
    return this.redis.run('renewLimit', () => this.limiter.renew(jobId, concurrency));
  }

  releaseLimit(jobId: string, concurrencyKey: string): Promise<void> {
    return this.redis.run('releaseLimit', () => this.limiter.release(jobId, concurrencyKey));
  }

  async publishCatalogue(entries: readonly CatalogueEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const fields = entries.flatMap((entry) => [entry.name, JSON.stringify(entry)]);
    await this.redis.run('publishCatalogue', () =>
      this.connection.hset(this.keys.catalogue, ...fields),
    );
  }

  async listCatalogue(): Promise<CatalogueEntry[]> {
    const raw = await this.redis.run('listCatalogue', () =>
      this.connection.hvals(this.keys.catalogue),
    );
    return parseAll(raw, (value) => catalogueEntrySchema.safeParse(value)).sort((a, b) => a.name.localeCompare(b.name));
  }

  async heartbeat(worker: WorkerInfo, ttlMs: number): Promise<void> {
    await this.redis.run('heartbeat', () =>
      this.connection
        .multi()
        .set(this.keys.worker(worker.id), JSON.stringify(worker), 'PX', ttlMs)
        .zadd(this.keys.workers, Date.now() + ttlMs, worker.id)
        .exec(),
    );
  }

  async removeWorker(id: string): Promise<void> {
    await this.redis.run('removeWorker', () =>
      this.connection.multi().del(this.keys.worker(id)).zrem(this.keys.workers, id).exec(),
    );
  }

  async listWorkers(): Promise<WorkerInfo[]> {
    return this.redis.run('listWorkers', async () => {
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
    await this.redis.run('ping', () => this.connection.ping(), timeoutMs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await Promise.all([...this.consumers].map((consumer) => consumer.close(0)));
    await this.stats?.close().catch(() => undefined); // Redis away: those last counts are lost
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    await this.flowProducer?.close();
    await this.queueEvents.close();
    await this.redis.closeAll();
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

  /**
   * Finds which queue holds a job: one EXISTS per known queue, in a single round trip. The set of known queues is
   * read once and kept, which saves a round trip per lookup. It only ever grows, so a job found in none of the kept
   * queues makes it read the set again and look in the queues added since.
   */
  private async findQueue(id: string): Promise<Queue | undefined> {
    const cached = this.queueNames;
    const found = cached && (await this.findQueueAmong(cached, id));
    if (found) return found;
    const names = await this.connection.smembers(this.keys.queues);
    this.queueNames = names;
    return this.findQueueAmong(cached ? names.filter((name) => !cached.includes(name)) : names, id);
  }

  private async findQueueAmong(names: readonly string[], id: string): Promise<Queue | undefined> {
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
    // The whole hash in one read, blobs as bytes (BullMQ's Job.fromId would read them as strings), with the attempts
    // and the logs in the same round trip.
    const [[hashError, raw], attempts, logs] = (await this.connection
      .pipeline()
      .hgetallBuffer(queue.toKey(id))
      .hvals(this.keys.attempts(id))
      // BullMQ keeps a job's log lines in a list beside the job, and removes it with the job.
      .lrange(`${this.prefix}:${queue.name}:${id}:logs`, -maxLogLines, -1)
      .exec()) as [[Error | null, Record<string, Buffer>], [Error | null, string[]], [Error | null, string[]]];
    if (hashError) throw hashError;
    const hash = toJobHash(queue, id, raw);
    const state = hash && toJobState(bullState, hash.job.attemptsMade);
    if (!hash || !state) return undefined;
    const { job, blobs } = hash;
    const record = toJobRecord(job, state);
    if (record.error) record.error = await this.withChildError(record.error);
    await this.binary.decodeRecord(record, blobs);
    const history = parseAll(attempts[1] ?? [], (value) => attemptRecordSchema.safeParse(value));
    if (history.length > 0) record.history = history.sort((a, b) => a.attempt - b.attempt);
    if (logs[1] && logs[1].length > 0) record.logs = logs[1];
    return { job, record };
  }

  /** A job's outcome and queue, or its cancellation tombstone; `undefined` when neither exists. */
  private async getOutcome(id: string): Promise<{ outcome: JobOutcome; queue: string } | undefined> {
    return this.redis.run('getJob', async () => {
      const queue = await this.findQueue(id);
      const outcome = queue && (await this.readOutcome(queue, id));
      if (queue && outcome) return { outcome, queue: queue.name };
      const cancelled = await this.readCancelled(id, false);
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
      queue.toKey(id),
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
    // A result with typed arrays has them in a blob; `undefined` when the job was removed since the read above.
    const result =
      state === JobState.Succeeded && returnvalue !== null
        ? await this.binary.decodeResult(queue.name, id, JSON.parse(returnvalue) as unknown)
        : undefined;
    if (state === JobState.Succeeded && returnvalue !== null && result === undefined) return undefined;
    return toJobOutcome({
      id,
      task,
      state,
      ...(result ? { result: result.value } : {}),
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

  /** A cancelled job's tombstone; `withInput: false` skips reading back its typed arrays (an outcome needs none). */
  private async readCancelled(id: string, withInput = true): Promise<JobRecord | undefined> {
    const raw = await this.connection.get(this.keys.cancelled(id));
    const record = raw === null ? undefined : parseAll([raw], (value) => jobRecordSchema.safeParse(value))[0];
    if (record && withInput) record.input = await this.binary.readDetached(this.keys.cancelledBinary(id), record.input, `job "${id}"`);
    return record;
  }

  private notFound(id: string): never {
    throw new CeleriacError(ErrorCode.JobNotFound, `Job "${id}" vanished right after it was enqueued.`, {
      details: { id },
    });
  }

  /** Live event subscriptions, closed with the broker. */
  private readonly subscriptions = new Set<EventSubscription>();
  /** Task names of jobs seen in event streams, shared by this broker's subscriptions. */
  private readonly taskNames = new TaskNameCache();
  /** Created by the first consumer: only brokers that run jobs record statistics. */
  private stats: JobStatsRecorder | undefined;

  async subscribeEvents(
    options: EventSubscriptionOptions,
    listener: (event: StreamedJobEvent) => void,
  ): Promise<EventSubscription> {
    const after = options.after ?? (await this.redis.run('subscribeEvents', () => currentCursor(this.connection)));
    const context = {
      connection: this.connection,
      prefix: this.prefix,
      queuesKey: this.keys.queues,
      cancelledKey: (id: string) => this.keys.cancelled(id),
      taskNames: this.taskNames,
      openConnection: () => this.redis.open(ConnectionRole.Blocking),
    };
    const subscription = startJobEventReader(context, { ...options, after }, listener);
    this.subscriptions.add(subscription);
    return {
      startedAfter: subscription.startedAfter,
      close: () => {
        this.subscriptions.delete(subscription);
        return subscription.close();
      },
    };
  }

  readJobStats(): Promise<JobStats> {
    return this.redis.run('readJobStats', () => readJobStats(this.connection, this.keys.stats));
  }

  /** Created on first use: most brokers (every worker's) never touch schedules. */
  private scheduleStore: RedisScheduleStore | undefined;

  upsertSchedule(request: ScheduleRequest): Promise<ScheduleRecord> {
    return this.redis.run('upsertSchedule', () => this.schedules().upsert(request));
  }

  getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.redis.run('getSchedule', () => this.schedules().get(id));
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.redis.run('listSchedules', () => this.schedules().list());
  }

  removeSchedule(id: string): Promise<boolean> {
    return this.redis.run('removeSchedule', () => this.schedules().remove(id));
  }

  private schedules(): RedisScheduleStore {
    const queues = { queue: (name: string) => this.queue(name), register: (name: string) => this.registerQueue(name) };
    const { connection, prefix, jobDefaults, binary, options } = this;
    // A replaced input's blob is kept as long as a failed job's record, for the firings that still need it.
    this.scheduleStore ??= new RedisScheduleStore(connection, prefix, queues, jobDefaults, binary, options.retention.failedAgeMs);
    return this.scheduleStore;
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
