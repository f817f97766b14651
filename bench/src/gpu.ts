/**
 * GPU: kernel GB/s beside the device's copy bandwidth, a tiny GPU task through the queue, binary payloads vs raw Redis.
 *
 * Run it with `npm run bench -- gpu [--repeats 5] [--sizes 16,20,24,26] [--round-trips 200]
 * [--only kernels,queue,payload]`. `--sizes` takes powers of two (elements per array). Set `REDIS_URL` to use an
 * existing server; otherwise a private redis-server without persistence is spawned. Three parts:
 * - kernel throughput: reduce, scan, elementwise and matmul at each size, in GB/s (GFLOP/s for matmul) from GPU
 *   timestamps, each beside a copy kernel's GB/s at the same size, every result checked against a JS reference;
 * - end to end: sequential enqueue → result round trips of a tiny GPU task and of the same task on the CPU;
 * - payloads: a Float32Array of 1, 16 and 64 MiB through celeriac (enqueue + getJob) and through raw SET + GET.
 * On a software adapter (lavapipe) the default sizes are smaller and the GPU figures are correctness-only. Without a
 * WebGPU adapter the kernel and end-to-end parts are skipped (the report says so) and the payload part still runs.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { GpuCapability } from '@celeriac/core';
import { createGpuExecutor } from '@celeriac/gpu';
import { BenchStatus, type BenchReport, type BenchRunOptions } from './lib/bench-report.js';
import { positiveInteger } from './lib/positive-integer.js';
import { describeRedisTarget, openRedisTarget } from './lib/redis-target.js';
import { measureKernelThroughput } from './gpu/kernel-throughput.js';
import { measurePayloadRoundTrips } from './gpu/payload-round-trips.js';
import { measureQueueRoundTrips } from './gpu/queue-round-trips.js';
import type { SectionReport } from './gpu/section-report.js';

const sections = ['kernels', 'queue', 'payload'] as const;
type Section = (typeof sections)[number];

/** Elements per array: 2^16 … 2^26 on a GPU. */
const gpuSizes = [16, 20, 24, 26].map((exponent) => 2 ** exponent);
/** A software adapter runs on the CPU cores Redis and Node share: small sizes, enough to show the kernels work. */
const softwareSizes = [16, 18, 20].map((exponent) => 2 ** exponent);
/** matmul's largest side on a software adapter at the default sizes: 2·512³ flops take lavapipe about a second. */
const softwareMaxMatmulSide = 512;

interface BenchOptions {
  readonly repeats: number;
  /** Elements per array, when `--sizes` was given. */
  readonly sizes: readonly number[] | undefined;
  readonly roundTrips: number;
  readonly only: ReadonlySet<Section>;
}

type AvailableGpu = Extract<GpuCapability, { available: true }>;

/** Runs the GPU benchmark and returns its report; see the file's opening comment. */
export async function run({ args, quick, log }: BenchRunOptions): Promise<BenchReport> {
  const options = parseOptions(args, quick);
  const runId = randomBytes(3).toString('hex');
  const executor = createGpuExecutor();
  const target = await openRedisTarget();
  const reports: SectionReport[] = [];
  const environment: string[] = [];
  let redis: string | undefined;
  try {
    const gpu = await executor.describe();
    const timestamps = gpu.available && (await executor.stats()).timestamps;
    redis = await describeRedisTarget(target);
    environment.push(...describeEnvironment(options, gpu, timestamps));
    for (const line of environment) log(line);
    const gpuSections = [...options.only].filter((section) => section !== 'payload');
    if (!gpu.available && gpuSections.length > 0) {
      log(`no WebGPU adapter: ${gpuSections.join(' and ')} skipped`);
      if (!options.only.has('payload')) return skippedReport(options, redis, environment, gpu.reason);
    }
    if (options.only.has('kernels') && gpu.available) {
      log('kernel throughput…');
      const sizing = kernelSizing(options, gpu);
      const software = gpu.adapter.isSoftware;
      const { repeats } = options;
      reports.push(await measureKernelThroughput({ executor, ...sizing, repeats, timestamps, software, log }));
    }
    // The worker below starts its own executor process; this one's device and buffers are not needed any more.
    await executor.close();
    if (options.only.has('queue') && gpu.available) {
      log('end-to-end round trips…');
      const prefix = `bench-gpu-${runId}-rt`;
      const software = gpu.adapter.isSoftware;
      reports.push(await measureQueueRoundTrips({ target, prefix, roundTrips: options.roundTrips, software, log }));
    }
    if (options.only.has('payload')) {
      log('binary payload round trips…');
      const prefix = `bench-gpu-${runId}-payload`;
      reports.push(await measurePayloadRoundTrips({ target, prefix, repeats: options.repeats, log }));
    }
  } finally {
    await executor.close();
    await target.close();
  }
  const failed = reports.some((report) => report.failed);
  return {
    ...reportBase(options, redis, environment),
    status: failed ? BenchStatus.Failed : BenchStatus.Ok,
    reason: failed ? 'some kernels gave wrong results or failed (see the notes)' : undefined,
    figures: reports.flatMap((report) => report.figures),
    sections: reports.map((report) => ({ ...report, notes: [...report.notes, '⚠ marks a missed target.'] })),
  };
}

