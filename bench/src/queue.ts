/**
 * Queue throughput: no-op jobs through celeriac and through raw BullMQ on the same Redis, at concurrency 1, 50, 200.
 *
 * Run it with `npm run bench -- queue [--jobs 5000] [--repeats 3] [--isolation inline|sandbox]`. Set `REDIS_URL` to
 * use an existing server; otherwise a private redis-server without persistence is spawned. For each concurrency it
 * measures enqueue throughput (individual adds, 100 in flight) and processing throughput (a worker started on a full
 * queue, timed until every job completed), runs raw and celeriac in alternating order (three times by default), and
 * reports the medians and the ratio celeriac / raw.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { BenchStatus, compareFigure, type BenchFigure, type BenchReport, type BenchRunOptions } from './lib/bench-report.js';
import { median } from './lib/measure.js';
import { positiveInteger } from './lib/positive-integer.js';
import { deleteKeys, describeRedisTarget, openRedisTarget, type RedisTarget } from './lib/redis-target.js';
import { runCeleriacTrial } from './queue/celeriac-trial.js';
import { runRawBullmqTrial } from './queue/raw-bullmq-trial.js';
import { keyPrefixOf, type Trial, type TrialResult } from './queue/trial.js';

const concurrencies = [1, 50, 200] as const;
const enqueueInFlight = 100;
/** The processing ratio celeriac must reach now; the goal after optimisation is 1.0. */
const targetRatio = 0.9;

interface Side {
  readonly name: 'raw' | 'celeriac';
  readonly run: Trial;
}
const raw: Side = { name: 'raw', run: runRawBullmqTrial };
const celeriac: Side = { name: 'celeriac', run: runCeleriacTrial };

/** Each side's results at one concurrency. */
type Results = Record<Side['name'], TrialResult[]>;

interface QueueOptions {
  readonly jobs: number;
  readonly repeats: number;
  readonly isolation: 'inline' | 'sandbox';
}

interface RunContext extends QueueOptions {
  readonly target: RedisTarget;
  /** Unique per run, so two runs against one shared Redis never share keys. */
  readonly runId: string;
  readonly log: (line: string) => void;
}

/** Runs the queue benchmark and returns its report; see the file's opening comment. */
export async function run({ args, quick, log }: BenchRunOptions): Promise<BenchReport> {
  const options = parseOptions(args, quick);
  const target = await openRedisTarget();
  try {
    const context: RunContext = { ...options, target, log, runId: randomBytes(3).toString('hex') };
    const redis = await describeRedisTarget(target);
    log(`${options.jobs} jobs per measurement, median of ${options.repeats}, handlers ${options.isolation}; redis ${redis}`);
    // One unrecorded round of each side first: it JIT-compiles both code paths and loads BullMQ's Lua scripts.
    log('warm-up (not recorded)…');
    for (const side of [raw, celeriac]) await measure(context, side, 50, 'warmup');
    const results = new Map<number, Results>();
    for (const concurrency of concurrencies) results.set(concurrency, await measureConcurrency(context, concurrency));
    return toReport(options, redis, results);
  } finally {
    await target.close();
  }
}

/** `--jobs N` (default 5,000): jobs per measurement; `--repeats N` (default 3): runs per side and concurrency. */
function parseOptions(args: readonly string[], quick: boolean): QueueOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      jobs: { type: 'string', default: quick ? '1000' : '5000' },
      repeats: { type: 'string', default: quick ? '1' : '3' },
      isolation: { type: 'string', default: 'inline' },
    },
  });
  const { isolation } = values;
  if (isolation !== 'inline' && isolation !== 'sandbox') {
    throw new Error(`--isolation must be inline or sandbox, got "${isolation}"`);
  }
  return { jobs: positiveInteger('--jobs', values.jobs), repeats: positiveInteger('--repeats', values.repeats), isolation };
}

/**
 * Runs both sides `context.repeats` times at one concurrency. The order alternates (raw first, then celeriac
 * first, …) so neither side always runs on a warmer or a more fragmented Redis: on a 2-core machine that order bias
 * is visible.
 */
async function measureConcurrency(context: RunContext, concurrency: number): Promise<Results> {
  const results: Results = { raw: [], celeriac: [] };
  for (let repeat = 0; repeat < context.repeats; repeat++) {
    const order = repeat % 2 === 0 ? [raw, celeriac] : [celeriac, raw];
    for (const side of order) results[side.name].push(await measure(context, side, concurrency, `r${repeat}`));
  }
  return results;
}

