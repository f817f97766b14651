import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { catalogueEntrySchema, omitUndefined } from '@celeriac/core';
import type { Client, EnqueueOptions } from '@celeriac/client';
import type { CatalogueValidator } from '../internal/catalogue-validator.js';
import { asRequestError } from '../internal/as-request-error.js';
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
      config: { scope: 'read' },
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
      config: { scope: 'read' },
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
      config: { scope: 'submit' },
      schema: {
        summary: 'Submit a job',
        description:
          "The body is the task's input, validated against its published JSON Schema. Per-call options go in the " +
          'query string. Answers 201 with the job id; poll GET /v1/jobs/{id} for the outcome. A typed-array field ' +
          '(`x-celeriac-dtype` in the schema) is the base64 of its little-endian bytes.',
        tags: ['tasks'],
        params: taskNameParams,
        querystring: submitQuerySchema,
        body: z.unknown().describe("The task's input"),
        response: { 201: submitResponseSchema, ...errorResponses(400, 404, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const entry = await catalogue.get(request.params.name);
      const input = catalogue.parseInput(entry, request.body);
      const handle = await asRequestError(
        () => client.enqueueByName(entry.name, input, toEnqueueOptions(request.query)),
        enqueueToQuery,
      );
      // Known from the enqueue itself: reading the job back would cost this hot path more than the enqueue did.
      const state = handle.enqueuedAs ?? (await handle.state());
      return reply.status(201).header('location', `/v1/jobs/${encodeURIComponent(handle.id)}`).send({ id: handle.id, state });
    },
  );
};

/** The client names per-call options `enqueue.…`; over HTTP they are the query string. */
const enqueueToQuery = { message: (text: string) => text.replaceAll('enqueue.', 'query.') };

/** Query-string options → enqueue options. Durations arrive as text: digits are milliseconds, `30s` has a unit. */
function toEnqueueOptions(query: z.output<typeof submitQuerySchema>): EnqueueOptions {
  const { delay, eta, expires, attempts, dedupeKey, dedupeTtl, ...rest } = query;
  const duration = (text: string) => (/^\d+$/.test(text) ? Number(text) : text);
  return {
    ...omitUndefined(rest),
    ...(delay === undefined ? {} : { delay: duration(delay) }),
    ...(eta === undefined ? {} : { eta: new Date(eta) }),
    ...(expires === undefined ? {} : { expires: duration(expires) }),
    ...(attempts === undefined ? {} : { retry: { attempts } }),
    ...(dedupeKey === undefined ? {} : { dedupe: { key: dedupeKey, ttl: duration(dedupeTtl ?? '1h') } }),
  } as EnqueueOptions;
}
