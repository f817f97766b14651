import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, defineTask, toCatalogueEntry } from '@celeriac/core';
import { useTestRedis } from '@celeriac/testing';
import { createApiServer } from '@celeriac/api';
import { add, postJson } from './fixtures/api-fixtures.js';

const redis = useTestRedis();

const double = defineTask({ name: 'double', input: z.number(), output: z.number(), handler: (n) => n * 2 });

/** An API on this test's prefix, with the tasks published as a worker would publish them. */
async function startApi(): Promise<FastifyInstance> {
  await redis.createBroker().publishCatalogue([toCatalogueEntry(add), toCatalogueEntry(double)]);
  return redis.track(await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false }));
}

const chainOfTwo = {
  kind: 'chain',
  steps: [
    { kind: 'task', task: 'add', input: { x: 1, y: 2 } },
    { kind: 'group', members: [{ kind: 'task', task: 'double' }, { kind: 'task', task: 'double' }] },
  ],
};

describe('workflow routes', () => {
  it('submits a workflow (201 with id and Location) and reads its tree back with states', async () => {
    const app = await startApi();
    const submitted = await postJson(app, '/v1/workflows', chainOfTwo);
    expect(submitted.statusCode).toBe(201);
    const { id } = submitted.json();
    expect(submitted.headers.location).toBe(`/v1/workflows/${id}`);
    const view = await app.inject(`/v1/workflows/${id}`);
    expect(view.statusCode).toBe(200);
    // No worker runs here: the first step waits, and the group is not created until it succeeds.
    expect(view.json()).toMatchObject({
      id,
      state: 'queued',
      tree: {
        kind: 'chain',
        state: 'pending',
        children: [
          { kind: 'task', task: 'add', state: 'queued' },
          { kind: 'group', state: 'pending', children: [{ state: 'pending' }, { state: 'pending' }] },
        ],
      },
    });
  });

  it('refuses a malformed workflow with 400 CELERIAC_INVALID_REQUEST, naming the field', async () => {
    const app = await startApi();
    const answer = await postJson(app, '/v1/workflows', { kind: 'chain', steps: [{ kind: 'loop', task: 'add' }] });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().error.code).toBe(ErrorCode.InvalidRequest);
    expect(answer.json().error.message).toContain('body.steps.0.kind');
  });

  it('refuses a task that nothing feeds with 400 CELERIAC_INVALID_REQUEST', async () => {
    const app = await startApi();
    const answer = await postJson(app, '/v1/workflows', { kind: 'group', members: [{ kind: 'task', task: 'double' }] });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().error.message).toBe(
      'body.members.0: task "double" has no input, and no step before it in a chain hands it a result; give it one.',
    );
  });

  it('refuses an unknown task with 404 CELERIAC_TASK_NOT_FOUND, creating nothing', async () => {
    const app = await startApi();
    const answer = await postJson(app, '/v1/workflows', {
      kind: 'group',
      members: [{ kind: 'task', task: 'add', input: { x: 1, y: 2 } }, { kind: 'task', task: 'no-such-task', input: 1 }],
    });
    expect(answer.statusCode).toBe(404);
    expect(answer.json().error).toMatchObject({ code: ErrorCode.TaskNotFound, details: { task: 'no-such-task' } });
  });

  it('refuses an input its task rejects with 400 CELERIAC_INVALID_INPUT, pointing into the workflow', async () => {
    const app = await startApi();
    const answer = await postJson(app, '/v1/workflows', {
      kind: 'chord',
      header: [{ kind: 'map', task: 'add', inputs: [{ x: 1, y: 2 }, { x: 'one', y: 2 }] }],
      callback: { kind: 'task', task: 'double' },
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().error.code).toBe(ErrorCode.InvalidInput);
    expect(answer.json().error.details.issues).toEqual([{ path: 'body.header.0.inputs.1.x', message: 'must be number' }]);
  });

  it('answers 404 CELERIAC_WORKFLOW_NOT_FOUND for an unknown id', async () => {
    const app = await startApi();
    const answer = await app.inject('/v1/workflows/no-such-workflow');
    expect(answer.statusCode).toBe(404);
    expect(answer.json().error.code).toBe(ErrorCode.WorkflowNotFound);
  });

  it('lists the workflow routes in the OpenAPI document', async () => {
    const app = await startApi();
    const paths = Object.keys((await app.inject('/docs/json')).json().paths);
    expect(paths).toEqual(expect.arrayContaining(['/v1/workflows', '/v1/workflows/{id}']));
  });
});
