import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createApiKey, createApiServer } from '@celeriac/api';
import { createClient } from '@celeriac/client';
import { createWorker } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { add } from './fixtures/test-tasks.js';
import { runCli } from './fixtures/spawn-cli.js';

const redis = useTestRedis();

/** A listening API with one admin and one read key, and a worker with `add`, on this test's prefix. */
async function startStack() {
  const admin = createApiKey({ id: 'ops', scopes: ['admin'] });
  const reader = createApiKey({ id: 'viewer', scopes: ['read'] });
  const worker = redis.track(
    createWorker({ tasks: [add], connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }) }),
  );
  await worker.start();
  const app = redis.track(
    await createApiServer({
      connection: redis.url,
      prefix: redis.prefix,
      logger: false,
      auth: { keys: [admin.record, reader.record] },
    }),
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const env = (key: string) => ({ ...process.env, CELERIAC_API_URL: url, CELERIAC_API_KEY: key });
  return { worker, admin: env(admin.key), reader: env(reader.key) };
}

/** Runs the CLI and parses its JSON output; fails with its stderr otherwise. */
async function cliJson<T>(args: readonly string[], env: NodeJS.ProcessEnv): Promise<T> {
  const run = await runCli(args, env);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

describe('celeriac inspect and control, through the API', () => {
  it('shows queues, workers, jobs and ping replies with a read key', { timeout: 60_000 }, async () => {
    const { reader } = await startStack();
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    expect(await (await client.enqueue(add, { x: 1, y: 2 })).result({ timeoutMs: 10_000 })).toBe(3);

    const { queues } = await cliJson<{ queues: { name: string; counts: Record<string, number> }[] }>(['inspect', 'queues'], reader);
    expect(queues.find((queue) => queue.name === 'default')?.counts).toMatchObject({ succeeded: 1 });
    const { workers } = await cliJson<{ workers: { queues: string[]; tasks: string[] }[] }>(['inspect', 'workers'], reader);
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ queues: ['default'], tasks: ['add'] });
    const { jobs } = await cliJson<{ jobs: { task: string; state: string }[] }>(['inspect', 'jobs', '--state', 'succeeded'], reader);
    expect(jobs).toEqual([expect.objectContaining({ task: 'add', state: 'succeeded' })]);
    // A generous timeout: under CI load a reply can take seconds, and the call returns once every worker answered.
    const ping = await cliJson<{ replies: unknown[] }>(['inspect', 'ping', '--timeout', '10000'], reader);
    expect(ping.replies).toHaveLength(1);

    const refused = await runCli(['control', 'pause'], reader);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('CELERIAC_FORBIDDEN');
  });

  it('pauses, resumes and resizes workers with an admin key, and refuses bad arguments as usage errors', { timeout: 60_000 }, async () => {
    const { admin } = await startStack();
    const paused = await cliJson<{ replies: unknown[]; missing: unknown[] }>(['control', 'pause', '--timeout', '10000'], admin);
    expect(paused.replies).toHaveLength(1);
    expect(paused.missing).toEqual([]);
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const job = await client.enqueue(add, { x: 2, y: 2 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await job.state()).toBe('queued');
    await cliJson(['control', 'resume', '--timeout', '10000'], admin);
    expect(await job.result({ timeoutMs: 10_000 })).toBe(4);
    const resized = await cliJson<{ replies: unknown[] }>(['control', 'set-concurrency', '3', '--timeout', '10000'], admin);
    expect(resized.replies).toHaveLength(1);

    const usage = await runCli(['control', 'set-concurrency'], admin);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('set-concurrency takes exactly one <concurrency>');
    expect((await runCli(['inspect', 'everything'], admin)).code).toBe(2);
  });
});
