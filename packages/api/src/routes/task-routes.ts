import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CeleriacError, ErrorCode, catalogueEntrySchema, isCeleriacError, omitUndefined } from '@celeriac/core';
import { resolveEnqueueOptions, type Client, type ResolvedEnqueueOptions } from '@celeriac/client';
import type { CatalogueValidator } from '../internal/catalogue-validator.js';
import {
  errorResponses,
  submitQuerySchema,
  submitResponseSchema,
  taskListSchema,
  taskNameParams,
} from './http-schemas.js';

/** What the task routes need. */
export interface TaskRoutesOptions {
  readonly client: Client;
  readonly catalogue: CatalogueValidator;
}

/** `GET /v1/tasks`, `GET /v1/tasks/:name` and `POST /v1/tasks/:name` (submit). */
export const taskRoutes: FastifyPluginAsyncZod<TaskRoutesOptions> = async (app, { client, catalogue }) => {
  app.get(
    '/v1/tasks',
    {
      schema: {
        summary: 'List the tasks workers have published, with their JSON Schemas',
        tags: ['tasks'],
        response: { 200: taskListSchema, ...errorResponses(503) },
      },
    },
    async () => ({ tasks: await catalogue.list() }),
  );

  app.get(
    '/v1/tasks/:name',
    {
      schema: {
        summary: 'Describe one task',
        tags: ['tasks'],
        params: taskNameParams,
        response: { 200: catalogueEntrySchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => catalogue.get(request.params.name),
  );

  app.post(
    '/v1/tasks/:name',
    {
      schema: {
        summary: 'Submit a job',
        description:
          "The body is the task's input, validated against its published JSON Schema. Per-call options go in the " +
          'query string. Answers 201 with the job id; poll GET /v1/jobs/{id} for the outcome.',
        tags: ['tasks'],
        params: taskNameParams,
        querystring: submitQuerySchema,
        body: z.unknown().describe("The task's input"),
        response: { 201: submitResponseSchema, ...errorResponses(400, 404, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const entry = await catalogue.get(request.params.name);
      const options = toEnqueueOptions(request.query);
      catalogue.assertValidInput(entry, request.body);
      const handle = await client.enqueueByName(entry.name, request.body, omitUndefined({ ...options, queue: options.queue ?? entry.queue }));
      const state = await handle.state();
      return reply.status(201).header('location', `/v1/jobs/${encodeURIComponent(handle.id)}`).send({ id: handle.id, state });
    },
  );
};

/** Query-string options → enqueue options; a bad one is the caller's mistake (400), not a server fault. */
function toEnqueueOptions(query: z.output<typeof submitQuerySchema>): ResolvedEnqueueOptions {
  const { delay, ...rest } = query;
  const withDelay = delay === undefined ? rest : { ...rest, delay: /^\d+$/.test(delay) ? Number(delay) : delay };
  try {
    return resolveEnqueueOptions(withDelay as Parameters<typeof resolveEnqueueOptions>[0]);
  } catch (error) {
    if (!isCeleriacError(error, ErrorCode.InvalidOptions)) throw error;
    throw new CeleriacError(ErrorCode.InvalidRequest, error.message.replaceAll('enqueue.', 'query.'), {
      details: error.details,
    });
  }
}