function reportBase(options: BenchOptions, redis: string | undefined, environment: readonly string[]) {
  return {
    name: 'gpu',
    title: 'GPU',
    baseline: 'kernels: the copy kernel\'s GB/s at the same n; end to end: the same task in JS; payloads: raw SET+GET',
    command: commandOf(options),
    redis,
    environment,
  };
}

function skippedReport(
  options: BenchOptions,
  redis: string | undefined,
  environment: readonly string[],
  reason: string,
): BenchReport {
  return {
    ...reportBase(options, redis, environment),
    status: BenchStatus.Skipped,
    reason: `no WebGPU adapter (${reason})`,
    figures: [],
    sections: [],
  };
}

/** The command that repeats this run, with the defaults it took spelled out. */
function commandOf(options: BenchOptions): string {
  const sizes = options.sizes ? ` --sizes ${options.sizes.map((n) => Math.log2(n)).join(',')}` : '';
  return (
    `npm run bench -- gpu --repeats ${options.repeats}${sizes} --round-trips ${options.roundTrips} ` +
    `--only ${[...options.only].join(',')}`
  );
}

/** The sizes and limits of the throughput part: smaller defaults on a software adapter, unless `--sizes` was given. */
function kernelSizing(options: BenchOptions, gpu: AvailableGpu) {
  const software = gpu.adapter.isSoftware && options.sizes === undefined;
  const limit = (name: string): number => gpu.limits[name] ?? Number.POSITIVE_INFINITY;
  return {
    sizes: options.sizes ?? (software ? softwareSizes : gpuSizes),
    maxBufferBytes: Math.min(limit('maxStorageBufferBindingSize'), limit('maxBufferSize')),
    maxMatmulSide: software ? softwareMaxMatmulSide : undefined,
  };
}

/** The defaults, or with `--quick` fewer repeats and round trips and the two smallest default sizes. */
function parseOptions(args: readonly string[], quick: boolean): BenchOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      repeats: { type: 'string', default: quick ? '2' : '5' },
      sizes: { type: 'string', ...(quick ? { default: '16,18' } : {}) },
      'round-trips': { type: 'string', default: quick ? '20' : '200' },
      only: { type: 'string', default: sections.join(',') },
    },
  });
  const only = values.only.split(',').map((name) => name.trim());
  const unknown = only.filter((name) => !(sections as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`--only takes ${sections.join(', ')}; got "${unknown.join(', ')}"`);
  return {
    repeats: positiveInteger('--repeats', values.repeats),
    sizes: values.sizes?.split(',').map((text) => 2 ** exponent(text.trim())),
    roundTrips: positiveInteger('--round-trips', values['round-trips']),
    only: new Set(only as Section[]),
  };
}

/** A `--sizes` entry: the power of two, 0 … 28 (2^28 f32 is 1 GiB per array, more than any binding allows). */
function exponent(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 28) {
    throw new Error(`--sizes takes powers of two as exponents from 0 to 28 (16 means 2^16 elements), got "${text}"`);
  }
  return value;
}

function describeEnvironment(options: BenchOptions, gpu: GpuCapability, timestamps: boolean): string[] {
  const lines = [`adapter: ${describeAdapter(gpu)}`];
  if (gpu.available) {
    lines.push(`gpu time: ${timestamps ? 'timestamp queries' : 'none (no timestamp-query): wall time instead'}`);
  }
  const only = [...options.only].join(',');
  lines.push(`options: --repeats ${options.repeats}, --round-trips ${options.roundTrips}, --only ${only}`);
  return lines;
}

function describeAdapter(gpu: GpuCapability): string {
  if (!gpu.available) return `none (${gpu.reason})`;
  const { vendor, description, architecture, isSoftware } = gpu.adapter;
  return `${vendor}, ${description} (${architecture || 'architecture unknown'}), isSoftware: ${isSoftware}`;
}
