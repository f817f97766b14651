import { z } from 'zod';
import {
  ControlCommand,
  JobState,
  controlReportSchema,
  jobSummarySchema,
  nameSchema,
  workerInfoSchema,
} from '@celeriac/core';

/** Per-job options of a bulk submission: the single submit's query options, as JSON. */
export const bulkJobOptionsSchema = z
  .object({
    delay: z.union([z.number().int().min(0), z.string()]).optional().describe('Milliseconds, or a duration such as "30s".'),
    eta: z.iso.datetime({ offset: true }).optional().describe('Run at (or after) this ISO-8601 time; instead of delay.'),
    priority: z.number().int().optional().describe('1 (highest) to 2097152.'),
    jobId: z.string().optional().describe('Your own id; one that exists already answers the existing job.'),
    queue: z.string().optional().describe("Override the task's default queue."),
    expires: z.union([z.number().int().min(1), z.string()]).optional().describe('If not started within this duration, the job ends expired.'),
    attempts: z.number().int().optional().describe("Override the task's retry attempts."),
    dedupeKey: z.string().optional().describe('While a job with this key is unfinished, answer it instead.'),
    dedupeTtl: z.union([z.number().int().min(1), z.string()]).optional().describe('How long the dedupe key holds (default "1h").'),
  })
  .strict();

/** The body of `POST /v1/jobs:bulk`, with at most `maxJobs` jobs. */
export const bulkSubmitBodySchema = (maxJobs: number) =>
  z
    .object({
      jobs: z
        .array(
          z
            .object({
              task: nameSchema,
              input: z.unknown().describe("The task's input, as for POST /v1/tasks/{name}"),
              options: bulkJobOptionsSchema.optional(),
            })
            .strict(),
        )
        .min(1, 'send at least one job')
        .max(maxJobs, `at most ${maxJobs} jobs per request (the server's maxBulkJobs); split the batch`),
    })
    .strict();

export const bulkSubmitResponseSchema = z
  .object({ jobs: z.array(z.object({ id: z.string(), state: z.enum(JobState) })) })
  .meta({ id: 'BulkSubmitResponse' });

/** A comma-separated list in a query string (`state=failed,cancelled`). */
const commaList = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((text) => text.split(',').map((part) => part.trim()).filter(Boolean))
    .pipe(z.array(item).min(1));

export const jobListQuerySchema = z
  .object({
    state: commaList(z.enum(JobState)).optional().describe('Comma-separated states, e.g. "failed,cancelled".'),
    queue: commaList(nameSchema).optional().describe('Comma-separated queue names.'),
    task: commaList(nameSchema).optional().describe('Comma-separated task names.'),
    createdAfter: z.iso.datetime({ offset: true }).optional().describe('Jobs created at or after this time.'),
    createdBefore: z.iso.datetime({ offset: true }).optional().describe('Jobs created before this time.'),
    limit: z.coerce.number().int().min(1).max(500).default(50).describe('Jobs per page, 1 to 500 (default 50).'),
    cursor: z.string().min(1).max(1_000).optional().describe('The nextCursor of the previous page.'),
  })
  .strict();

export const jobPageSchema = z
  .object({
    jobs: z.array(jobSummarySchema.meta({ id: 'JobSummary' })),
    nextCursor: z.string().optional().describe('Pass as cursor for the next page; absent on the last page.'),
  })
  .meta({ id: 'JobPage' });

export const retryResponseSchema = z
  .object({ id: z.string(), state: z.literal(JobState.Queued), previousState: z.enum(JobState) })
  .meta({ id: 'RetryResponse' });

export const queueNameParams = z.object({ name: nameSchema });

export const queueSummarySchema = z
  .object({
    name: z.string(),
    paused: z.boolean(),
    counts: z.object({
      queued: z.number().int(),
      delayed: z.number().int(),
      active: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
    }),
  })
  .meta({ id: 'QueueSummary' });

export const queueListSchema = z.object({ queues: z.array(queueSummarySchema) }).meta({ id: 'QueueList' });

export const drainBodySchema = z
  .object({
    confirm: z.boolean().optional().describe('Must be true: draining removes jobs for good.'),
    delayed: z.boolean().default(true).describe('Also remove delayed jobs (scheduled, or waiting for a retry). Default true.'),
  })
  .strict();

export const drainResponseSchema = z.object({ queue: z.string(), removed: z.number().int() }).meta({ id: 'DrainResponse' });

export const workerViewSchema = workerInfoSchema
  .extend({ heartbeatAgeMs: z.number().describe('Milliseconds since the worker last refreshed its heartbeat.') })
  .meta({ id: 'Worker' });

export const workerListSchema = z.object({ workers: z.array(workerViewSchema) }).meta({ id: 'WorkerList' });

const timeoutMs = z.coerce.number().int().min(1).max(30_000).default(1_000);

export const pingQuerySchema = z
  .object({ timeoutMs: timeoutMs.describe('How long to wait for replies, in ms (default 1000, at most 30000).') })
  .strict();

export const controlBodySchema = z
  .object({
    command: z.enum(ControlCommand),
    args: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('`set-concurrency`: `{ concurrency }`; `set-rate-limit`: `{ task, rateLimit: "10/s" | { limit, perMs } | null }`.'),
    workers: z.array(z.string().min(1).max(256)).min(1).max(1_000).optional().describe('Worker ids; default: every live worker.'),
    timeoutMs: timeoutMs.describe('How long to wait for replies, in ms (default 1000, at most 30000).'),
  })
  .strict();

export const controlReportResponseSchema = controlReportSchema.meta({ id: 'ControlReport' });
