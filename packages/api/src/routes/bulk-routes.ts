import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { CeleriacError, ErrorCode, isCeleriacError, omitUndefined, type ValidationIssue } from '@celeriac/core';
import type { Client, EnqueueOptions, NamedBulkItem } from '@celeriac/client';
import type { CatalogueValidator } from '../internal/catalogue-validator.js';
import { errorResponses } from './http-schemas.js';
import { bulkSubmitBodySchema, bulkSubmitResponseSchema, type bulkJobOptionsSchema } from './operator-schemas.js';
import { asRequestError } from '../internal/as-request-error.js';

/** What the bulk route needs. */
export interface BulkRoutesOptions {
  readonly client: Client;
  readonly catalogue: CatalogueValidator;
  /** The most jobs one request may carry (`api.maxBulkJobs`). */
  readonly maxBulkJobs: number;
}

/** The client names bulk items `items.…`; over HTTP they are the body's `jobs`. */
const itemsToBody = { message: (text: string) => text.replaceAll('items.', 'body.jobs.') };

/** At most this many issues are reported for one bulk request: enough to fix a batch, without a huge answer. */
const maxReportedIssues = 100;

/** `POST /v1/jobs:bulk`: many jobs, of any published tasks, all or none. */
export const bulkRoutes: FastifyPluginAsyncZod<BulkRoutesOptions> = async (app, { client, catalogue, maxBulkJobs }) => {
  app.post(
    // `::` is Fastify's escape for a literal colon: the path is /v1/jobs:bulk.
    '/v1/jobs::bulk',
    {
      config: { scope: 'submit' },
      schema: {
        summary: 'Submit many jobs at once, all or none',
        description:
          `Up to ${maxBulkJobs} jobs (the server's \`maxBulkJobs\`), of any published tasks. Every task and every input ` +
          'is checked first, as for a single submission; one bad job rejects the whole request, and nothing is written ' +
          '(the issues name each bad job: `body.jobs.3.input.x`). The jobs are then written in one Redis transaction. ' +
          'Answers 201 with one `{ id, state }` per job, in order. Per-job options are the single submit\'s query options.',
        tags: ['jobs'],
        body: bulkSubmitBodySchema(maxBulkJobs),
        response: { 201: bulkSubmitResponseSchema, ...errorResponses(400, 404, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const items = await validateAll(catalogue, request.body.jobs);
      const created = await asRequestError(() => client.enqueueBulkByName(items), itemsToBody);
      return reply.status(201).send({ jobs: created.map(({ id, state }) => ({ id, state })) });
    },
  );
};

type BulkBodyJob = z.output<ReturnType<typeof bulkSubmitBodySchema>>['jobs'][number];

/**
 * Checks every job against its task's published schema before anything is written, and gathers the issues of all
 * bad jobs into one answer (a caller fixing a batch sees every problem at once).
 * @throws CeleriacError `CELERIAC_TASK_NOT_FOUND` (the first unknown task), `CELERIAC_INVALID_INPUT`
 */
async function validateAll(catalogue: CatalogueValidator, jobs: readonly BulkBodyJob[]): Promise<NamedBulkItem[]> {
  const names = [...new Set(jobs.map((job) => job.task))];
  const entries = new Map(await Promise.all(names.map(async (name) => [name, await catalogue.get(name)] as const)));
  const issues: ValidationIssue[] = [];
  const items = jobs.map((job, index): NamedBulkItem => {
    const entry = entries.get(job.task)!;
    const at = `body.jobs.${index}.input`;
    try {
      const input = catalogue.parseInput(entry, job.input, at);
      return { task: job.task, input, ...(job.options ? { options: toEnqueueOptions(job.options) } : {}) };
    } catch (error) {
      if (!isCeleriacError(error, ErrorCode.InvalidInput)) throw error;
      issues.push(...((error.details['issues'] as ValidationIssue[] | undefined) ?? []));
      return { task: job.task, input: undefined };
    }
  });
  if (issues.length === 0) return items;
  const shown = issues.slice(0, maxReportedIssues);
  throw new CeleriacError(
    ErrorCode.InvalidInput,
    `Invalid input in the bulk request, so no job was created: ${shown.map((i) => `${i.path} ${i.message}`).join('; ')}` +
      `${issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : ''}. Fix these jobs and send the batch again.`,
    { details: { issues: shown, total: issues.length } },
  );
}

/** JSON options → enqueue options; a duration given as text keeps its unit, a number is milliseconds. */
function toEnqueueOptions(options: z.output<typeof bulkJobOptionsSchema>): EnqueueOptions {
  const { eta, attempts, dedupeKey, dedupeTtl, ...rest } = options;
  return {
    ...omitUndefined(rest),
    ...(eta === undefined ? {} : { eta: new Date(eta) }),
    ...(attempts === undefined ? {} : { retry: { attempts } }),
    ...(dedupeKey === undefined ? {} : { dedupe: { key: dedupeKey, ttl: dedupeTtl ?? '1h' } }),
  } as EnqueueOptions;
}
