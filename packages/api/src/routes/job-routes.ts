import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Client } from '@celeriac/client';
import type { JobWaitingForLookup } from '../internal/find-job-waiting-for.js';
import { encodeTypedArrays } from '../internal/typed-array-json.js';
import { cancelResponseSchema, errorResponses, jobIdParams, jobRecordResponseSchema } from './http-schemas.js';

/** What the job routes need. */
export interface JobRoutesOptions {
  readonly client: Client;
  /** What a queued job waits for, when no live worker can run it. */
  readonly waitingFor: JobWaitingForLookup;
}

/** `GET /v1/jobs/:id` and `POST /v1/jobs/:id/cancel`. */
export const jobRoutes: FastifyPluginAsyncZod<JobRoutesOptions> = async (app, { client, waitingFor }) => {
  app.get(
    '/v1/jobs/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Get a job: state, result or error, attempts and timestamps',
        description:
          'An unknown id, or one whose retention has expired, answers 404 (never a guessed "pending"). A queued job ' +
          'that no live worker can run (its task needs a GPU, a feature or an adapter type none of them has) also ' +
          'carries `waitingFor: { reason: "no-capable-worker", requires, queue }`; it runs once such a worker starts.',
        tags: ['jobs'],
        params: jobIdParams,
        response: { 200: jobRecordResponseSchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => {
      // Typed arrays in the input and result answer as base64 strings (the task's schemas give their dtype).
      const record = encodeTypedArrays(await client.getJob(request.params.id));
      const waiting = await waitingFor(record);
      return waiting === undefined ? record : { ...record, waitingFor: waiting };
    },
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      config: { scope: 'admin' },
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
