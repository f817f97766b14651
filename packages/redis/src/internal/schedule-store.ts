import { randomUUID } from 'node:crypto';
import { Job, getNextMillis, type JobSchedulerTemplateOptions, type Queue, type RepeatOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { CeleriacError, ErrorCode, jobEnvelopeSchema, nameSchema, omitUndefined } from '@celeriac/core';
import type { ScheduleRecord, ScheduleRequest, ScheduleSpec } from '@celeriac/broker';
import type { BinaryStore } from './binary-store.js';
import { celeriacBackoff } from './consumed-job.js';

/** The broker's queues, as the schedule store uses them. */
export interface ScheduleQueues {
  /** The BullMQ queue of that name, shared with the broker (which closes it). */
  queue(name: string): Queue;
  /** Adds the queue to the known queues, so `getJob` finds the firings' jobs. */
  register(name: string): Promise<void>;
}

/** A firing in one of these states has not started yet: it is the schedule's pending firing. */
const pendingStates: ReadonlySet<string> = new Set(['delayed', 'waiting', 'prioritized']);

/** How long an upsert may hold a schedule's lock; past it, a holder that died no longer blocks the others. */
const lockTtlMs = 5_000;

/**
 * How long an upsert waits for another upsert of the same schedule before giving up: longer than one upsert takes,
 * even one that waits for a worker to create the next firing (see `successorWaits`) before and after it upserts.
 */
const lockWaitMs = 3_000;

/** Deletes a lock only if it still holds this holder's token (it may have lapsed and been taken by another). */
const releaseLockScript = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/** Upserts again, at most this many times, while workers keep taking firings during the upsert (see `upsert`). */
const maxRecounts = 3;

/** How long a read waits, each time, for the next firing a worker is creating (see `read`); also the lock's poll. */
const successorWaitMs = 20;

/**
 * How many times a read waits for that next firing before it reports the schedule without one: up to half a second,
 * because the worker creates it in a round trip of its own, which a loaded host can delay well past 100 ms.
 */
const successorWaits = 25;

/** A firing that no worker took yet, and that removing its schedule therefore removes too. */
const dueStates: ReadonlySet<string> = new Set(['waiting', 'prioritized']);

/**
 * A job scheduler as BullMQ reads it back (`Queue.getJobScheduler`). It comes from Redis, so it is checked like any
 * other input: anything else there (an older version, a hand-made scheduler) is not reported as a schedule.
 */
const storedSchedulerSchema = z.object({
  name: nameSchema,
  next: z.number().nullish(),
  iterationCount: z.number().int().nonnegative().optional(),
  pattern: z.string().optional(),
  every: z.number().int().positive().optional(),
  tz: z.string().optional(),
  startDate: z.number().optional(),
  endDate: z.number().optional(),
  limit: z.number().int().positive().optional(),
  template: z.object({ data: jobEnvelopeSchema }),
});

/** The part of a firing's BullMQ options that numbers it: the n-th firing of its schedule has `count` n. */
const firingOptionsSchema = z.object({ repeat: z.object({ count: z.number().int().positive() }) });

/**
 * A schedule as read, with BullMQ's tally of firings created by workers (see `upsert`). Its record's input is as
 * stored: packed, when it has typed arrays (see `BinaryStore.storeScheduleInput`); {@link RedisScheduleStore.decoded}
 * reads their blob only for a record that leaves the store.
 */
interface Inspected {
  readonly record: ScheduleRecord;
  readonly iterations: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Periodic schedules on BullMQ's job schedulers. A schedule lives on its task's queue, and a hash
 * (`<prefix>:_meta:schedules`, id → queue) finds it from its id alone.
 *
 * BullMQ gives each firing the id `repeat:<schedule id>:<due ms>` and creates it in a Lua script only if no job has
 * that id yet: the next firing is created by whichever worker takes the current one (one worker per job, by BullMQ's
 * lock), and an upsert replaces the pending firing in place. So any number of workers and API instances create
 * each firing once, with no leader and no extra process.
 */
export class RedisScheduleStore {
  private readonly indexKey: string;
  private readonly lockKeyPrefix: string;

  constructor(
    private readonly connection: Redis,
    keyPrefix: string,
    private readonly queues: ScheduleQueues,
    /** The BullMQ options every job gets (retention), which each firing gets too. */
    private readonly jobDefaults: JobSchedulerTemplateOptions,
    /** Where the typed arrays of a schedule's input live, beside the schedule. */
    private readonly binary: BinaryStore,
    /**
     * How long the blob of a replaced or removed input stays, for the firings already created from it that no worker
     * has read yet (a firing copies it when first read).
     */
    private readonly retiredInputTtlMs: number,
  ) {
    this.indexKey = `${keyPrefix}:_meta:schedules`;
    this.lockKeyPrefix = `${keyPrefix}:_meta:schedule-lock:`;
  }

  /**
   * See {@link ScheduleStore.upsertSchedule}. BullMQ numbers firings in each firing's options, and an upsert must
   * carry the count on (`repeat.count`), or it would restart the limit. The count is read before the upsert, so two
   * things could make it stale: another upsert of the same id (a lock makes upserts take turns), and a worker taking
   * the pending firing meanwhile, whose successor the upsert then replaces one short. BullMQ counts those takes in
   * the scheduler's iteration tally, so a change in the tally across the upsert means: count again, and upsert again.
   */
  async upsert(request: ScheduleRequest): Promise<ScheduleRecord> {
    assertSchedulable(request.spec);
    return this.withLock(request.id, async () => {
      const previous = await this.inspect(request.id);
      // An ended schedule stays ended: an app that declares its schedules at every start must not revive it.
      const { limit } = request.spec;
      if (previous && limit !== undefined && previous.record.firedCount >= limit) return this.decoded(previous.record);
      const envelope = await this.binary.storeScheduleInput(request.envelope, request.id);
      let record: ScheduleRecord;
      try {
        record = await this.writeCounting({ ...request, envelope }, previous);
      } catch (error) {
        // Retired, not deleted: the scheduler may have been written before the failure, and its firings would need
        // the blob until the caller, told of the failure, upserts again.
        await this.binary.retireScheduleInput(envelope.input, this.retiredInputTtlMs).catch(() => undefined);
        throw error;
      }
      await this.binary.retireScheduleInput(previous?.record.input, this.retiredInputTtlMs);
      return this.decoded(record);
    });
  }

  /** Writes the schedule, counting its firings so far, and again while workers take firings meanwhile (see `upsert`). */
  private async writeCounting(request: ScheduleRequest, previous: Inspected | undefined): Promise<ScheduleRecord> {
    let firedCount = previous?.record.firedCount ?? 0;
    let before = previous;
    if (before && before.record.queue !== request.queue) {
      // Moving to another queue: a new scheduler there, which no worker can have taken from yet.
      await this.removeFrom(before.record.queue, request.id);
      before = undefined;
    }
    for (let recount = 0; ; recount++) {
      await this.write(request, firedCount);
      const stored = await this.inspect(request.id);
      if (!stored) break;
      const takenMeanwhile = stored.iterations - (before?.iterations ?? stored.iterations);
      if (takenMeanwhile <= 0 || recount === maxRecounts) return stored.record;
      firedCount += takenMeanwhile;
      before = stored;
    }
    throw new CeleriacError(ErrorCode.Internal, `Schedule "${request.id}" was written but cannot be read back.`, {
      details: { id: request.id },
    });
  }

  /** See {@link ScheduleStore.getSchedule}. */
  async get(id: string): Promise<ScheduleRecord | undefined> {
    const inspected = await this.inspect(id);
    return inspected && this.decoded(inspected.record);
  }

  /** See {@link ScheduleStore.listSchedules}. */
  async list(): Promise<ScheduleRecord[]> {
    const index = await this.connection.hgetall(this.indexKey);
    const records = await Promise.all(
      Object.entries(index).map(async ([id, queue]) => {
        const inspected = nameSchema.safeParse(queue).success ? await this.read(queue, id) : undefined;
        return inspected && this.decoded(inspected.record);
      }),
    );
    return records.filter((record) => record !== undefined).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** See {@link ScheduleStore.removeSchedule}. */
  async remove(id: string): Promise<boolean> {
    const queue = await this.queueOf(id);
    if (queue === undefined) return false;
    await this.removeFrom(queue, id);
    return (await this.connection.hdel(this.indexKey, id)) === 1;
  }

  /** The queue a schedule lives on, from the index; `undefined` for an unknown id or a corrupt entry. */
  private async queueOf(id: string): Promise<string | undefined> {
    const parsed = nameSchema.safeParse(await this.connection.hget(this.indexKey, id));
    return parsed.success ? parsed.data : undefined;
  }

  /** Creates or replaces the BullMQ job scheduler, its first firing numbered after `firedCount` earlier ones. */
  private async write(request: ScheduleRequest, firedCount: number): Promise<void> {
    const { id, queue } = request;
    await this.queues.register(queue);
    // Index first: a scheduler missing from the index could be neither listed nor removed through celeriac.
    await this.connection.hset(this.indexKey, id, queue);
    await this.queues.queue(queue).upsertJobScheduler(id, toRepeatOptions(request.spec, firedCount), {
      name: request.task,
      data: request.envelope,
      opts: {
        ...this.jobDefaults,
        ...(request.attempts && request.attempts > 1
          ? { attempts: request.attempts, backoff: { type: celeriacBackoff } }
          : {}),
      },
    });
  }

  /** A record as it leaves the store: its input with the typed arrays back (one read of their blob, if any). */
  private async decoded(record: ScheduleRecord): Promise<ScheduleRecord> {
    return { ...record, input: await this.binary.decodeScheduleInput(record.input, record.id) };
  }

  private async inspect(id: string): Promise<Inspected | undefined> {
    const queue = await this.queueOf(id);
    return queue === undefined ? undefined : this.read(queue, id);
  }

  private async read(queueName: string, id: string, waitsLeft = successorWaits): Promise<Inspected | undefined> {
    const queue = this.queues.queue(queueName);
    const parsed = storedSchedulerSchema.safeParse(await queue.getJobScheduler(id));
    if (!parsed.success) return undefined;
    const stored = parsed.data;
    // BullMQ's tally: 1, plus one for each firing a worker created on taking the one before.
    const iterations = stored.iterationCount ?? 0;
    const nextJobId = typeof stored.next === 'number' ? `repeat:${id}:${stored.next}` : undefined;
    // Only the firing's options, not the whole job: once a worker has read it, its hash also holds the input's blob,
    // and a read waiting for the next firing comes back here up to `successorWaits` times.
    const [state, rawOpts] =
      nextJobId === undefined
        ? ['unknown', null]
        : await Promise.all([queue.getJobState(nextJobId), this.connection.hget(queue.toKey(nextJobId), 'opts')]);
    const pending = pendingStates.has(state);
    // The number of the latest firing; should its job be gone with its retention, the tally is the best guess left.
    const latest = firingOptionsSchema.safeParse(Job.optsFromJSON(rawOpts ?? undefined)).data?.repeat.count ?? iterations;
    // Once the limit or the end is reached, BullMQ keeps the last firing's time as `next`, and that job ran.
    const last =
      (stored.limit !== undefined && latest >= stored.limit) || (stored.endDate !== undefined && stored.endDate <= Date.now());
    // The worker that takes a firing creates the next one a moment later: wait for it rather than report a gap.
    if (state === 'active' && !last && waitsLeft > 0) {
      await sleep(successorWaitMs);
      return this.read(queueName, id, waitsLeft - 1);
    }
    const record: ScheduleRecord = {
      id,
      task: stored.name,
      queue: queueName,
      spec: toSpec(stored),
      input: stored.template.data.input,
      firedCount: pending ? latest - 1 : latest,
      ended: last && !pending,
      ...(pending && nextJobId && stored.next ? { nextRunAt: new Date(stored.next).toISOString(), nextJobId } : {}),
    };
    return { record, iterations };
  }

  /** Runs `work` holding the schedule's lock, so upserts of one schedule from several API instances take turns. */
  private async withLock<T>(id: string, work: () => Promise<T>): Promise<T> {
    const key = `${this.lockKeyPrefix}${id}`;
    const token = randomUUID();
    const deadline = Date.now() + lockWaitMs;
    while ((await this.connection.set(key, token, 'PX', lockTtlMs, 'NX')) === null) {
      if (Date.now() > deadline) {
        throw new CeleriacError(
          ErrorCode.BrokerUnavailable,
          `Another client is updating schedule "${id}", and still was after ${lockWaitMs} ms. Try again.`,
          { details: { id } },
        );
      }
      await sleep(successorWaitMs);
    }
    try {
      return await work();
    } finally {
      await this.connection.eval(releaseLockScript, 1, key, token);
    }
  }

  /** Removes a scheduler and its pending firing from one queue. */
  private async removeFrom(queueName: string, id: string): Promise<void> {
    const queue = this.queues.queue(queueName);
    const scheduler = storedSchedulerSchema.safeParse(await queue.getJobScheduler(id)).data;
    const next = scheduler?.next;
    await queue.removeJobScheduler(id);
    await this.binary.retireScheduleInput(scheduler?.template.data.input, this.retiredInputTtlMs);
    if (typeof next !== 'number') return;
    // BullMQ removes a delayed firing with its scheduler, but not one that is already due and waiting for a worker.
    // A worker that takes it meanwhile keeps it (remove refuses a locked job); it runs once and has no successor.
    const due = `repeat:${id}:${next}`;
    if (dueStates.has(await queue.getJobState(due))) await queue.remove(due);
  }
}

/**
 * Checks what only the broker can: the cron pattern, with the parser BullMQ schedules with, and that the end is
 * still ahead (BullMQ refuses a past one with a plain error).
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming `schedule.cron` or `schedule.endDate`
 */
function assertSchedulable(spec: ScheduleSpec): void {
  if (spec.endDate !== undefined && Date.parse(spec.endDate) <= Date.now()) {
    throw invalidSpec('schedule.endDate', `${spec.endDate} has passed; give an end in the future`);
  }
  if (spec.cron === undefined) return;
  try {
    getNextMillis(Date.now(), omitUndefined({ pattern: spec.cron, tz: spec.tz }));
  } catch (error) {
    throw invalidSpec('schedule.cron', `"${spec.cron}" is not a valid cron pattern (${(error as Error).message})`);
  }
}

function invalidSpec(path: string, message: string): CeleriacError {
  return new CeleriacError(ErrorCode.InvalidOptions, `Invalid schedule options: ${path}: ${message}.`, {
    details: { issues: [{ path, message }] },
  });
}

/** A spec → BullMQ's repeat options. `count` carries the firings so far, so a limit holds across updates. */
function toRepeatOptions(spec: ScheduleSpec, firedCount: number): Omit<RepeatOptions, 'key'> {
  return omitUndefined({
    pattern: spec.cron,
    every: spec.everyMs,
    tz: spec.tz,
    startDate: spec.startDate === undefined ? undefined : Date.parse(spec.startDate),
    endDate: spec.endDate === undefined ? undefined : Date.parse(spec.endDate),
    limit: spec.limit,
    // BullMQ numbers the next firing `count + 1`, and skips the count when it is 0.
    count: firedCount > 0 ? firedCount : undefined,
  });
}

function toSpec(stored: z.output<typeof storedSchedulerSchema>): ScheduleSpec {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return omitUndefined({
    cron: stored.pattern,
    everyMs: stored.every,
    tz: stored.tz,
    startDate: iso(stored.startDate),
    endDate: iso(stored.endDate),
    limit: stored.limit,
  });
}
