import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseWorkflowNode, type WorkflowNode } from '@celeriac/core';
import type { Client } from '@celeriac/client';
import type { CatalogueValidator } from '../internal/catalogue-validator.js';
import { errorResponses, workflowIdParams, workflowSubmitResponseSchema, workflowViewSchema } from './http-schemas.js';
import { asRequestError } from '../internal/as-request-error.js';

/** What the workflow routes need. */
export interface WorkflowRoutesOptions {
  readonly client: Client;
  readonly catalogue: CatalogueValidator;
}

/** `POST /v1/workflows` (submit a canvas described as JSON) and `GET /v1/workflows/:id` (its tree, with states). */
export const workflowRoutes: FastifyPluginAsyncZod<WorkflowRoutesOptions> = async (app, { client, catalogue }) => {
  app.post(
    '/v1/workflows',
    {
      config: { scope: 'submit' },
      schema: {
        summary: 'Submit a workflow (chain, group, chord, map, chunks)',
        description:
          'The body is a workflow node: `{ "kind": "task", "task": "add", "input": {…} }`, `{ "kind": "chain", "steps": ' +
          '[…] }`, `{ "kind": "group", "members": […] }`, `{ "kind": "chord", "header": […], "callback": { "kind": ' +
          '"task", "task": "…" } }`, `{ "kind": "map", "task": "…", "inputs": […] }` or `{ "kind": "chunks", "task": ' +
          '"…", "inputs": […], "size": 100 }`, nested as needed. A task without `input` takes the previous step\'s ' +
          'result. Every task must be published by a worker, and every input must match its schema; nothing is ' +
          'created otherwise. Answers 201 with the workflow id; follow it with GET /v1/workflows/{id}.',
        tags: ['workflows'],
        body: z.unknown().describe('A workflow node (see the description)'),
        response: { 201: workflowSubmitResponseSchema, ...errorResponses(400, 404, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const described = await asRequestError(() => parseWorkflowNode(request.body), workflowRenames);
      const node = await parseInputs(described, catalogue, 'body');
      const handle = await asRequestError(() => client.workflowByName(node), workflowRenames);
      return reply
        .status(201)
        .header('location', `/v1/workflows/${encodeURIComponent(handle.id)}`)
        .send({ id: handle.id });
    },
  );

  app.get(
    '/v1/workflows/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Get a workflow: its tree, with each job’s state',
        description:
          'Each node names the job that stands for it (a task’s job, a chord’s callback, the job that gathers a ' +
          'group). A later chain step not created yet is `pending`. The workflow is `succeeded` once its last step ' +
          'is; otherwise it has the state of its first step that has not succeeded.',
        tags: ['workflows'],
        params: workflowIdParams,
        response: { 200: workflowViewSchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => client.getWorkflow(request.params.id),
  );
};

/**
 * The workflow with every explicit input parsed by its task's schema (see `CatalogueValidator.parseInput`: typed
 * arrays arrive as base64), once every task is known to be published and every input to fit; nothing is created
 * otherwise.
 */
async function parseInputs(node: WorkflowNode, catalogue: CatalogueValidator, at: string): Promise<WorkflowNode> {
  // One after another, so that of two bad nodes the error names the first.
  const each = async (nodes: readonly WorkflowNode[], path: string) => {
    const parsed: WorkflowNode[] = [];
    for (const [index, child] of nodes.entries()) parsed.push(await parseInputs(child, catalogue, `${path}.${index}`));
    return parsed;
  };
  switch (node.kind) {
    case 'task': {
      const entry = await catalogue.get(node.task);
      return node.input === undefined ? node : { ...node, input: catalogue.parseInput(entry, node.input, `${at}.input`) };
    }
    case 'map':
    case 'chunks': {
      const entry = await catalogue.get(node.task);
      return { ...node, inputs: node.inputs.map((input, index) => catalogue.parseInput(entry, input, `${at}.inputs.${index}`)) };
    }
    case 'chain':
      return { ...node, steps: await each(node.steps, `${at}.steps`) };
    case 'group':
      return { ...node, members: await each(node.members, `${at}.members`) };
    case 'chord':
      await catalogue.get(node.callback.task);
      return { ...node, header: await each(node.header, `${at}.header`) };
  }
}

/** The builders' paths start at `workflow`; over HTTP the workflow is the body. */
const workflowToBody = (text: string): string => text.replaceAll(/\bworkflow\b(?=[.:])/g, 'body');
const workflowRenames = {
  message: (text: string) => workflowToBody(text).replace(/^Invalid body options/, 'Invalid workflow'),
  issuePath: workflowToBody,
};
