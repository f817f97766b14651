import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@celeriac/core';
import { createClient } from '@celeriac/client';
import { spawnRedisServer, type SpawnedRedisServer } from '@celeriac/redis';
import { chaosSize, randomBetween, reportChaos, sleep, useChaosScope } from './support/chaos-scope.js';
import { produceJobs } from './support/produce-jobs.js';
import { untilSettled } from './support/until-settled.js';
import { ledgerTasksModule } from './support/worker-processes.js';
import { createLedgerFleet } from './support/ledger-fleet.js';

const scope = useChaosScope();

const outages = chaosSize(2, 6);
const workerCount = 2;
const concurrency = 8;
const lease = '2s';
const prefix = 'chaos';

/**
 * A private, durable Redis: AOF with `appendfsync always`, so Redis writes and fsyncs each command before it
 * answers, and an acknowledged enqueue is on disk before its promise resolves.
 */
function startDurableRedis(dataDir: string, port?: number): Promise<SpawnedRedisServer> {
  return spawnRedisServer({ dataDir, persist: true, extraArgs: ['--appendfsync', 'always'], ...(port === undefined ? {} : { port }) });
}

describe('chaos: Redis killed and restarted', () => {
  it(`loses no acknowledged job across ${outages} kill -9s of an AOF Redis, and clients and workers recover by themselves`, { timeout: 600_000 }, async () => {
    const startedAtMs = Date.now();
    const dataDir = mkdtempSync(join(tmpdir(), 'celeriac-chaos-redis-'));
    scope.defer(() => rmSync(dataDir, { recursive: true, force: true }));
    let server = await startDurableRedis(dataDir);
    // Deferred first, so it runs last: the workers and the client go before their Redis.
    scope.defer(() => server.stop());
    const client = createClient({ connection: server.url, prefix });
    scope.defer(() => client.close());
    const { ledger, fleet } = createLedgerFleet(scope, { tasksModule: ledgerTasksModule, redisUrl: server.url, prefix, lease, concurrency });
    const workers = await Promise.all(Array.from({ length: workerCount }, () => fleet.start()));

    const producer = produceJobs(client, ledger, { task: 'chaos-step', input: (n) => ({ n, ms: randomBetween(10, 100) }), ratePerSecond: 100 });
    const restarts: number[] = [];
    for (let outage = 0; outage < outages; outage++) {
      await sleep(randomBetween(2_000, 4_000));
      // A crash, not a shutdown: no final AOF rewrite, no goodbye to the clients.
      process.kill(server.pid, 'SIGKILL');
      await server.stop();
      await sleep(randomBetween(1_500, 3_000));
      server = await startDurableRedis(dataDir, server.port);
      restarts.push(Date.now());
    }
    // Keep enqueueing a while after the last restart: the same client must succeed again.
    await sleep(4_000);
    producer.stop();
    const produced = await producer.done;
    const settled = await untilSettled(client, ledger, 90_000);
    const { view } = settled;
    const lastRestartMs = restarts.at(-1)!;
    const effectsAfterRestart = (pid: number) =>
      [...view.jobs.values()].filter((job) => job.effects.some((effect) => effect.pid === pid && effect.atMs > lastRestartMs)).length;
    const bound = outages * workerCount * concurrency;
    reportChaos('Redis kill -9', {
      outages,
      jobs: produced.acknowledged,
      refusedWhileDown: produced.failures.get(ErrorCode.BrokerUnavailable) ?? 0,
      lost: view.lost().length,
      duplicates: view.duplicated().length,
      bound,
      wallS: Math.round((Date.now() - startedAtMs) / 1000),
    });

    // While Redis was down, enqueues failed, and only with the documented code.
    expect([...produced.failures.keys()]).toEqual([ErrorCode.BrokerUnavailable]);
    // ... and the same client succeeded again afterwards, without being recreated.
    expect(produced.firstAckAfterFailureMs).toBeDefined();
    expect(view.lost()).toEqual([]);
    expect(settled.settled).toBe(true);
    expect(settled.counts.failed).toBe(0);
    // A job whose completion could not reach Redis runs again: at most what the workers held at each crash.
    expect(view.duplicated().length).toBeLessThanOrEqual(bound);
    // The original worker processes are still the ones serving: they reconnected, nobody restarted them.
    for (const worker of workers) {
      expect(worker.alive()).toBe(true);
      expect(effectsAfterRestart(worker.pid), `jobs run by worker ${worker.pid} after the last restart`).toBeGreaterThan(0);
    }
  });
});