/** One measurement of one side on fresh keys, which are deleted afterwards; prints a progress line. */
async function measure(context: RunContext, side: Side, concurrency: number, label: string): Promise<TrialResult> {
  const prefix = `bench-queue-${context.runId}-c${concurrency}-${label}-${side.name}`;
  try {
    const result = await side.run({
      url: context.target.url,
      prefix,
      jobs: context.jobs,
      isolation: context.isolation,
      concurrency,
      enqueueInFlight,
      // Generous: even 500 jobs/s finishes well inside it, and a stuck run still ends with an error.
      timeoutMs: Math.max(60_000, context.jobs * 20),
    });
    const figures =
      `enqueue ${perSecond(result.enqueue.perSecond)}/s (${micros(result.enqueue.cpuMicrosPerOp)} µs CPU/job), ` +
      `process ${perSecond(result.process.perSecond)}/s (${micros(result.process.cpuMicrosPerOp)} µs CPU/job)`;
    context.log(`c=${String(concurrency).padStart(3)} ${label.padEnd(6)} ${side.name.padEnd(8)} ${figures}`);
    return result;
  } finally {
    await deleteKeys(context.target.admin, keyPrefixOf(prefix));
  }
}

/** The medians of one concurrency's results, raw and celeriac. */
function mediansOf(results: Results) {
  const medians = (pick: (result: TrialResult) => number) =>
    ({ raw: median(results.raw.map(pick)), celeriac: median(results.celeriac.map(pick)) }) as const;
  return {
    enqueue: medians((result) => result.enqueue.perSecond),
    process: medians((result) => result.process.perSecond),
    processCpu: medians((result) => result.process.cpuMicrosPerOp),
  };
}

function toReport(options: QueueOptions, redis: string, results: ReadonlyMap<number, Results>): BenchReport {
  const rows: string[][] = [];
  const figures: BenchFigure[] = [];
  for (const [concurrency, result] of results) {
    const { enqueue, process: processing, processCpu } = mediansOf(result);
    // Judged as printed: a ratio shown as 0.90 must not carry a miss mark; the noise is far wider than the rounding.
    const processRatio = (processing.celeriac / processing.raw).toFixed(2);
    const missed = Number(processRatio) < targetRatio;
    rows.push([
      String(concurrency),
      perSecond(enqueue.raw),
      perSecond(enqueue.celeriac),
      (enqueue.celeriac / enqueue.raw).toFixed(2),
      perSecond(processing.raw),
      perSecond(processing.celeriac),
      `${processRatio}${missed ? ' ⚠' : ''}`,
      `${micros(processCpu.raw)} / ${micros(processCpu.celeriac)}`,
    ]);
    const higher = { higherIsBetter: true };
    figures.push(
      compareFigure(`enqueue, c=${concurrency}`, 'jobs/s', { celeriac: enqueue.celeriac, baseline: enqueue.raw }, higher),
      compareFigure(`process, c=${concurrency}`, 'jobs/s', { celeriac: processing.celeriac, baseline: processing.raw }, {
        ...higher,
        target: `ratio ≥ ${targetRatio}`,
        missed,
      }),
    );
  }
  const isolation = options.isolation === 'sandbox' ? 'sandbox threads' : 'inline handlers';
  return {
    name: 'queue',
    title: `Queue throughput, ${isolation}`,
    baseline: 'raw BullMQ 6 (Queue.add, Worker with an empty processor), same Redis',
    command: `npm run bench -- queue --jobs ${options.jobs} --repeats ${options.repeats} --isolation ${options.isolation}`,
    redis,
    environment: [
      `${options.jobs} jobs per measurement, ${enqueueInFlight} adds in flight, median of ${options.repeats} run(s)`,
      `celeriac handlers: ${options.isolation === 'sandbox' ? 'in sandbox threads' : 'inline, on the worker event loop'}`,
    ],
    status: BenchStatus.Ok,
    reason: undefined,
    figures,
    sections: [
      {
        title: `Queue throughput (${isolation}), medians of ${options.repeats} run(s); ratio = celeriac / raw`,
        header: [
          'concurrency',
          'enqueue raw (jobs/s)',
          'enqueue celeriac (jobs/s)',
          'enqueue ratio',
          'process raw (jobs/s)',
          'process celeriac (jobs/s)',
          'process ratio',
          'process CPU µs/job (raw / celeriac)',
        ],
        rows,
        notes: [`target: process ratio ≥ ${targetRatio} now, ≥ 1.0 later (⚠ marks a miss)`],
      },
    ],
  };
}

function micros(value: number): string {
  return value.toFixed(0);
}

function perSecond(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
