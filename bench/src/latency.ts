/**
 * Latency percentiles: enqueue → start and enqueue → complete, p50/p90/p99/max, celeriac vs a raw BullMQ Worker.
 *
 * Run it with `npm run bench -- latency [--rate 200] [--jobs 3000] [--rounds 2] [--concurrency 10]`. Both sides get
 * the same jobs at the same steady rate (well below saturation: the queue benchmark processes thousands a second at
 * this concurrency), on the same Redis, with the same worker concurrency and retention, one side after the other and
 * alternating which goes first. Producer, worker and a `QueueEvents` listener share this process, so every time is
 * read from one clock. Set `REDIS_URL` to use an existing server; otherwise a private redis-server without
 * persistence is spawned.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { BenchStatus, compareFigure, type BenchFigure, type BenchReport, type BenchRunOptions } from './lib/bench-report.js';
import { percentile } from './lib/measure.js';
import { positiveInteger } from './lib/positive-integer.js';
import { deleteKeys, describeRedisTarget, openRedisTarget, type RedisTarget } from './lib/redis-target.js';
import { keyPrefixOf } from './queue/trial.js';
import { measureCeleriacLatency } from './latency/celeriac-latency.js';
import type { LatencySamples, LatencyTrial } from './latency/latency-trial.js';
import { measureRawBullmqLatency } from './latency/raw-bullmq-latency.js';
import { formatFigure } from './lib/format-figure.js';

interface LatencyOptions {
  readonly ratePerSecond: number;
  readonly jobs: number;
  readonly rounds: number;
  readonly concurrency: number;
}

type SideName = 'raw' | 'celeriac';
const sides: Record<SideName, LatencyTrial> = { raw: measureRawBullmqLatency, celeriac: measureCeleriacLatency };
const metrics = [
  { key: 'startedMs', label: 'enqueue → start' },
  { key: 'completedMs', label: 'enqueue → complete' },
  { key: 'acknowledgedMs', label: 'enqueue call → resolved' },
] as const;
const percentiles = [
  { label: 'p50', p: 50 },
  { label: 'p90', p: 90 },
  { label: 'p99', p: 99 },
  { label: 'max', p: 100 },
] as const;
/** The first jobs of each measurement pay one-off costs (a connection's first script call, registering the queue). */
const settlingJobs = 10;

/** Runs the latency benchmark and returns its report; see the file's opening comment. */
export async function run({ args, quick, log }: BenchRunOptions): Promise<BenchReport> {
  const options = parseOptions(args, quick);
  const target = await openRedisTarget();
  const runId = randomBytes(3).toString('hex');
  try {
    const redis = await describeRedisTarget(target);
    log(`${options.jobs} jobs per side and round at ${options.ratePerSecond}/s, concurrency ${options.concurrency}`);
    log('warm-up (not recorded)…');
    for (const side of ['raw', 'celeriac'] as const) {
      await measure(target, side, { ...options, jobs: 100 }, `${runId}-warmup`);
    }
    const collected: Record<SideName, LatencySamples[]> = { raw: [], celeriac: [] };
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? (['raw', 'celeriac'] as const) : (['celeriac', 'raw'] as const);
      for (const side of order) {
        const samples = await measure(target, side, options, `${runId}-r${round}`);
        collected[side].push(samples);
        const p = (values: readonly number[], at: number) => formatFigure(percentile(values, at));
        log(
          `round ${round + 1} ${side.padEnd(8)} start p50 ${p(samples.startedMs, 50)} p99 ${p(samples.startedMs, 99)} ms, ` +
            `complete p50 ${p(samples.completedMs, 50)} p99 ${p(samples.completedMs, 99)} ms`,
        );
      }
    }
    return toReport(options, redis, { raw: merge(collected.raw), celeriac: merge(collected.celeriac) });
  } finally {
    await target.close();
  }
}

