import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CeleriacError, ErrorCode } from '@celeriac/core';
import type { Client } from '@celeriac/client';
import { errorResponses } from './http-schemas.js';
import {
  drainBodySchema,
  drainResponseSchema,
  queueListSchema,
  queueNameParams,
  queueSummarySchema,
} from './operator-schemas.js';

/** What the queue routes need. */
export interface QueueRoutesOptions {
  readonly client: Client;
}

/** `GET /v1/queues`, `GET /v1/queues/:name`, and `POST /v1/queues/:name/pause`, `/resume` and `/drain`. */
export const queueRoutes: FastifyPluginAsyncZod<QueueRoutesOptions> = async (app, { client }) => {
  app.get(
    '/v1/queues',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List queues with their job counts by state',
        description:
          'Every queue a job was enqueued to or a live worker consumes, sorted by name. `queued` counts jobs waiting ' +
          'for a worker, `delayed` those waiting for a delay, an ETA or a retry backoff; `failed` includes jobs ' +
          'cancelled while they ran and expired ones. Finished jobs count until their retention removes them.',
        tags: ['queues'],
        response: { 200: queueListSchema, ...errorResponses(503) },
      },
    },
    async () => ({ queues: await client.listQueues() }),
  );

  app.get(
    '/v1/queues/:name',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'One queue with its job counts',
        tags: ['queues'],
        params: queueNameParams,
        response: { 200: queueSummarySchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => {
      const queues = await client.listQueues();
      return queues.find((queue) => queue.name === request.params.name) ?? notFound(request.params.name, queues);
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/v1/queues/:name/${action}`,
      {
        config: { scope: 'admin' },
        schema: {
          summary: action === 'pause' ? 'Pause a queue for every worker' : 'Resume a paused queue',
          description:
            action === 'pause'
              ? 'No worker takes the queue\'s jobs while it is paused; they keep waiting, and new ones can be ' +
                'submitted. Jobs already running finish. The pause is stored in Redis: it holds across worker restarts ' +
                'until resumed. (To stop one worker instead, use POST /v1/workers/control with `pause`.)'
              : 'Workers take the queue\'s jobs again.',
          tags: ['queues'],
          params: queueNameParams,
          response: { 200: queueSummarySchema, ...errorResponses(400, 404, 503) },
        },
      },
      async (request) =>
        action === 'pause' ? client.pauseQueue(request.params.name) : client.resumeQueue(request.params.name),
    );
  }

  app.post(
    '/v1/queues/:name/drain',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Remove every waiting (and delayed) job of a queue',
        description:
          'Destructive, so the body must say `{ "confirm": true }`; without it the answer is 400 and nothing is ' +
          'removed. Removes waiting jobs, and delayed ones unless `delayed: false`. Running, succeeded and failed ' +
          'jobs stay. `removed` is exact on a quiet queue and approximate while jobs are added or taken meanwhile.',
        tags: ['queues'],
        params: queueNameParams,
        body: drainBodySchema,
        response: { 200: drainResponseSchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => {
      const { name } = request.params;
      if (request.body.confirm !== true) {
        throw new CeleriacError(
          ErrorCode.InvalidRequest,
          `Draining removes every waiting${request.body.delayed ? ' and delayed' : ''} job of queue "${name}" for good, ` +
            'so it needs confirming: send { "confirm": true } to drain it.',
          { details: { queue: name } },
        );
      }
      const { removed } = await client.drainQueue(name, { delayed: request.body.delayed });
      return { queue: name, removed };
    },
  );
};

function notFound(name: string, queues: readonly { name: string }[]): never {
  throw new CeleriacError(
    ErrorCode.QueueNotFound,
    `Queue "${name}" is unknown: no job was ever enqueued to it and no live worker consumes it. GET /v1/queues lists ` +
      `the known ones (${queues.map((queue) => queue.name).join(', ') || 'none yet'}).`,
    { details: { queue: name } },
  );
}
