import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { TaskFailure, defineTask, toCatalogueEntry, type WorkerInfo } from '@celeriac/core';
import { createApiServer } from '@celeriac/api';
import { createClient } from '@celeriac/client';
import { createWorker } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { pollUntil } from './fixtures/poll-until.js';

const redis = useTestRedis();

const quick = defineTask({ name: 'quick', input: z.object({}), output: z.number(), isolation: 'inline', handler: () => 1 });
const refuse = defineTask({
  name: 'refuse',
  input: z.object({}),
  output: z.number(),
  isolation: 'inline',
  handler: () => {
    throw TaskFailure.nonRetryable('no');
  },
});

async function startApi(): Promise<FastifyInstance> {
  await redis.createBroker().publishCatalogue([toCatalogueEntry(quick), toCatalogueEntry(refuse)]);
  return redis.track(await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false }));
}

/** The samples of a Prometheus text answer, by `name{labels}` exactly as written. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

async function scrape(app: FastifyInstance): Promise<Map<string, number>> {
  const res = await app.inject('/metrics');
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseMetrics(res.payload);
}

describe('GET /metrics', () => {
  it('reports queue depths, job durations and failures, workers and the process, consistent with what ran', async () => {
    const app = await startApi();
    const worker = redis.track(createWorker({ tasks: [quick, refuse], connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }) }));
    await worker.start();
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const jobs = [
      ...(await Promise.all([1, 2, 3].map(() => client.enqueue(quick, {})))),
      ...(await Promise.all([1, 2].map(() => client.enqueue(refuse, {})))),
    ];
    await Promise.allSettled(jobs.map((job) => job.result({ timeoutMs: 10_000 })));
    await client.enqueue(quick, {}, { delay: 60_000 });

    // Workers flush their statistics about once a second.
    const metrics = await pollUntil(async () => {
      const samples = await scrape(app);
      return samples.get('celeriac_job_duration_seconds_count{task="refuse",outcome="failed"}') === 2 ? samples : undefined;
    });
    expect(metrics.get('celeriac_broker_up')).toBe(1);
    expect(metrics.get('celeriac_queue_jobs{queue="default",state="succeeded"}')).toBe(3);
    expect(metrics.get('celeriac_queue_jobs{queue="default",state="failed"}')).toBe(2);
    expect(metrics.get('celeriac_queue_jobs{queue="default",state="delayed"}')).toBe(1);
    expect(metrics.get('celeriac_queue_jobs{queue="default",state="queued"}')).toBe(0);
    expect(metrics.get('celeriac_queue_jobs{queue="default",state="active"}')).toBe(0);
    expect(metrics.get('celeriac_queue_paused{queue="default"}')).toBe(0);
    expect(metrics.get('celeriac_workers')).toBe(1);
    expect(metrics.get('celeriac_queue_workers{queue="default"}')).toBe(1);

    expect(metrics.get('celeriac_job_duration_seconds_count{task="quick",outcome="succeeded"}')).toBe(3);
    expect(metrics.get('celeriac_job_failures_total{task="refuse",code="CELERIAC_TASK_FAILED",final="true"}')).toBe(2);
    expect(metrics.has('celeriac_job_failures_total{task="quick",code="CELERIAC_TASK_FAILED",final="true"}')).toBe(false);
    // A histogram's buckets are cumulative, end with +Inf equal to the count, and its sum is the time spent.
    const buckets = [...metrics].filter(([key]) => key.startsWith('celeriac_job_duration_seconds_bucket{task="quick",outcome="succeeded"'));
    expect(buckets.length).toBeGreaterThan(10);
    const counts = buckets.map(([, value]) => value);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(buckets.at(-1)).toEqual(['celeriac_job_duration_seconds_bucket{task="quick",outcome="succeeded",le="+Inf"}', 3]);
    const sum = metrics.get('celeriac_job_duration_seconds_sum{task="quick",outcome="succeeded"}')!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(3 * 5); // three trivial jobs: well under the 5 s bucket each

    // Node's process metrics are there too.
    expect(metrics.get('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect([...metrics.keys()].some((key) => key.startsWith('nodejs_eventloop_lag_seconds'))).toBe(true);
  });

  it("reports GPU executor restarts and kernel time from the workers' heartbeats", async () => {
    const app = await startApi();
    // The heartbeat a GPU worker writes after its executor was replaced once.
    const heartbeat: WorkerInfo = {
      id: 'gpu-host-1-abc',
      hostname: 'gpu-host',
      pid: 1,
      queues: ['gpu'],
      tasks: ['saxpy'],
      concurrency: 1,
      startedAtMs: Date.now(),
      heartbeatAtMs: Date.now(),
      capabilities: { cpuSlots: 4 },
      gpuActivity: {
        executorStarts: 2,
        devicesAcquired: 1,
        runs: 10,
        pipelinesCompiled: 1,
        pipelineCacheHits: 9,
        kernelTimings: { saxpy: { runs: 10, totalNs: 2_500_000_000, lastNs: 250_000_000 } },
      },
    };
    await redis.createBroker().heartbeat(heartbeat, 60_000);
    const metrics = await scrape(app);
    expect(metrics.get('celeriac_gpu_executor_restarts_total{worker="gpu-host-1-abc"}')).toBe(1);
    expect(metrics.get('celeriac_gpu_kernel_seconds_total{worker="gpu-host-1-abc",kernel="saxpy"}')).toBe(2.5);
    expect(metrics.get('celeriac_gpu_kernel_runs_total{worker="gpu-host-1-abc",kernel="saxpy"}')).toBe(10);
    expect(metrics.get('celeriac_workers')).toBe(1);
    expect(metrics.get('celeriac_queue_workers{queue="gpu"}')).toBe(1);
  });
});
