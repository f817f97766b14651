import { z } from 'zod';
import { ErrorCode, JobState, catalogueEntrySchema, jobRecordSchema, nameSchema, waitingForSchema } from '@celeriac/core';

/** The body of every error answer. */
export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.enum(ErrorCode),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .meta({ id: 'ErrorResponse' });

/** Error answers, by status, for a route's `response` schema. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, errorResponseSchema]));

export const taskNameParams = z.object({ name: nameSchema });
export const jobIdParams = z.object({ id: z.string().min(1).max(256) });

/** Per-call options of a submission, in the query string so the body is exactly the task's input. */
export const submitQuerySchema = z
  .object({
    delay: z.string().optional().describe('Wait before running: milliseconds or a duration such as "30s".'),
    priority: z.coerce.number().int().optional().describe('1 (highest) to 2097152.'),
    jobId: z.string().optional().describe('Your own id; submitting it again returns the existing job.'),
    queue: z.string().optional().describe("Override the task's default queue."),
    eta: z.iso.datetime({ offset: true }).optional().describe('Run at (or after) this ISO-8601 time; instead of delay.'),
    expires: z.string().optional().describe('If not started within this duration ("1h"), the job ends expired.'),
    attempts: z.coerce.number().int().optional().describe("Override the task's retry attempts."),
    dedupeKey: z.string().optional().describe('While a job with this key is unfinished, return it instead.'),
    dedupeTtl: z.string().optional().describe('How long the dedupe key holds (a duration, default "1h").'),
  })
  .strict();

export const submitResponseSchema = z.object({ id: z.string(), state: z.enum(JobState) }).meta({ id: 'SubmitResponse' });
export const taskListSchema = z.object({ tasks: z.array(catalogueEntrySchema) }).meta({ id: 'TaskList' });
export const jobRecordResponseSchema = jobRecordSchema
  .extend({
    waitingFor: waitingForSchema
      .optional()
      .describe('Only on a queued job that no live worker can run (its task needs a GPU none of them has): what it waits for.'),
  })
  .meta({ id: 'Job' });
export const cancelResponseSchema = z
  .object({ id: z.string(), outcome: z.enum(['cancelled', 'cancelling', 'already-finished']) })
  .meta({ id: 'CancelResponse' });

export const workflowIdParams = z.object({ id: z.string().min(1).max(256) });
export const workflowSubmitResponseSchema = z.object({ id: z.string() }).meta({ id: 'WorkflowSubmitResponse' });

/** One node of a workflow's tree, as `GET /v1/workflows/:id` answers it. */
interface WorkflowTreeView {
  readonly kind: 'task' | 'chain' | 'group' | 'chord' | 'map' | 'chunks';
  readonly task?: string | undefined;
  readonly jobId: string;
  readonly state: JobState | 'pending';
  readonly children?: readonly WorkflowTreeView[] | undefined;
}

const workflowStateSchema = z.union([z.enum(JobState), z.literal('pending')]);
const workflowTreeSchema: z.ZodType<WorkflowTreeView> = z.lazy(() =>
  z.object({
    kind: z.enum(['task', 'chain', 'group', 'chord', 'map', 'chunks']),
    task: z.string().optional(),
    jobId: z.string(),
    state: workflowStateSchema,
    children: z.array(workflowTreeSchema).optional(),
  }),
);

export const workflowViewSchema = z
  .object({ id: z.string(), createdAt: z.string(), state: workflowStateSchema, tree: workflowTreeSchema })
  .meta({ id: 'Workflow' });
