import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { z } from 'zod';
import { ErrorCode, JobState, defineTask, isCeleriacError } from '@celeriac/core';
import { createClient } from '@celeriac/client';
import { createWorker } from '@celeriac/worker';
import { createApiServer } from '@celeriac/api';
import { createRedisBroker, createRedisConnection, listClientNames, spawnRedisServer, type SpawnedRedisServer } from '@celeriac/redis';
import type { Closeable } from '@celeriac/testing';

/**
 * Startup checks of the Redis deployment (eviction policy) and what happens when Redis is full. Each test runs on a
 * private redis-server configured for it, never on the run's shared Redis.
 */
let opened: Closeable[] = [];
const track = <T extends Closeable>(closeable: T): T => (opened.push(closeable), closeable);
const prefix = `m${randomBytes(4).toString('hex')}`;

afterEach(async () => {
  releaseHeld();
  for (const closeable of opened.reverse()) await closeable.close();
  opened = [];
});

async function startRedis(extraArgs: string[]): Promise<SpawnedRedisServer> {
  const server = await spawnRedisServer({ extraArgs });
  // Registered first, so it stops last: after the leak check below.
  track({ close: () => server.stop() });
  track({
    close: async () => {
      const open = (await listClientNames(server.url)).filter((name) => name.includes(prefix));
      expect(open, 'connections leaked').toEqual([]);
    },
  });
  return server;
}

/** Lets the jobs of `held` finish: they wait for it, so a test decides when they complete. */
let releaseHeld = (): void => {};
let heldUntil = Promise.resolve();
const held = defineTask({
  name: 'mem.held',
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
  isolation: 'inline',
  handler: async (input) => {
    await heldUntil;
    return input;
  },
});

describe('eviction policy check', () => {
  it('refuses a Redis that evicts keys, at verifyDeployment and at the first call, unless allowEviction is set', async () => {
    const server = await startRedis(['--maxmemory-policy', 'allkeys-lru']);
    const broker = track(createRedisBroker({ connection: server.url, prefix }));
    const error = await broker.verifyDeployment().catch((e: unknown) => e);
    expect(isCeleriacError(error, ErrorCode.BrokerMisconfigured)).toBe(true);
    expect(error).toMatchObject({ details: { check: 'maxmemory-policy', found: 'allkeys-lru' } });
    expect((error as Error).message).toContain('noeviction');
    await expect(broker.listCatalogue()).rejects.toMatchObject({ code: ErrorCode.BrokerMisconfigured });

    const allowed = track(createRedisBroker({ connection: server.url, prefix, allowEviction: true }));
    const report = await allowed.verifyDeployment();
    expect(report.warnings.some((warning) => warning.includes('allkeys-lru'))).toBe(true);
    expect(await allowed.listCatalogue()).toEqual([]);
  });

  it('reads the policy from INFO when CONFIG is renamed away, as on managed Redis', async () => {
    const server = await startRedis(['--maxmemory-policy', 'volatile-lru', '--rename-command', 'CONFIG', '""']);
    const broker = track(createRedisBroker({ connection: server.url, prefix }));
    await expect(broker.verifyDeployment()).rejects.toMatchObject({
      code: ErrorCode.BrokerMisconfigured,
      details: { found: 'volatile-lru' },
    });
  });

  it('keeps the API from starting on such a Redis, and lets it start (not ready) while Redis is down', async () => {
    const server = await startRedis(['--maxmemory-policy', 'allkeys-random']);
    const refused = await createApiServer({ connection: server.url, prefix, auth: false, logger: false }).catch((e: unknown) => e);
    expect(isCeleriacError(refused, ErrorCode.BrokerMisconfigured)).toBe(true);
    const app = track(await createApiServer({ connection: server.url, prefix, auth: false, logger: false, allowEviction: true }));
    expect((await app.inject('/readyz')).statusCode).toBe(200);

    const down = track(await createApiServer({ connection: 'redis://127.0.0.1:1', prefix, auth: false, logger: false }));
    expect((await down.inject('/readyz')).statusCode).toBe(503);
  });
});

describe('a full Redis', () => {
  it('fails submits fast with CELERIAC_BROKER_FULL (API 503), and workers still finish queued jobs', { timeout: 30_000 }, async () => {
    const server = await startRedis(['--maxmemory', '16mb', '--maxmemory-policy', 'noeviction']);
    heldUntil = new Promise<void>((resolve) => (releaseHeld = resolve));
    const worker = track(
      createWorker({ tasks: [held], connection: server.url, prefix, logger: pino({ level: 'silent' }), concurrency: 2 }),
    );
    await worker.start();
    const client = track(createClient({ connection: server.url, prefix }));
    const queued = await Promise.all(Array.from({ length: 6 }, (_, n) => client.enqueue(held, { n })));

    // Fill Redis to its maxmemory with keys outside the prefix.
    const filler = createRedisConnection({ connection: server.url, prefix: `${prefix}-filler` });
    track({ close: () => filler.quit().then(() => undefined) });
    if (filler.status !== 'ready') await new Promise((resolve) => filler.once('ready', resolve));
    // Big values first, then tiny ones: a refused big SET frees its own argument again, which leaves room for small
    // writes; only when a one-byte SET is refused is Redis full for everyone. Redis also frees idle client buffers
    // now and then, so the test tops it up right before each submit.
    let index = 0;
    const fill = async (sizes = [256 * 1024, 1024, 1]): Promise<void> => {
      for (const size of sizes) {
        const value = 'x'.repeat(size);
        while (await filler.set(`filler:${index++}`, value).then(() => true, (error: Error) => !error.message.startsWith('OOM')));
      }
    };
    await fill();

    await fill([1]);
    const started = Date.now();
    const error = await client.enqueue(held, { n: 99 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(isCeleriacError(error, ErrorCode.BrokerFull)).toBe(true);
    expect((error as Error).message).toContain('maxmemory');

    const app = track(await createApiServer({ connection: server.url, prefix, auth: false, logger: false }));
    await app.inject('/v1/tasks'); // the catalogue is read once Redis answers; then the submit is a write only
    // Redis may free a few bytes between the top-up and the submit (an idle client's buffer), and then the submit
    // fits; each one that fits fills it further, so a full Redis refuses one within a few tries.
    let answer = await app.inject('/healthz');
    for (let attempt = 0; attempt < 5 && answer.statusCode !== 503; attempt++) {
      await fill([1]);
      answer = await app.inject({ method: 'POST', url: '/v1/tasks/mem.held', payload: { n: 100 + attempt } });
    }
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toMatchObject({ error: { code: ErrorCode.BrokerFull } });
    expect((await app.inject('/healthz')).statusCode).toBe(200);

    // The jobs already queued (two running, four waiting) all finish, on a Redis that is still full.
    releaseHeld();
    for (const job of queued) expect(await job.result({ timeoutMs: 15_000 })).toMatchObject({ n: expect.any(Number) });
    expect(await client.getJob(queued[5]!.id)).toMatchObject({ state: JobState.Succeeded });
  });
});
