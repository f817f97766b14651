import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  CeleriacError,
  ControlCommand,
  ErrorCode,
  controlRequestSchema,
  formatValidationIssues,
  toValidationIssues,
} from '@celeriac/core';
import type { Client } from '@celeriac/client';
import { errorResponses } from './http-schemas.js';
import { controlBodySchema, controlReportResponseSchema, pingQuerySchema, workerListSchema } from './operator-schemas.js';

/** What the worker routes need. */
export interface WorkerRoutesOptions {
  readonly client: Client;
}

/** `GET /v1/workers`, `GET /v1/workers/ping` and `POST /v1/workers/control` (remote control). */
export const workerRoutes: FastifyPluginAsyncZod<WorkerRoutesOptions> = async (app, { client }) => {
  app.get(
    '/v1/workers',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List live workers: queues, concurrency, running jobs, heartbeat age, CPU and GPU',
        description:
          'A worker is live while its heartbeat has not expired (three missed beats). `activeJobs` and `paused` are as ' +
          'of its last heartbeat (`heartbeatAgeMs` ago); a control command refreshes them at once.',
        tags: ['workers'],
        response: { 200: workerListSchema, ...errorResponses(503) },
      },
    },
    async () => ({ workers: await client.listWorkers() }),
  );

  app.get(
    '/v1/workers/ping',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Ping every live worker',
        description:
          'Celery\'s `inspect ping`: which workers answer within `timeoutMs`, with what they are doing. Read-only, ' +
          'so it needs only the `read` scope; the same as `POST /v1/workers/control` with `ping`.',
        tags: ['workers'],
        querystring: pingQuerySchema,
        response: { 200: controlReportResponseSchema, ...errorResponses(400, 503) },
      },
    },
    async (request) => client.ping({ timeout: request.query.timeoutMs }),
  );

  app.post(
    '/v1/workers/control',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Send a remote-control command to workers',
        description:
          'Celery\'s control commands, sent to every live worker or to the ids in `workers`, over a Redis pub/sub ' +
          'channel. Each addressed worker applies the command and replies; the answer lists the replies that came ' +
          'within `timeoutMs`, and the addressed workers that stayed `missing` (delivery is at most once). ' +
          'Commands: `ping`; `shutdown` (graceful: it stops fetching and lets running jobs finish within its ' +
          'shutdown timeout); `pause` and `resume` (stop or restart fetching on those workers only; queues stay ' +
          'open to other workers); `set-concurrency` with `args: { concurrency }`; `set-rate-limit` with ' +
          '`args: { task, rateLimit: "10/s" | { limit, perMs } | null }` (null: back to the task\'s declared ' +
          'limit). Runtime changes live in the worker: a restarted worker starts from its options again.',
        tags: ['workers'],
        body: controlBodySchema,
        response: { 200: controlReportResponseSchema, ...errorResponses(400, 503) },
      },
    },
    async (request) => {
      const { command, args, workers, timeoutMs } = request.body;
      const parsed = controlRequestSchema.safeParse(args === undefined ? { command } : { command, args });
      if (!parsed.success) {
        const issues = toValidationIssues(parsed.error, 'body');
        throw new CeleriacError(
          ErrorCode.InvalidRequest,
          `Invalid arguments for command "${command}": ${formatValidationIssues(issues)}. ` +
            (command === ControlCommand.SetConcurrency
              ? 'Send args: { concurrency: 4 }.'
              : command === ControlCommand.SetRateLimit
                ? 'Send args: { task: "name", rateLimit: "10/s" }.'
                : 'This command takes no args.'),
          { details: { issues } },
        );
      }
      return client.control(parsed.data, { timeout: timeoutMs, ...(workers ? { workers } : {}) });
    },
  );
};
