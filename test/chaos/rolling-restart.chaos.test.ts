import { describe, expect, it } from 'vitest';
import { createClient } from '@celeriac/client';
import { useTestRedis } from '@celeriac/testing';
import { chaosSize, randomBetween, reportChaos, sleep, useChaosScope } from './support/chaos-scope.js';
import { produceJobs } from './support/produce-jobs.js';
import { untilSettled } from './support/until-settled.js';
import { ledgerTasksModule } from './support/worker-processes.js';
import { createLedgerFleet } from './support/ledger-fleet.js';

const redis = useTestRedis();
const scope = useChaosScope();

const rounds = chaosSize(1, 3);
const workerCount = 3;
const concurrency = 8;
/** Long on purpose: a job that had to wait for a lease to run out would show a latency of 10 s or more. */
const leaseMs = 10_000;
const ratePerSecond = 100;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

describe('chaos: rolling restart under load', () => {
  it(`replaces every worker with SIGTERM ${rounds === 1 ? 'once' : `${rounds} times`} while jobs flow: nothing lost, nothing run twice, no job waits for a lease`, { timeout: 600_000 }, async () => {
    const startedAtMs = Date.now();
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const { ledger, fleet } = createLedgerFleet(scope, {
      tasksModule: ledgerTasksModule,
      redisUrl: redis.url,
      prefix: redis.prefix,
      lease: `${leaseMs}ms`,
      concurrency,
    });
    await Promise.all(Array.from({ length: workerCount }, () => fleet.start()));
    const producer = produceJobs(client, ledger, { task: 'chaos-step', input: (n) => ({ n, ms: randomBetween(20, 150) }), ratePerSecond });

    // A rolling deploy: start the new worker, then SIGTERM an old one and wait for it to drain and exit.
    const exits: (number | null)[] = [];
    const drainMs: number[] = [];
    await sleep(2_000);
    for (let round = 0; round < rounds; round++) {
      for (const old of fleet.live()) {
        await fleet.start();
        const stoppingAtMs = Date.now();
        exits.push(await fleet.stop(old, 'SIGTERM'));
        drainMs.push(Date.now() - stoppingAtMs);
        await sleep(1_000);
      }
    }
    await sleep(2_000);
    producer.stop();
    const produced = await producer.done;
    const settled = await untilSettled(client, ledger, 60_000);
    const { view } = settled;
    // From the acknowledged enqueue to the start of the job's only run.
    const latencies = [...ledger.acknowledged]
      .map(([id, ackMs]) => (view.jobs.get(id)?.starts[0]?.atMs ?? Number.POSITIVE_INFINITY) - ackMs)
      .sort((a, b) => a - b);
    const restartedTwice = [...view.jobs].filter(([, job]) => job.starts.length > 1).map(([id]) => id);
    reportChaos('rolling restart', {
      jobs: produced.acknowledged,
      restarts: exits.length,
      lost: view.lost().length,
      duplicates: view.duplicated().length,
      startedTwice: restartedTwice.length,
      p50LatencyMs: percentile(latencies, 50),
      p99LatencyMs: percentile(latencies, 99),
      maxLatencyMs: latencies.at(-1) ?? 0,
      maxDrainMs: Math.max(...drainMs),
      wallS: Math.round((Date.now() - startedAtMs) / 1000),
    });

    expect(produced.failures).toEqual(new Map());
    expect(exits).toEqual(Array.from({ length: rounds * workerCount }, () => 0));
    expect(view.lost()).toEqual([]);
    expect(settled.settled).toBe(true);
    expect(settled.counts.failed).toBe(0);
    // Graceful: every job ran exactly once, none was interrupted and run again.
    expect(view.duplicated()).toEqual([]);
    expect(restartedTwice).toEqual([]);
    // No stall: no job waited anywhere near a lease (10 s) to be recovered; the worst waits a few hundred ms.
    expect(latencies.at(-1)).toBeLessThan(leaseMs / 4);
  });
});
