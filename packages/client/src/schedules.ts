import { z } from 'zod';
import {
  CeleriacError,
  ErrorCode,
  JobSource,
  durationMs,
  nameSchema,
  omitUndefined,
  resolveOptions,
  type Duration,
  type TaskDefinition,
  type TaskInput,
} from '@celeriac/core';
import type { Broker, ScheduleRecord, ScheduleRequest, ScheduleSpec } from '@celeriac/broker';
import { buildEnqueueRequest, type TaskDefaults } from './build-enqueue-request.js';
import type { CatalogueCache } from './catalogue-cache.js';

/** Bounds any schedule may have, whether it fires on a cron pattern or at a fixed interval. */
interface ScheduleBounds {
  /** No firing before this time. */
  readonly startDate?: Date;
  /** No firing runs after this time (it must be in the future). */
  readonly endDate?: Date;
  /** At most this many firings in the schedule's whole life; updating the schedule does not restart the count. */
  readonly limit?: number;
}

/**
 * When a schedule fires: `cron` (a pattern, read in `tz`) or `every` (a fixed interval from the first firing), not
 * both, optionally bounded by `startDate`, `endDate` and `limit`.
 */
export type ScheduleOptions = ScheduleBounds &
  (
    | {
        /** Five fields, or six with seconds first (`'0 9 * * 1-5'`), or a macro such as `'@daily'`. */
        readonly cron: string;
        /** The IANA time zone the pattern is read in (`'Europe/Paris'`), daylight saving included. Default UTC. */
        readonly tz?: string;
        readonly every?: never;
      }
    | {
        /** A fixed interval, at least one second (`'5m'`, or milliseconds). The first firing is at once. */
        readonly every: Duration;
        readonly cron?: never;
        readonly tz?: never;
      }
  );

/** The methods a client has for periodic schedules. */
export interface ClientSchedules {
  /**
   * Creates the schedule `id`, whose every firing enqueues `task` with `input`, or updates the schedule with that id
   * (its pending firing included). The input is validated against the task's schema here. Each firing is an
   * ordinary job of the task, under its retry policy and time limits.
   * @throws `CELERIAC_INVALID_OPTIONS` (`schedule.cron: …`), `CELERIAC_INVALID_INPUT`, `CELERIAC_BROKER_UNAVAILABLE`
   */
  schedule<Task extends TaskDefinition>(
    id: string,
    options: ScheduleOptions,
    task: Task,
    input: TaskInput<Task>,
  ): Promise<ScheduleRecord>;
  /**
   * {@link ClientSchedules.schedule} for a task this app does not import. Unlike `enqueueByName`, the task must be
   * published: a schedule keeps the task's queue and policies for every firing, so guessing them is not an option.
   * @throws `CELERIAC_TASK_NOT_FOUND` when no worker has published the task, and as `schedule`
   */
  scheduleByName(id: string, options: ScheduleOptions, task: string, input: unknown): Promise<ScheduleRecord>;
  /**
   * Reads a schedule: its spec, input, firings so far and the pending firing.
   * @throws `CELERIAC_SCHEDULE_NOT_FOUND`
   */
  getSchedule(id: string): Promise<ScheduleRecord>;
  /** Every schedule, sorted by id. */
  listSchedules(): Promise<ScheduleRecord[]>;
  /** Removes a schedule and its pending firing; false when there was none with that id. */
  removeSchedule(id: string): Promise<boolean>;
}

/** What {@link createClientSchedules} needs from the client. */
export interface ClientSchedulesContext {
  readonly broker: Broker;
  readonly catalogue: CatalogueCache;
  /** Validates an input against its task's schema, as `enqueue` does. */
  readonly checkInput: (task: TaskDefinition, input: unknown, path: string) => void;
}

/** A cron pattern's shape; its fields are checked by the broker, with the parser that schedules it. */
const cronShape = /^(@[a-z]+|\S+(\s+\S+){4,5})$/i;

const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

