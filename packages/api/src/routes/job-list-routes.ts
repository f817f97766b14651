import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { JobState } from '@celeriac/core';
import type { Client } from '@celeriac/client';
import { errorResponses, jobIdParams } from './http-schemas.js';
import { jobListQuerySchema, jobPageSchema, retryResponseSchema } from './operator-schemas.js';

/** What the job listing and retry routes need. */
export interface JobListRoutesOptions {
  readonly client: Client;
}

/** `GET /v1/jobs` (list, filter, page) and `POST /v1/jobs/:id/retry`. */
export const jobListRoutes: FastifyPluginAsyncZod<JobListRoutesOptions> = async (app, { client }) => {
  app.get(
    '/v1/jobs',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List jobs, newest first, filtered by state, queue, task and creation time',
        description:
          'Jobs come newest first (by creation time, then id), `limit` per page. Pass the answer\'s `nextCursor` as ' +
          '`cursor` for the next page; it is absent on the last one. A job\'s place in this order never changes, so ' +
          'paging neither repeats nor skips a job, even while jobs change state. Items are summaries (no input, ' +
          'result or logs): GET /v1/jobs/{id} has the whole record. Jobs removed by retention are not listed.',
        tags: ['jobs'],
        querystring: jobListQuerySchema,
        response: { 200: jobPageSchema, ...errorResponses(400, 503) },
      },
    },
    async (request) => {
      const { state, queue, task, createdAfter, createdBefore, limit, cursor } = request.query;
      return client.listJobs({
        limit,
        ...(state ? { state } : {}),
        ...(queue ? { queue } : {}),
        ...(task ? { task } : {}),
        ...(createdAfter ? { createdAfter: new Date(createdAfter) } : {}),
        ...(createdBefore ? { createdBefore: new Date(createdBefore) } : {}),
        ...(cursor ? { cursor } : {}),
      });
    },
  );

  app.post(
    '/v1/jobs/:id/retry',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Retry a failed or cancelled job',
        description:
          'The job goes back to `queued` under the same id. A failed job (or one cancelled while it ran) keeps its ' +
          'attempt history and counter: the retry is one more attempt, numbered after those in `history`, and its ' +
          'retry policy is not renewed. A job cancelled before it ran is created again from its cancellation record ' +
          '(same input, queue, priority and attempts; its expiry and time limits are not kept). Any other state ' +
          'answers 409 `CELERIAC_JOB_NOT_RETRYABLE`.',
        tags: ['jobs'],
        params: jobIdParams,
        response: { 200: retryResponseSchema, ...errorResponses(400, 404, 409, 503) },
      },
    },
    async (request) => {
      const { id, previousState } = await client.retryJob(request.params.id);
      return { id, state: JobState.Queued, previousState };
    },
  );
};