/** One side's measurement on fresh keys, deleted afterwards. */
async function measure(target: RedisTarget, side: SideName, options: LatencyOptions, label: string): Promise<LatencySamples> {
  const prefix = `bench-latency-${label}-${side}`;
  try {
    return await sides[side]({
      url: target.url,
      prefix,
      jobs: options.jobs,
      ratePerSecond: options.ratePerSecond,
      concurrency: options.concurrency,
      // The sending alone takes jobs / rate seconds; a minute more is ample for the last ones to complete.
      timeoutMs: (options.jobs / options.ratePerSecond) * 1_000 + 60_000,
    });
  } finally {
    await deleteKeys(target.admin, keyPrefixOf(prefix));
  }
}

/** The rounds' samples together, each round without its first {@link settlingJobs} jobs. */
function merge(rounds: readonly LatencySamples[]): LatencySamples {
  const pick = (key: keyof LatencySamples) => rounds.flatMap((samples) => samples[key].slice(settlingJobs));
  return { startedMs: pick('startedMs'), completedMs: pick('completedMs'), acknowledgedMs: pick('acknowledgedMs') };
}

/** `--rate` (default 200/s), `--jobs` (3,000 per side and round), `--rounds` (2), `--concurrency` (10). */
function parseOptions(args: readonly string[], quick: boolean): LatencyOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      rate: { type: 'string', default: '200' },
      jobs: { type: 'string', default: quick ? '600' : '3000' },
      rounds: { type: 'string', default: quick ? '1' : '2' },
      concurrency: { type: 'string', default: '10' },
    },
  });
  const jobs = positiveInteger('--jobs', values.jobs);
  if (jobs <= settlingJobs) throw new Error(`--jobs must be above ${settlingJobs}: the first ${settlingJobs} are left out`);
  return {
    ratePerSecond: positiveInteger('--rate', values.rate),
    jobs,
    rounds: positiveInteger('--rounds', values.rounds),
    concurrency: positiveInteger('--concurrency', values.concurrency),
  };
}

function toReport(options: LatencyOptions, redis: string, samples: Record<SideName, LatencySamples>): BenchReport {
  const rows: string[][] = [];
  const figures: BenchFigure[] = [];
  for (const metric of metrics) {
    for (const { label, p } of percentiles) {
      const raw = percentile(samples.raw[metric.key], p);
      const celeriac = percentile(samples.celeriac[metric.key], p);
      rows.push([metric.label, label, formatFigure(raw), formatFigure(celeriac), formatFigure(celeriac / raw, 2)]);
      // The summary keeps the two latencies the benchmark is about; the enqueue call's is context.
      if (metric.key !== 'acknowledgedMs') {
        figures.push(compareFigure(`${metric.label}, ${label}`, 'ms', { celeriac, baseline: raw }, { higherIsBetter: false }));
      }
    }
  }
  const perSide = samples.raw.startedMs.length;
  return {
    name: 'latency',
    title: 'Latency percentiles',
    baseline: `raw BullMQ 6 (Queue.add, Worker), same Redis, same concurrency (${options.concurrency}) and retention`,
    command:
      `npm run bench -- latency --rate ${options.ratePerSecond} --jobs ${options.jobs} --rounds ${options.rounds} ` +
      `--concurrency ${options.concurrency}`,
    redis,
    environment: [
      `${options.ratePerSecond} jobs/s on a fixed schedule, worker concurrency ${options.concurrency}, ` +
        `${perSide.toLocaleString('en-US')} jobs per side (${options.rounds} round(s) of ${options.jobs}, ` +
        `the first ${settlingJobs} of each left out)`,
    ],
    status: BenchStatus.Ok,
    reason: undefined,
    figures,
    sections: [
      {
        title: 'Latency percentiles (ms); ratio = celeriac / raw, lower is better',
        header: ['latency', 'percentile', 'raw BullMQ (ms)', 'celeriac (ms)', 'ratio'],
        rows,
        notes: [
          'enqueue → start: from the enqueue call to the handler\'s first line (celeriac: after decoding the envelope ' +
            'and validating the input)',
          'enqueue → complete: from the enqueue call to BullMQ\'s `completed` event reaching a QueueEvents listener ' +
            '(the same listener on both sides, on celeriac\'s keys for celeriac)',
          'enqueue call → resolved: the producer\'s own wait for queue.add() / client.enqueue()',
          'producer, worker and listener share one Node process and the machine\'s cores with Redis',
        ],
      },
    ],
  };
}
