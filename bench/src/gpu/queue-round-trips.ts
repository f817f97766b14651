import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createClient, type Client } from '@celeriac/client';
import { createWorker } from '@celeriac/worker';
import { compareFigure } from '../lib/bench-report.js';
import { formatFigure } from '../lib/format-figure.js';
import { median, percentile } from '../lib/measure.js';
import { deleteKeys, type RedisTarget } from '../lib/redis-target.js';
import { doubleOnCpu, doubleOnGpu } from './round-trip-tasks.js';
import type { SectionReport } from './section-report.js';

/** The end-to-end target for a tiny GPU task on a real GPU, in ms. */
const targetMs = 5;
const warmUpRoundTrips = 20;
const elements = 16;

/** What {@link measureQueueRoundTrips} needs. */
export interface QueueRoundTripOptions {
  readonly target: RedisTarget;
  /** A key prefix of this measurement alone; its keys are deleted afterwards. */
  readonly prefix: string;
  readonly roundTrips: number;
  /** A software adapter: the GPU target does not apply. */
  readonly software: boolean;
  readonly log: (line: string) => void;
}

type Task = typeof doubleOnGpu | typeof doubleOnCpu;

/**
 * Sequential enqueue → result round trips of a tiny GPU task and a tiny CPU task, through one worker and one client
 * on the same Redis. The two alternate job by job, so a slow moment on a shared machine hits both alike.
 */
export async function measureQueueRoundTrips(options: QueueRoundTripOptions): Promise<SectionReport> {
  const { target, prefix } = options;
  const worker = createWorker({
    tasks: [doubleOnGpu, doubleOnCpu],
    connection: target.url,
    prefix,
    concurrency: 1,
    logger: pino({ level: 'silent' }),
  });
  const client = createClient({ connection: target.url, prefix });
  try {
    await worker.start();
    // The warm-up starts the GPU executor process, compiles the kernel and loads both code paths; it is not recorded.
    for (let i = 0; i < warmUpRoundTrips; i++) {
      for (const task of [doubleOnGpu, doubleOnCpu]) await roundTrip(client, task);
    }
    const times: Record<'gpu' | 'cpu', number[]> = { gpu: [], cpu: [] };
    for (let i = 0; i < options.roundTrips; i++) {
      const order = i % 2 === 0 ? (['gpu', 'cpu'] as const) : (['cpu', 'gpu'] as const);
      for (const side of order) times[side].push(await roundTrip(client, side === 'gpu' ? doubleOnGpu : doubleOnCpu));
    }
    const [gpuMs, cpuMs] = [formatFigure(median(times.gpu)), formatFigure(median(times.cpu))];
    options.log(`  ${options.roundTrips} round trips each: GPU median ${gpuMs} ms, CPU median ${cpuMs} ms`);
    return toReport(times, options);
  } finally {
    await client.close();
    await worker.close();
    await deleteKeys(target.admin, `{${prefix}}`);
  }
}

/** One enqueue → result round trip, in ms; the result is checked so a failing task cannot count as a fast one. */
async function roundTrip(client: Client, task: Task): Promise<number> {
  const x = Float32Array.from({ length: elements }, (_, i) => i + 0.5);
  const startedAt = performance.now();
  const job = await client.enqueue(task, { x });
  const doubled = await job.result({ timeoutMs: 30_000 });
  const elapsedMs = performance.now() - startedAt;
  if (doubled.length !== elements || doubled.some((value, i) => value !== 2 * (x[i] ?? Number.NaN))) {
    throw new Error(`${task.name}: wrong result ${String(doubled)}`);
  }
  return elapsedMs;
}

function toReport(times: Record<'gpu' | 'cpu', number[]>, options: QueueRoundTripOptions): SectionReport {
  const gpuMedian = median(times.gpu);
  const cpuMedian = median(times.cpu);
  // Judged as printed (3 significant digits), as queue.ts does; a software adapter has no target.
  const missed = !options.software && Number(gpuMedian.toPrecision(3)) > targetMs;
  const gpuTarget = options.software ? 'n/a on software adapter' : `≤ ${targetMs} ms${missed ? ' ⚠' : ''}`;
  return {
    title: 'End-to-end tiny task through the queue',
    header: ['task', 'median (ms)', 'p95 (ms)', 'GPU / CPU (median)', 'target'],
    rows: [
      [
        `GPU: double ${elements} f32 (kernel)`,
        formatFigure(gpuMedian),
        formatFigure(percentile(times.gpu, 95)),
        formatFigure(gpuMedian / cpuMedian, 2),
        gpuTarget,
      ],
      [`CPU: double ${elements} f32 (JS)`, formatFigure(cpuMedian), formatFigure(percentile(times.cpu, 95)), '—', '—'],
    ],
    notes: [
      `${options.roundTrips} sequential round trips per task after ${warmUpRoundTrips} unrecorded ones, ` +
        'GPU and CPU alternating',
      'one round trip = client.enqueue() → job.result(): Redis both ways, the worker, the handler (and for the GPU task ' +
        'the executor process with its cached pipeline), the typed arrays as binary payloads',
      'inline handlers, worker concurrency 1, one worker and one client in this process',
    ],
    figures: [
      compareFigure(`tiny GPU task end to end (baseline: the same task in JS)`, 'ms', {
        celeriac: gpuMedian,
        baseline: cpuMedian,
      }, {
        higherIsBetter: false,
        target: options.software ? undefined : `≤ ${targetMs} ms`,
        missed,
      }),
    ],
    failed: false,
  };
}
