import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ErrorCode, JobState, isCeleriacError } from '@celeriac/core';
import { chain, chord, chunks, createClient, group, map, sig, starmap } from '@celeriac/client';
import { createWorker, type WorkerOptions } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { add, addPair, double, echo, fails, later, nonNegative, sum, unattended, workflowTasks } from './fixtures/workflow-tasks.js';
import { errorOf } from './fixtures/error-of.js';

const redis = useTestRedis();

async function startWorker(options: Partial<WorkerOptions> = {}) {
  const worker = redis.track(
    createWorker({
      tasks: workflowTasks,
      connection: redis.url,
      prefix: redis.prefix,
      logger: pino({ level: 'silent' }),
      concurrency: 8,
      ...options,
    }),
  );
  await worker.start();
  return worker;
}

const client = () => redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));

describe('canvas primitives', () => {
  it('chain passes each result to the next step', async () => {
    await startWorker();
    const workflow = await client().workflow(chain(sig(add, { x: 1, y: 2 }), double, double));
    const result: number = await workflow.result({ timeoutMs: 15_000 });
    expect(result).toBe(12);
  });

  it('group returns its members’ results in order, whatever order they finish in', async () => {
    await startWorker();
    const members = [sig(later, { value: 1, ms: 300 }), sig(later, { value: 2, ms: 0 }), sig(add, { x: 1, y: 2 })] as const;
    const workflow = await client().workflow(group(members));
    const result: [number, number, number] = await workflow.result({ timeoutMs: 15_000 });
    expect(result).toEqual([1, 2, 3]);
  });

  it('chord hands the callback the header’s results', async () => {
    await startWorker();
    const workflow = await client().workflow(chord([sig(add, { x: 1, y: 2 }), sig(add, { x: 3, y: 4 })], sum));
    expect(await workflow.result({ timeoutMs: 15_000 })).toBe(10);
  });

  it('map and starmap run the task over every input in one job; chunks splits them into parallel jobs', async () => {
    await startWorker();
    const c = client();
    expect(await (await c.workflow(map(double, [1, 2, 3]))).result({ timeoutMs: 15_000 })).toEqual([2, 4, 6]);
    const pairs: [number, number][] = [[1, 2], [3, 4]];
    expect(await (await c.workflow(starmap(addPair, pairs))).result({ timeoutMs: 15_000 })).toEqual([3, 7]);
    const inputs = Array.from({ length: 10 }, (_, i) => i);
    const chunked = await c.workflow(chunks(double, inputs, 3));
    expect(await chunked.result({ timeoutMs: 15_000 })).toEqual(inputs.map((i) => i * 2));
    const view = await c.getWorkflow(chunked.id);
    expect(view.tree).toMatchObject({ kind: 'chunks', state: JobState.Succeeded });
    expect(view.tree.children?.map((child) => child.kind)).toEqual(['map', 'map', 'map', 'map']);
  });
});

describe('nesting', () => {
  it('a chain of chords: each chord’s result feeds the next step', async () => {
    await startWorker();
    const first = chord([sig(add, { x: 1, y: 2 }), sig(add, { x: 3, y: 4 })], sum);
    // The second chord's members have no input of their own: each takes the first chord's result.
    const workflow = await client().workflow(chain(first, double, chord([double, double], sum)));
    expect(await workflow.result({ timeoutMs: 15_000 })).toBe(80);
  });

  it('a chord of chains: the callback waits for the end of every chain', async () => {
    await startWorker();
    const header = [chain(sig(later, { value: 1, ms: 200 }), double, double), chain(sig(add, { x: 1, y: 1 }), double)];
    const workflow = await client().workflow(chord(header, echo));
    expect(await workflow.result({ timeoutMs: 15_000 })).toEqual([4, 4]);
    const view = await client().getWorkflow(workflow.id);
    expect(view.state).toBe(JobState.Succeeded);
    expect(view.tree.children?.[0]).toMatchObject({ kind: 'chain', state: JobState.Succeeded });
    expect(view.tree.children?.[0]?.children).toHaveLength(3);
  });

  it('a group as a later chain step: every member takes the previous result', async () => {
    await startWorker();
    const workflow = await client().workflow(chain(sig(add, { x: 1, y: 2 }), group([double, double])));
    expect(await workflow.result({ timeoutMs: 15_000 })).toEqual([6, 6]);
  });

  it('finishes a workflow whose worker was restarted in the middle of it', async () => {
    const first = await startWorker();
    const c = client();
    const workflow = await c.workflow(chain(sig(later, { value: 5, ms: 500 }), double, chord([double, double], sum)));
    // Stop the only worker while the first step runs: the rest of the chain waits in Redis.
    await waitFor(async () => (await c.getWorkflow(workflow.id)).tree.children?.[0]?.state === JobState.Active);
    await first.close();
    expect((await c.getWorkflow(workflow.id)).state).not.toBe(JobState.Succeeded);
    await startWorker();
    expect(await workflow.result({ timeoutMs: 15_000 })).toBe(40);
  });
});

