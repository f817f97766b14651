import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createWorker, serveWorkerHealth, type WorkerHealth, type WorkerOptions } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { add } from './fixtures/test-tasks.js';

const redis = useTestRedis();
const silent = pino({ level: 'silent' });

/**
 * Longer than the 5 s an idle consumer blocks in Redis between polls, with room for a loaded CI machine; production
 * keeps the 60 s default.
 */
const livenessWindow = '8s';

/** A worker with its health endpoints on a free port; both are closed after the test. */
async function workerWithHealth(options: Partial<WorkerOptions> = {}) {
  const connection = options.broker ? {} : { connection: redis.url, prefix: redis.prefix };
  const worker = redis.track(createWorker({ tasks: [add], ...connection, logger: silent, livenessWindow, ...options }));
  const server = redis.track(await serveWorkerHealth(worker, { port: 0, host: '127.0.0.1' }));
  const probe = async (path: '/livez' | '/readyz'): Promise<{ status: number; body: WorkerHealth }> => {
    const response = await fetch(`${server.url}${path}`);
    return { status: response.status, body: (await response.json()) as WorkerHealth };
  };
  return { worker, probe };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('worker health', () => {
  it('is live but not ready while starting, ready once running, and neither once closed', async () => {
    const { worker, probe } = await workerWithHealth();
    expect(await probe('/livez')).toMatchObject({ status: 200, body: { state: 'starting', live: true, ready: false } });
    expect((await probe('/readyz')).status).toBe(503);

    await worker.start();
    expect(await probe('/readyz')).toMatchObject({ status: 200, body: { state: 'running', ready: true, pollDue: true } });
    expect((await probe('/livez')).status).toBe(200);

    await worker.close();
    expect(await probe('/livez')).toMatchObject({ status: 503, body: { state: 'closed', live: false } });
    expect((await probe('/readyz')).status).toBe(503);
  });

  it('stays live while idle: the consumer keeps polling Redis with no job to fetch', { timeout: 40_000 }, async () => {
    const { worker, probe } = await workerWithHealth();
    await worker.start();
    const ages: number[] = [];
    // Two idle block cycles and more: a consumer that blocked without a bound would age past the window here.
    for (const end = Date.now() + 13_000; Date.now() < end; await sleep(200)) {
      const health = worker.health();
      expect(health, `not live after ${health.lastPollAgeMs} ms without a poll`).toMatchObject({ live: true, pollDue: true });
      ages.push(health.lastPollAgeMs!);
    }
    // The age fell back (a new poll completed) at least twice, with no job ever enqueued.
    const polls = ages.filter((age, index) => index > 0 && age < ages[index - 1]!).length;
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(Math.max(...ages)).toBeLessThan(8_000);
    expect((await probe('/livez')).status).toBe(200);
  });

  it('answers 503 on /livez once its consumer can no longer poll Redis, while it still thinks it runs', { timeout: 40_000 }, async () => {
    // The worker borrows a broker, so the test can close the broker's connections under the running worker: its
    // consumer loop stops for good, as it would with a wedged connection, while nothing asked the worker to stop.
    const broker = redis.createBroker();
    const { worker, probe } = await workerWithHealth({ broker });
    await worker.start();
    expect((await probe('/livez')).status).toBe(200);

    await broker.close();
    const deadline = Date.now() + 20_000;
    let livez = await probe('/livez');
    while (livez.status === 200 && Date.now() < deadline) {
      await sleep(250);
      livez = await probe('/livez');
    }
    expect(livez).toMatchObject({ status: 503, body: { state: 'running', live: false, pollDue: true } });
    expect(livez.body.lastPollAgeMs).toBeGreaterThan(8_000);
    // Readiness is about start and shutdown; liveness is what restarts the container.
    expect((await probe('/readyz')).status).toBe(200);
  });

  it('answers only the two probes', async () => {
    const worker = redis.track(createWorker({ tasks: [add], connection: redis.url, prefix: redis.prefix, logger: silent }));
    const server = redis.track(await serveWorkerHealth(worker, { port: 0, host: '127.0.0.1' }));
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    const post = await fetch(`${server.url}/livez`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${server.url}/livez`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});
