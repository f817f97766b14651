import type { JobEnvelope } from '@celeriac/core';

/**
 * When a schedule fires: a cron pattern or a fixed interval (exactly one of `cron` and `everyMs`), optionally bounded
 * by a start, an end and a number of firings. Dates are ISO-8601 strings, as in job records, so a spec reads the same
 * in code and in JSON.
 */
export interface ScheduleSpec {
  /** A cron pattern: five fields, or six with seconds first (`'0 9 * * 1-5'`), or a macro such as `'@daily'`. */
  readonly cron?: string;
  /** A fixed interval in milliseconds. */
  readonly everyMs?: number;
  /** The IANA time zone a cron pattern is read in (`'Europe/Paris'`); UTC when absent. Only with `cron`. */
  readonly tz?: string;
  /** No firing before this time. */
  readonly startDate?: string;
  /** No firing runs after this time. */
  readonly endDate?: string;
  /** At most this many firings in the schedule's whole life, counted across updates. */
  readonly limit?: number;
}

/** What the client hands the broker to create or replace one schedule. */
export interface ScheduleRequest {
  /** The schedule's id; a request with an existing id replaces that schedule, pending firing included. */
  readonly id: string;
  readonly spec: ScheduleSpec;
  /** Queue every firing goes to. */
  readonly queue: string;
  /** Task name of every firing. */
  readonly task: string;
  /** The job data every firing gets (its `meta.source` is `schedule`). */
  readonly envelope: JobEnvelope;
  /** Total attempts of each firing, the first included. Default 1. */
  readonly attempts?: number;
}

/** A schedule as the broker reports it; the same shape in the SDK and over HTTP. */
export interface ScheduleRecord {
  readonly id: string;
  readonly task: string;
  readonly queue: string;
  readonly spec: ScheduleSpec;
  /** The input every firing gets. */
  readonly input: unknown;
  /** Firings created so far (run, running or failed), not counting the pending one. */
  readonly firedCount: number;
  /** True once no firing is pending or to come: the limit or the end date was reached, and the last firing taken. */
  readonly ended: boolean;
  /**
   * When the pending firing is due. Absent once the schedule has ended, and while no firing is pending although it
   * has not ended: someone cancelled the pending firing's job, which stops the schedule until it is updated again.
   */
  readonly nextRunAt?: string;
  /** The job id of the pending firing, to follow it like any job. Each firing's id is `repeat:<id>:<due ms>`. */
  readonly nextJobId?: string;
}

/**
 * What periodic schedules need from a broker. Each firing is an ordinary job created by the broker itself, so no
 * separate "beat" process runs, and any number of workers and API instances can share the schedules: the
 * implementation must create each firing at most once however many of them are running.
 */
export interface ScheduleStore {
  /** Creates a schedule, or replaces the one with the same id; resolves to the schedule as stored. */
  upsertSchedule(request: ScheduleRequest): Promise<ScheduleRecord>;
  /** Reads a schedule; `undefined` when there is none with that id. */
  getSchedule(id: string): Promise<ScheduleRecord | undefined>;
  /** Every schedule, sorted by id. */
  listSchedules(): Promise<ScheduleRecord[]>;
  /** Removes a schedule and its pending firing; false when there was none with that id. */
  removeSchedule(id: string): Promise<boolean>;
}
