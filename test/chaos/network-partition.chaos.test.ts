import { describe, expect, it } from 'vitest';
import { createClient } from '@celeriac/client';
import { useTestRedis } from '@celeriac/testing';
import { chaosSize, randomBetween, reportChaos, sleep, useChaosScope } from './support/chaos-scope.js';
import type { JobLedger } from './support/job-ledger.js';
import { produceJobs } from './support/produce-jobs.js';
import { createTcpProxy, type CutMode, type TcpProxy } from './support/tcp-proxy.js';
import { untilSettled } from './support/until-settled.js';
import { ledgerTasksModule, type WorkerProcess } from './support/worker-processes.js';
import { createLedgerFleet } from './support/ledger-fleet.js';

const redis = useTestRedis();
const scope = useChaosScope();

const jobs = chaosSize(600, 3_000);
/** Well under what the two workers can do (8 × about 6 jobs a second each), so no backlog hides a stall. */
const ratePerSecond = chaosSize(40, 60);
const concurrency = 8;

/** One worker reaches Redis through the proxy; a second one, connected directly, takes over whatever it loses. */
async function startScenario(leaseMs: number): Promise<{ ledger: JobLedger; proxy: TcpProxy; cutOff: WorkerProcess }> {
  const proxy = await createTcpProxy(Number(new URL(redis.url).port));
  scope.defer(() => proxy.close());
  const { ledger, fleet } = createLedgerFleet(scope, {
    tasksModule: ledgerTasksModule,
    redisUrl: redis.url,
    prefix: redis.prefix,
    lease: `${leaseMs}ms`,
    concurrency,
  });
  const [cutOff] = await Promise.all([fleet.start(proxy.url), fleet.start()]);
  return { ledger, proxy, cutOff };
}

interface CutRun {
  readonly leaseMs: number;
  readonly latencyMs: number;
  readonly cutMs: number;
  readonly mode: CutMode;
  readonly jobMs: readonly [number, number];
}

/** Runs the jobs through latency and one cut, waits until they settle, and answers what the assertions need. */
async function runWithCut(run: CutRun) {
  const startedAtMs = Date.now();
  const { ledger, proxy, cutOff } = await startScenario(run.leaseMs);
  const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
  proxy.setLatency(run.latencyMs);
  const producer = produceJobs(client, ledger, { task: 'chaos-step', input: (n) => ({ n, ms: randomBetween(...run.jobMs) }), ratePerSecond });
  // Cut a third of the way in, at a moment the proxied worker has jobs in flight (the direct one, closer to Redis,
  // takes most jobs at this rate, so wait for it).
  await sleep((jobs / ratePerSecond / 3) * 1_000);
  let inFlightAtCut = 0;
  for (const deadline = Date.now() + 10_000; inFlightAtCut === 0 && Date.now() < deadline; await sleep(5)) {
    inFlightAtCut = ledger.read().inFlight(cutOff.pid, Date.now()).length;
  }
  proxy.cut(run.mode);
  await sleep(run.cutMs);
  proxy.heal();
  const healedAtMs = Date.now();
  const ranAfterHealCount = (): number =>
    [...ledger.read().jobs.values()].filter((job) => job.effects.some((e) => e.pid === cutOff.pid && e.atMs > healedAtMs)).length;
  // Produce at least `jobs`, and on until the cut-off worker, back on its own, has run one (or for 30 s): the direct
  // worker could otherwise take every job left before the cut-off one reconnects, and prove nothing about it.
  for (const deadline = healedAtMs + 30_000; producer.acknowledged < jobs || (ranAfterHealCount() === 0 && Date.now() < deadline); ) {
    await sleep(100);
  }
  producer.stop();
  const produced = await producer.done;
  // After healing, everything finishes within a bound: recovery takes one to two leases; the rest is slack.
  const settled = await untilSettled(client, ledger, 4 * run.leaseMs + 30_000);
  const { view } = settled;
  const figures = {
    jobs: produced.acknowledged,
    latencyMs: run.latencyMs,
    cutMs: run.cutMs,
    leaseMs: run.leaseMs,
    mode: run.mode,
    inFlightAtCut,
    lost: view.lost().length,
    duplicates: view.duplicated().length,
    settledAfterHealS: ((settled.atMs - healedAtMs) / 1000).toFixed(1),
    proxiedConnections: proxy.connections,
    wallS: Math.round((Date.now() - startedAtMs) / 1000),
  };
  const ranAfterHeal = ranAfterHealCount();
  return { produced, settled, view, figures, cutOff, inFlightAtCut, ranAfterHeal };
}

describe('chaos: network cut and latency between a worker and Redis', () => {
  it('rides out 30 ms of latency per chunk and a cut shorter than half the lease: nothing lost, nothing run twice', { timeout: 300_000 }, async () => {
    const run = await runWithCut({ leaseMs: 6_000, latencyMs: 30, cutMs: 1_500, mode: 'refuse', jobMs: [20, 200] });
    reportChaos('network short cut', run.figures);
    expect(run.produced.failures).toEqual(new Map());
    expect(run.view.lost()).toEqual([]);
    expect(run.settled.settled).toBe(true);
    expect(run.settled.counts.failed).toBe(0);
    // The lease outlived the cut: no job was taken from the cut-off worker, so none ran twice.
    expect(run.view.duplicated()).toEqual([]);
    // The cut hit jobs in flight, and the cut-off worker reconnected by itself and went on working.
    expect(run.inFlightAtCut).toBeGreaterThan(0);
    expect(run.ranAfterHeal).toBeGreaterThan(0);
    expect(run.cutOff.alive()).toBe(true);
  });

  it('recovers from a blackhole longer than the lease: nothing lost, and only the jobs the cut-off worker held run twice', { timeout: 300_000 }, async () => {
    const run = await runWithCut({ leaseMs: 2_000, latencyMs: 10, cutMs: 7_000, mode: 'blackhole', jobMs: [50, 250] });
    reportChaos('network long cut', { ...run.figures, bound: concurrency });
    expect(run.produced.failures).toEqual(new Map());
    expect(run.view.lost()).toEqual([]);
    expect(run.settled.settled).toBe(true);
    expect(run.settled.counts.failed).toBe(0);
    // The lease was really lost: the other worker may have rerun what the cut-off one held, and nothing else.
    const duplicated = run.view.duplicated();
    expect(duplicated.length).toBeLessThanOrEqual(concurrency);
    for (const id of duplicated) expect(run.view.jobs.get(id)!.effects.map((e) => e.pid)).toContain(run.cutOff.pid);
    // The cut hit jobs in flight (else it proves nothing), and the cut-off worker came back by itself.
    expect(run.inFlightAtCut).toBeGreaterThan(0);
    expect(run.ranAfterHeal).toBeGreaterThan(0);
    expect(run.cutOff.alive()).toBe(true);
  });
});
