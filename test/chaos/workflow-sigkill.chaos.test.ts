import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JobState } from '@celeriac/core';
import { createClient, type WorkflowHandle, type WorkflowView } from '@celeriac/client';
import { useTestRedis } from '@celeriac/testing';
import { chaosSize, randomBetween, reportChaos, sleep, useChaosScope } from './support/chaos-scope.js';
import { createWorkerFleet } from './support/worker-processes.js';

const redis = useTestRedis();
const scope = useChaosScope();

const tasksModule = fileURLToPath(new URL('./fixtures/workflow-tasks.js', import.meta.url));
/** At most 166 at full size: the check reads every job, and a queue keeps its last 1,000 succeeded jobs (6 each). */
const workflows = chaosSize(60, 160);
const workerCount = 3;
/** As in the worker scenario: a killed worker's jobs come back within 2 to 4 s. */
const lease = '2s';

/**
 * `chain(add(x, y), double, chord([double, double], sum))`: five jobs in four stages, with a chain step after a
 * chord and a chord after a chain step, which is where a parent waits on its children. Its result is 8 * (x + y).
 */
const nested = (x: number, y: number) => ({
  kind: 'chain',
  steps: [
    { kind: 'task', task: 'chaos.add', input: { x, y } },
    { kind: 'task', task: 'chaos.double' },
    {
      kind: 'chord',
      header: [
        { kind: 'task', task: 'chaos.double' },
        { kind: 'task', task: 'chaos.double' },
      ],
      callback: { kind: 'task', task: 'chaos.sum' },
    },
  ],
});

/** Every job of a workflow tree. */
function jobIdsOf(tree: WorkflowView['tree']): string[] {
  return [tree.jobId, ...(tree.children ?? []).flatMap(jobIdsOf)];
}

describe('chaos: workers SIGKILLed while workflows run', () => {
  it(`completes all ${workflows} nested workflows with the right results`, { timeout: 600_000 }, async () => {
    const startedAtMs = Date.now();
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const activeJobs = async () => (await client.listQueues()).reduce((total, queue) => total + queue.counts.active, 0);
    const fleet = createWorkerFleet(scope, { tasksModule, redisUrl: redis.url, prefix: redis.prefix, lease, concurrency: 8, env: {} });
    await Promise.all(Array.from({ length: workerCount }, () => fleet.start()));

    // Submitted in waves while the kills go on, so kills hit every stage of some workflow.
    const handles: WorkflowHandle[] = [];
    const submitting = (async () => {
      for (let n = 0; n < workflows; n++) {
        handles.push(await client.workflowByName(nested(n, 1)));
        if (n % 10 === 9) await sleep(500);
      }
    })();
    let kills = 0;
    const replacements: Promise<unknown>[] = [];
    let submitted = false;
    void submitting.finally(() => (submitted = true));
    while (!submitted || kills < 4) {
      await sleep(randomBetween(1_000, 2_000));
      // Kill while steps run, so kills hit running steps rather than idle workers.
      for (let tries = 0; tries < 40 && (await activeJobs()) === 0; tries++) await sleep(25);
      const live = fleet.live();
      const victim = live[Math.floor(Math.random() * live.length)];
      if (!victim) continue;
      await fleet.stop(victim, 'SIGKILL');
      kills += 1;
      replacements.push(fleet.start().catch((error: unknown) => error));
    }
    await submitting;
    await Promise.all(replacements);
    if (fleet.live().length === 0) await fleet.start();

    const outcomes = await Promise.allSettled(handles.map((handle) => handle.result({ timeoutMs: 120_000 })));
    const results = outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : String(outcome.reason)));
    const views = await Promise.all(handles.map((handle) => client.getWorkflow(handle.id)));
    const records = await Promise.all(views.flatMap((view) => jobIdsOf(view.tree)).map((id) => client.getJob(id)));
    // Steps a kill interrupted: their attempt was lost and run again (recorded in the job's history).
    const interrupted = records.filter((record) => (record.history ?? []).length > 0).length;
    reportChaos('workflows under worker SIGKILL', {
      workflows,
      jobs: records.length,
      kills,
      interrupted,
      failed: outcomes.filter((outcome) => outcome.status === 'rejected').length,
      wallS: Math.round((Date.now() - startedAtMs) / 1000),
    });

    expect(results).toEqual(Array.from({ length: workflows }, (_, n) => 8 * (n + 1)));
    expect(views.filter((view) => view.state !== JobState.Succeeded)).toEqual([]);
    expect(records.filter((record) => record.state !== JobState.Succeeded)).toEqual([]);
    // The kills hit running steps: without that, this scenario would prove nothing.
    expect(interrupted).toBeGreaterThan(0);
  });
});