describe('failure policy', () => {
  const header = [sig(fails, { why: 'no disk' }), sig(add, { x: 1, y: 2 })] as const;

  /** A workflow's result is `expected`, or, without one, a failure caused by a failed child. */
  async function expectOutcome(result: Promise<unknown>, expected: readonly unknown[] | undefined): Promise<void> {
    if (expected) {
      expect(await result).toEqual(expected);
    } else {
      expect(isCeleriacError(((await errorOf(result)) as Error).cause, ErrorCode.ChildFailed)).toBe(true);
    }
  }

  it('fail (the default): a failed child fails the callback, with the child’s error attached', async () => {
    await startWorker();
    const workflow = await client().workflow(chord(header, echo));
    const error = await errorOf(workflow.result({ timeoutMs: 15_000 }));
    expect(isCeleriacError(error, ErrorCode.JobFailed)).toBe(true);
    const cause = (error as Error).cause;
    expect(isCeleriacError(cause, ErrorCode.ChildFailed)).toBe(true);
    expect((cause as { details: Record<string, unknown> }).details).toMatchObject({
      error: { code: ErrorCode.TaskFailed, message: 'no disk' },
    });
    const view = await client().getWorkflow(workflow.id);
    expect(view.state).toBe(JobState.Failed);
    expect(view.tree.children?.map((child) => child.state)).toEqual([JobState.Failed, JobState.Succeeded]);
  });

  it('continue: the callback runs with null in the failed child’s place', async () => {
    await startWorker();
    const workflow = await client().workflow(chord(header, echo, { onChildFailure: 'continue' }));
    expect(await workflow.result({ timeoutMs: 15_000 })).toEqual([null, 3]);
  });

  it('ignore: the callback runs without the failed child', async () => {
    await startWorker();
    const workflow = await client().workflow(chord(header, echo, { onChildFailure: 'ignore' }));
    expect(await workflow.result({ timeoutMs: 15_000 })).toEqual([3]);
  });

  it.each([
    ['fail', undefined],
    ['continue', [null, 3]],
    ['ignore', [3]],
  ] as const)('%s on a group: its result is as for a chord\'s callback', async (policy, expected) => {
    await startWorker();
    const workflow = await client().workflow(group(header, { onChildFailure: policy }));
    await expectOutcome(workflow.result({ timeoutMs: 15_000 }), expected);
  });

  it.each([
    ['fail', undefined],
    ['continue', [1, 2, null, null, 5]],
    ['ignore', [1, 2, 5]],
  ] as const)('%s on chunks: a failed chunk counts for each of its inputs', async (policy, expected) => {
    await startWorker();
    // Chunks of two: [1, 2], [-3, 4] (fails as a whole: one job runs both inputs) and [5].
    const workflow = await client().workflow(chunks(nonNegative, [1, 2, -3, 4, 5], 2, { onChildFailure: policy }));
    await expectOutcome(workflow.result({ timeoutMs: 15_000 }), expected);
  });

  it('a failed step ends a chain: later steps are never created', async () => {
    await startWorker();
    const c = client();
    const workflow = await c.workflow(chain(sig(fails, { why: 'bad row' }), double));
    const error = await errorOf(workflow.result({ timeoutMs: 15_000 }));
    expect(isCeleriacError((error as Error).cause, ErrorCode.TaskFailed)).toBe(true);
    const view = await c.getWorkflow(workflow.id);
    expect(view.tree.children?.map((child) => child.state)).toEqual([JobState.Failed, 'pending']);
  });
});

describe('children deadline', () => {
  it('fails a chord whose header is not done by its deadline, instead of waiting forever, and removes the rest', async () => {
    await startWorker();
    const c = client();
    const started = Date.now();
    // No worker consumes the second member's queue: without a deadline the callback would wait forever.
    const workflow = await c.workflow(
      chord([sig(add, { x: 1, y: 2 }), sig(unattended, 7)], sum, { childrenDeadline: '500ms' }),
    );
    const error = await errorOf(workflow.result({ timeoutMs: 15_000 }));
    expect(isCeleriacError((error as Error).cause, ErrorCode.ChildrenDeadline)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    const view = await c.getWorkflow(workflow.id);
    expect(view.state).toBe(JobState.Failed);
    // The member that never started is removed, so it can never run late.
    expect(view.tree.children?.map((child) => child.state)).toEqual([JobState.Succeeded, 'pending']);
  });
});

describe('validation', () => {
  it('refuses a bad input before creating anything, naming the node', async () => {
    const error = await errorOf(client().workflow(chain(sig(add, { x: 1, y: 'two' as unknown as number }), double)));
    expect(isCeleriacError(error, ErrorCode.InvalidInput)).toBe(true);
    expect((error as Error).message).toContain('workflow.steps.0.input.y');
  });

  it('refuses a task without an input where nothing feeds it', async () => {
    const error = await errorOf(client().workflow(group([double])));
    expect(isCeleriacError(error, ErrorCode.InvalidOptions)).toBe(true);
    expect((error as Error).message).toContain('workflow.members.0: task "wf.double" has no input');
  });

  it('reports an unknown workflow id as not found', async () => {
    const error = await errorOf(client().getWorkflow('no-such-workflow'));
    expect(isCeleriacError(error, ErrorCode.WorkflowNotFound)).toBe(true);
  });

  it('types each step against the previous step’s result', () => {
    // Compile-time checks (tsc runs over the tests): a string cannot feed `double`, and the callback of a chord
    // must take the header's results.
    // @ts-expect-error double takes a number, not the list a group returns
    expect(() => chain(group([sig(add, { x: 1, y: 2 })]), double)).not.toThrow();
    // @ts-expect-error add takes { x, y }, not a list of numbers
    expect(() => chord([sig(add, { x: 1, y: 2 })], add)).not.toThrow();
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
