import { z } from 'zod';
import { nameSchema } from '@celeriac/core';

/** The path parameter of the schedule routes. */
export const scheduleIdParams = z.object({ id: nameSchema });

/**
 * The body of `PUT /v1/schedules/:id`. Only the JSON shapes are checked here; the client validates the values
 * (exactly one of cron and every, the time zone, the dates), so the SDK and HTTP refuse the same things.
 */
export const scheduleBodySchema = z
  .object({
    task: nameSchema.describe('The task every firing runs; a worker must have published it.'),
    input: z.unknown().describe("The input of every firing, validated against the task's published JSON Schema."),
    cron: z.string().optional().describe('A cron pattern: "*/5 * * * *", "0 9 * * 1-5", six fields with seconds, or "@daily".'),
    every: z
      .union([z.number(), z.string()])
      .optional()
      .describe('A fixed interval instead of cron: milliseconds or a duration such as "5m"; at least 1 s.'),
    tz: z.string().optional().describe('With cron: the IANA time zone the pattern is read in. Default UTC.'),
    startDate: z.iso.datetime({ offset: true }).optional().describe('No firing before this ISO-8601 time.'),
    endDate: z.iso.datetime({ offset: true }).optional().describe('No firing runs after this ISO-8601 time.'),
    limit: z.number().int().optional().describe("At most this many firings in the schedule's whole life."),
  })
  .strict()
  .meta({ id: 'ScheduleRequest' });

/** A schedule's timing as stored. */
const scheduleSpecSchema = z
  .object({
    cron: z.string().optional(),
    everyMs: z.number().int().optional(),
    tz: z.string().optional(),
    startDate: z.string().optional(),
    endDate: z.string().optional(),
    limit: z.number().int().optional(),
  })
  .meta({ id: 'ScheduleSpec' });

/** A schedule, as the SDK's `getSchedule` returns it. */
export const scheduleRecordSchema = z
  .object({
    id: z.string(),
    task: z.string(),
    queue: z.string(),
    spec: scheduleSpecSchema,
    input: z.unknown(),
    firedCount: z.number().int().describe('Firings created so far, not counting the pending one.'),
    ended: z.boolean().describe('True once the limit or the end date was reached and the last firing taken.'),
    nextRunAt: z.string().optional().describe('When the pending firing is due; absent once the schedule has ended.'),
    nextJobId: z.string().optional().describe('The job id of the pending firing (GET /v1/jobs/{id}).'),
  })
  .meta({ id: 'Schedule' });

/** The answer of `GET /v1/schedules`. */
export const scheduleListSchema = z.object({ schedules: z.array(scheduleRecordSchema) }).meta({ id: 'ScheduleList' });
