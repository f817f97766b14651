import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Client } from '@celeriac/client';
import { cancelResponseSchema, errorResponses, jobIdParams, jobRecordResponseSchema } from './http-schemas.js';

/** What the job routes need. */
export interface JobRoutesOptions {
  readonly client: Client;
}

/** `GET /v1/jobs/:id` and `POST /v1/jobs/:id/cancel`. */
export const jobRoutes: FastifyPluginAsyncZod<JobRoutesOptions> = async (app, { client }) => {
  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'Get a job: state, result or error, attempts and timestamps',
        description: 'An unknown id, or one whose retention has expired, answers 404 (never a guessed "pending").',
        tags: ['jobs'],
        params: jobIdParams,
        response: { 200: jobRecordResponseSchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => client.getJob(request.params.id),
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a job',
        description:
          'A queued or scheduled job ends `cancelled` and never runs (`cancelled`). A running job has its signal ' +
          'aborted on its worker and ends `cancelled` (`cancelling`); a handler that ignores the signal is stopped ' +
          'after the worker\'s grace period.',
        tags: ['jobs'],
        params: jobIdParams,
        response: { 200: cancelResponseSchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => ({ id: request.params.id, outcome: await client.job(request.params.id).cancel() }),
  );
};
