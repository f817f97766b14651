import { z } from 'zod';
import { ErrorCode } from '../errors/error-catalogue.js';
import { JobState } from './job-state.js';

/** The wire form of a failure, as a schema (used to validate what is read back from Redis and to document HTTP). */
export const serializedErrorSchema = z.object({
  code: z.enum(ErrorCode),
  message: z.string(),
  retryable: z.boolean(),
  details: z.record(z.string(), z.unknown()),
});

/** One attempt that did not succeed. */
export const attemptRecordSchema = z.object({
  attempt: z.number().int(),
  /** `failed`: the handler failed; `lost`: the worker running it stopped (killed, or cut off) before it finished. */
  outcome: z.enum(['failed', 'lost']),
  error: serializedErrorSchema,
  /** When the failure was recorded: for a lost attempt, when a later attempt found out. */
  at: z.string(),
});

/** One attempt that did not succeed. */
export type AttemptRecord = z.output<typeof attemptRecordSchema>;

/**
 * Everything celeriac reports about one job; the same shape in the SDK (`getJob`) and over HTTP (`GET /v1/jobs/:id`).
 * Times are ISO-8601 strings so the record is the same in JSON and in code.
 */
export const jobRecordSchema = z.object({
  id: z.string(),
  task: z.string(),
  queue: z.string(),
  state: z.enum(JobState),
  input: z.unknown(),
  result: z.unknown().optional(),
  error: serializedErrorSchema.optional(),
  attempts: z.object({ made: z.number().int(), max: z.number().int() }),
  priority: z.number().int(),
  progress: z.unknown().optional(),
  createdAt: z.string(),
  runAt: z.string().optional().describe('When a scheduled job becomes runnable.'),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** Attempts that did not succeed, in order: failed ones with their error, and ones lost with a worker that died. */
  history: z.array(attemptRecordSchema).optional(),
  /** The last lines the handler wrote with `ctx.log` (up to 100), oldest first. */
  logs: z.array(z.string()).optional(),
});

/** A job as the SDK and HTTP API report it. */
export type JobRecord = z.output<typeof jobRecordSchema>;
