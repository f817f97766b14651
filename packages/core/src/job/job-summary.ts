import { z } from 'zod';
import { JobState } from './job-state.js';

/**
 * A job as a listing shows it: identity, state, times and attempts, without its input, result or logs (they can be
 * large, and a page of fifty jobs must stay cheap). `GET /v1/jobs/:id` gives the whole record.
 */
export const jobSummarySchema = z
  .object({
    id: z.string(),
    task: z.string(),
    queue: z.string(),
    state: z.enum(JobState),
    priority: z.number().int(),
    attempts: z.object({ made: z.number().int(), max: z.number().int() }),
    createdAt: z.string(),
    runAt: z.string().optional(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    /** The failure's code and message, for a job that failed, was cancelled while running, or expired. */
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  });

/** A job in a listing; see {@link jobSummarySchema}. */
export type JobSummary = z.output<typeof jobSummarySchema>;
