import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CeleriacError, ErrorCode, omitUndefined } from '@celeriac/core';
import type { Client, ScheduleOptions } from '@celeriac/client';
import type { CatalogueValidator } from '../internal/catalogue-validator.js';
import { errorResponses } from './http-schemas.js';
import { scheduleBodySchema, scheduleIdParams, scheduleListSchema, scheduleRecordSchema } from './schedule-schemas.js';
import { asRequestError } from '../internal/as-request-error.js';
import { encodeTypedArrays } from '../internal/typed-array-json.js';

/** What the schedule routes need. */
export interface ScheduleRoutesOptions {
  readonly client: Client;
  readonly catalogue: CatalogueValidator;
}

/** `PUT`, `GET` and `DELETE /v1/schedules/:id`, and `GET /v1/schedules`. */
export const scheduleRoutes: FastifyPluginAsyncZod<ScheduleRoutesOptions> = async (app, { client, catalogue }) => {
  app.put(
    '/v1/schedules/:id',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Create or update a periodic schedule',
        description:
          'Every firing enqueues `task` with `input` as an ordinary job, at each `cron` time (read in `tz`) or `every` ' +
          'interval; give exactly one of the two. Updating a schedule updates its pending firing too. However many ' +
          'API instances and workers run, each firing is created once.',
        tags: ['schedules'],
        params: scheduleIdParams,
        body: scheduleBodySchema,
        response: { 200: scheduleRecordSchema, ...errorResponses(400, 404, 413, 415, 503) },
      },
    },
    async (request) => {
      const entry = await catalogue.get(request.body.task);
      const input = catalogue.parseInput(entry, request.body.input, 'body.input');
      const record = await asRequestError(
        () => client.scheduleByName(request.params.id, toScheduleOptions(request.body), entry.name, input),
        scheduleRenames,
      );
      // Typed arrays in the input answer as base64, as they were sent.
      return encodeTypedArrays(record);
    },
  );

  app.get(
    '/v1/schedules',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List the schedules',
        tags: ['schedules'],
        response: { 200: scheduleListSchema, ...errorResponses(503) },
      },
    },
    async () => ({ schedules: encodeTypedArrays(await client.listSchedules()) }),
  );

  app.get(
    '/v1/schedules/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Get a schedule: its timing, input, firings so far and pending firing',
        tags: ['schedules'],
        params: scheduleIdParams,
        response: { 200: scheduleRecordSchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => encodeTypedArrays(await client.getSchedule(request.params.id)),
  );

  app.delete(
    '/v1/schedules/:id',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Remove a schedule and its pending firing',
        description: 'Answers 204. Firings that already started are not affected.',
        tags: ['schedules'],
        params: scheduleIdParams,
        response: { 204: z.null().describe('Removed'), ...errorResponses(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (await client.removeSchedule(id)) return reply.status(204).send(null);
      throw new CeleriacError(ErrorCode.ScheduleNotFound, `Schedule "${id}" was not found. GET /v1/schedules lists them.`, {
        details: { id },
      });
    },
  );
};

/** The body's timing → the SDK's options; ISO dates become dates, and the client validates the rest. */
function toScheduleOptions(body: z.output<typeof scheduleBodySchema>): ScheduleOptions {
  const { cron, every, tz, startDate, endDate, limit } = body;
  return omitUndefined({
    cron,
    every,
    tz,
    limit,
    startDate: startDate === undefined ? undefined : new Date(startDate),
    endDate: endDate === undefined ? undefined : new Date(endDate),
  }) as ScheduleOptions;
}

/** The client names schedule options `schedule.…`; over HTTP they are the body. */
const scheduleToBody = (text: string): string => text.replaceAll(/\bschedule\.(?=\w)/g, 'body.');
const scheduleRenames = {
  message: (text: string) => scheduleToBody(text).replace(/^Invalid schedule options/, 'Invalid schedule'),
  issuePath: scheduleToBody,
};