const scheduleOptionsSchema = z
  .object({
    cron: z
      .string()
      .trim()
      .regex(cronShape, 'expected 5 cron fields (6 with seconds first), such as "*/5 * * * *", or a macro such as "@daily"')
      .optional(),
    // More often than once a second is a stream of jobs, better served by a loop that enqueues.
    every: durationMs.pipe(z.number().min(1_000, 'must be at least 1 s')).optional(),
    tz: z.string().refine(isTimeZone, 'expected an IANA time zone such as "Europe/Paris" or "UTC"').optional(),
    startDate: z.date().optional(),
    endDate: z
      .date()
      .refine((date) => date.getTime() > Date.now(), 'has passed; give an end in the future')
      .optional(),
    limit: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((o) => (o.cron === undefined) !== (o.every === undefined), {
    message: 'give exactly one of cron and every',
    path: ['cron'],
  })
  .refine((o) => o.tz === undefined || o.cron !== undefined, { message: 'applies to cron only', path: ['tz'] })
  .refine((o) => !o.startDate || !o.endDate || o.startDate < o.endDate, {
    message: 'must be after startDate',
    path: ['endDate'],
  });

/**
 * Validates schedule options into the broker's spec (durations in milliseconds, dates as ISO strings). The broker
 * then checks the cron pattern's fields with the parser that schedules it.
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming each bad path (`schedule.tz: …`)
 */
export function resolveScheduleOptions(options: ScheduleOptions): ScheduleSpec {
  const resolved = resolveOptions(scheduleOptionsSchema, options, 'schedule');
  return omitUndefined({
    cron: resolved.cron,
    everyMs: resolved.every,
    tz: resolved.tz,
    startDate: resolved.startDate?.toISOString(),
    endDate: resolved.endDate?.toISOString(),
    limit: resolved.limit,
  });
}

/** The schedule methods of a client. */
export function createClientSchedules({ broker, catalogue, checkInput }: ClientSchedulesContext): ClientSchedules {
  const upsert = (id: string, options: ScheduleOptions, task: string, defaults: TaskDefaults, input: unknown) => {
    resolveOptions(nameSchema, id, 'schedule.id');
    return broker.upsertSchedule(buildScheduleRequest(id, resolveScheduleOptions(options), task, defaults, input));
  };
  return {
    async schedule(id, options, task, input) {
      checkInput(task, input, 'input');
      return upsert(id, options, task.name, task, input);
    },
    async scheduleByName(id, options, task, input) {
      resolveOptions(nameSchema, task, 'task.name');
      const entry = await catalogue.get(task);
      if (!entry) {
        throw new CeleriacError(
          ErrorCode.TaskNotFound,
          `No worker has published a task named "${task}", so schedule "${id}" cannot take its queue and policies. ` +
            'Check the name, start a worker that has the task, or schedule it with its definition (client.schedule).',
          { details: { task } },
        );
      }
      return upsert(id, options, task, entry, input);
    },
    async getSchedule(id) {
      const record = await broker.getSchedule(id);
      if (record) return record;
      throw new CeleriacError(
        ErrorCode.ScheduleNotFound,
        `Schedule "${id}" was not found. Check the id; listSchedules() lists them.`,
        { details: { id } },
      );
    },
    listSchedules: () => broker.listSchedules(),
    removeSchedule: (id) => broker.removeSchedule(id),
  };
}

/**
 * Builds the request the way `enqueue` builds a job, so each firing carries the task's retry policy and time limits.
 * An expiry is absolute in a job, and every firing shares one envelope, so the task's own expiry (relative to
 * enqueueing) cannot apply; the schedule's end date is the expiry instead. BullMQ checks the end when it creates a
 * firing, not against the firing's due time, so it may create one firing due after the end: that one expires.
 */
function buildScheduleRequest(
  id: string,
  spec: ScheduleSpec,
  task: string,
  defaults: TaskDefaults,
  input: unknown,
): ScheduleRequest {
  const expires = spec.endDate === undefined ? {} : { expires: new Date(spec.endDate) };
  const { queue, envelope, attempts } = buildEnqueueRequest(task, defaults, input, expires, JobSource.Schedule);
  const meta = { ...envelope.meta };
  if (spec.endDate === undefined) delete meta.expiresAtMs;
  return { id, spec, queue, task, envelope: { ...envelope, meta }, ...(attempts === undefined ? {} : { attempts }) };
}
