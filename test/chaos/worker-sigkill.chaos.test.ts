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

const jobs = chaosSize(2_000, 10_000);
const ratePerSecond = chaosSize(100, 150);
const workerCount = 3;
const concurrency = 8;
/** 2 s: a killed worker's jobs come back within 2 to 4 s, and a busy 2-core machine never lapses a lease by accident. */
const lease = '2s';

interface Kill {
  readonly pid: number;
  readonly atMs: number;
  /** Jobs the ledger shows started and not finished by the killed worker at the kill. */
  readonly inFlight: number;
}

describe('chaos: workers SIGKILLed at random', () => {
  it(`loses no acknowledged job of ${jobs}, and duplicates only jobs in flight at a kill`, { timeout: 600_000 }, async () => {
    const startedAtMs = Date.now();
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const { ledger, fleet } = createLedgerFleet(scope, {
      tasksModule: ledgerTasksModule,
      redisUrl: redis.url,
      prefix: redis.prefix,
      lease,
      concurrency,
    });
    await Promise.all(Array.from({ length: workerCount }, () => fleet.start()));

    const producer = produceJobs(client, ledger, {
      task: 'chaos-step',
      input: (n) => ({ n, ms: randomBetween(10, 60) }),
      ratePerSecond,
      total: jobs,
    });
    let producing = true;
    void producer.done.then(() => (producing = false));

    // Kill a random worker every 1.5 to 3.5 s while jobs flow, and start its replacement, as an orchestrator would
    // (without waiting for it: a replacement that is still starting may be the next victim, or die with its jobs).
    const kills: Kill[] = [];
    const replacements: Promise<unknown>[] = [];
    while (producing) {
      await sleep(randomBetween(1_500, 3_500));
      const live = fleet.live();
      const victim = live[Math.floor(Math.random() * live.length)];
      if (!victim) continue;
      const atMs = Date.now();
      await fleet.stop(victim, 'SIGKILL');
      kills.push({ pid: victim.pid, atMs, inFlight: ledger.read().inFlight(victim.pid, atMs).length });
      replacements.push(fleet.start().catch((error: unknown) => error));
    }
    const produced = await producer.done;
    // A replacement killed while it started rejects; that is part of the chaos, not a failure.
    await Promise.all(replacements);
    const settled = await untilSettled(client, ledger, 90_000);
    const { view } = settled;

    const killed = new Map(kills.map((kill) => [kill.pid, kill]));
    const duplicated = view.duplicated();
    // Every extra run must trace back to a kill: all effects of a duplicated job but its last come from killed workers.
    const unexplained = duplicated.filter((id) => view.jobs.get(id)!.effects.slice(0, -1).some((effect) => !killed.has(effect.pid)));
    // A killed worker can duplicate at most the jobs it held: its concurrency (its last handler may have finished
    // its side effect and died before the completion reached Redis, which the ledger cannot see as in flight).
    const duplicatesByPid = new Map<number, number>();
    for (const id of duplicated) {
      for (const effect of view.jobs.get(id)!.effects.slice(0, -1)) duplicatesByPid.set(effect.pid, (duplicatesByPid.get(effect.pid) ?? 0) + 1);
    }
    const bound = kills.length * concurrency;
    reportChaos('worker SIGKILL', {
      jobs: produced.acknowledged,
      kills: kills.length,
      lost: view.lost().length,
      duplicates: duplicated.length,
      bound,
      inFlightAtKills: kills.reduce((sum, kill) => sum + kill.inFlight, 0),
      startedAgain: [...view.jobs.values()].filter((job) => job.starts.length > 1).length,
      wallS: Math.round((Date.now() - startedAtMs) / 1000),
    });

    expect(produced.failures).toEqual(new Map());
    expect(produced.acknowledged).toBe(jobs);
    expect(kills.length).toBeGreaterThanOrEqual(3);
    expect(view.lost()).toEqual([]);
    expect(settled.settled).toBe(true);
    expect(settled.counts.failed).toBe(0);
    expect(unexplained).toEqual([]);
    expect(duplicated.length).toBeLessThanOrEqual(bound);
    for (const [pid, count] of duplicatesByPid) expect(count, `duplicates of worker ${pid}`).toBeLessThanOrEqual(concurrency);
    // The kills hit running jobs: without that, this scenario would prove nothing.
    expect(kills.some((kill) => kill.inFlight > 0)).toBe(true);
  });
});
