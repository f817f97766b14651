import { performance } from 'node:perf_hooks';
import type { GpuExecutor } from '@celeriac/gpu';
import { compareFigure, type BenchFigure } from '../lib/bench-report.js';
import { formatFigure } from '../lib/format-figure.js';
import { median } from '../lib/measure.js';
import { copyCase, matmulCase, matrixSide, measuredCases, type KernelCase, type KernelWork } from './kernel-cases.js';
import type { SectionReport } from './section-report.js';

/** What {@link measureKernelThroughput} needs to know about the run and the device. */
export interface KernelThroughputOptions {
  readonly executor: GpuExecutor;
  /** Elements per array. */
  readonly sizes: readonly number[];
  /** Timed calls per kernel and size, after one warm-up call. */
  readonly repeats: number;
  /** The largest buffer the device binds: the smaller of maxStorageBufferBindingSize and maxBufferSize. */
  readonly maxBufferBytes: number;
  /** Caps matmul's side (software adapters, unless `--sizes` was given); `undefined` for no cap. */
  readonly maxMatmulSide: number | undefined;
  /** Whether the device records GPU time; without it, throughput comes from wall time. */
  readonly timestamps: boolean;
  /** A software adapter (lavapipe): its figures say the kernels work, not how fast a GPU is. */
  readonly software: boolean;
  /** Prints a progress line. */
  readonly log: (line: string) => void;
}

/** The medians of one kernel at one size, or why there are none. */
type Outcome =
  | { readonly kind: 'measured'; readonly gpuMs: number | undefined; readonly wallMs: number }
  | { readonly kind: 'skipped' | 'failed'; readonly reason: string };

/**
 * Measures each kernel at each size, with the copy kernel first at every size so each kernel's GB/s can be read as
 * a share of the device's own copy bandwidth, measured minutes apart on the same device and the same arrays' sizes.
 */
export async function measureKernelThroughput(options: KernelThroughputOptions): Promise<SectionReport> {
  const rows: string[][] = [];
  const figures: BenchFigure[] = [];
  const notes = new Set<string>();
  let failed = false;
  for (const n of options.sizes) {
    const copy = await measureCase(options, copyCase, n);
    const copyRate = copy.kind === 'measured' ? throughputOf(copyCase.work(n), copy, options) : undefined;
    for (const kernelCase of [copyCase, ...measuredCases]) {
      const outcome = kernelCase === copyCase ? copy : await measureCase(options, kernelCase, n);
      if (outcome.kind !== 'measured') {
        notes.add(`${kernelCase.name} at ${sizeLabel(kernelCase, n)}: ${outcome.kind}, ${outcome.reason}`);
      }
      failed ||= outcome.kind === 'failed';
      rows.push(toRow(kernelCase, n, outcome, copyRate, options));
      if (outcome.kind === 'measured' && kernelCase !== copyCase) {
        figures.push(toFigure(kernelCase, n, throughputOf(kernelCase.work(n), outcome, options), copyRate));
      }
    }
  }
  return {
    title: `Kernel throughput${options.software ? ', correctness-only (software adapter)' : ''}`,
    header: ['kernel', 'n', 'GPU time (ms)', 'throughput', '× copy', 'wall ms/call', 'result'],
    rows,
    notes: [...headerNotes(options), ...notes],
    figures,
    failed,
  };
}

/** One warm-up call (it compiles the pipeline), then `repeats` timed calls, each checked against the JS reference. */
async function measureCase(options: KernelThroughputOptions, kernelCase: KernelCase, n: number): Promise<Outcome> {
  const skipped = skipReason(options, kernelCase, n);
  if (skipped !== undefined) return { kind: 'skipped', reason: skipped };
  const { executor, repeats } = options;
  try {
    const call = kernelCase.prepare(n);
    (await call.execute(executor))();
    let runs = await gpuTiming(executor, kernelCase.kernelName).then((timing) => timing?.runs ?? 0);
    const gpuMs: number[] = [];
    const wallMs: number[] = [];
    for (let repeat = 0; repeat < repeats; repeat++) {
      const startedAt = performance.now();
      const check = await call.execute(executor);
      wallMs.push(performance.now() - startedAt);
      check();
      if (!options.timestamps) continue;
      // Read after the call, outside the timed section: lastNs is this call's GPU time when the count moved by one.
      const timing = await gpuTiming(executor, kernelCase.kernelName);
      if (timing?.runs !== ++runs) throw new Error(`${kernelCase.kernelName}: no GPU time was recorded for this call`);
      gpuMs.push(timing.lastNs / 1e6);
    }
    const label = sizeLabel(kernelCase, n).padEnd(16);
    options.log(`  ${kernelCase.name.padEnd(11)} n=${label} wall ${formatFigure(median(wallMs))} ms`);
    return { kind: 'measured', gpuMs: options.timestamps ? median(gpuMs) : undefined, wallMs: median(wallMs) };
  } catch (error) {
    options.log(`  ${kernelCase.name} n=${sizeLabel(kernelCase, n)}: FAILED, ${messageOf(error)}`);
    return { kind: 'failed', reason: messageOf(error) };
  }
}

async function gpuTiming(executor: GpuExecutor, kernelName: string) {
  return (await executor.stats()).kernelTimings[kernelName];
}

function skipReason(options: KernelThroughputOptions, kernelCase: KernelCase, n: number): string | undefined {
  const bytes = kernelCase.largestBufferBytes(n);
  if (bytes > options.maxBufferBytes) {
    return `a ${formatBytes(bytes)} array exceeds the device's largest binding (${formatBytes(options.maxBufferBytes)})`;
  }
  if (kernelCase === matmulCase && options.maxMatmulSide !== undefined && matrixSide(n) > options.maxMatmulSide) {
    return `side above ${options.maxMatmulSide} on a software adapter (pass --sizes to run it)`;
  }
  return undefined;
}

/** GB/s or GFLOP/s: bytes (or flops) per nanosecond, from GPU time where there is one. */
function throughputOf(
  work: KernelWork,
  outcome: Extract<Outcome, { kind: 'measured' }>,
  options: KernelThroughputOptions,
): number {
  const ns = (options.timestamps && outcome.gpuMs !== undefined ? outcome.gpuMs : outcome.wallMs) * 1e6;
  return (work.unit === 'GB/s' ? work.bytes : work.flops) / ns;
}

function toRow(
  kernelCase: KernelCase,
  n: number,
  outcome: Outcome,
  copyRate: number | undefined,
  options: KernelThroughputOptions,
): string[] {
  const label = sizeLabel(kernelCase, n);
  if (outcome.kind !== 'measured') {
    return [kernelCase.name, label, '—', outcome.kind, '—', '—', outcome.kind === 'failed' ? '✗ see note' : '—'];
  }
  const work = kernelCase.work(n);
  const rate = throughputOf(work, outcome, options);
  // A ratio of GFLOP/s to GB/s means nothing, so matmul has none.
  const ratio = work.unit === 'GB/s' && copyRate !== undefined ? formatFigure(rate / copyRate, 2) : '—';
  return [
    kernelCase.name,
    label,
    outcome.gpuMs === undefined ? 'n/a' : formatFigure(outcome.gpuMs),
    `${formatFigure(rate)} ${work.unit}`,
    ratio,
    formatFigure(outcome.wallMs),
    'ok',
  ];
}

/** A kernel's throughput beside the copy kernel's at the same size; matmul's GFLOP/s has no such baseline. */
function toFigure(kernelCase: KernelCase, n: number, rate: number, copyRate: number | undefined): BenchFigure {
  const { unit } = kernelCase.work(n);
  const baseline = unit === 'GB/s' ? copyRate : undefined;
  return compareFigure(`${kernelCase.name}, n=${sizeLabel(kernelCase, n)}`, unit, { celeriac: rate, baseline }, {
    higherIsBetter: true,
  });
}

/** `2^20`, or `2^20 (1024²)` for matmul, whose matrices hold side² ≈ n elements. */
function sizeLabel(kernelCase: KernelCase, n: number): string {
  const exponent = Math.log2(n);
  const elements = Number.isInteger(exponent) ? `2^${exponent}` : n.toLocaleString('en-US');
  return kernelCase === matmulCase ? `${elements} (${matrixSide(n)}²)` : elements;
}

function headerNotes(options: KernelThroughputOptions): string[] {
  const timeSource = options.timestamps
    ? 'GPU time from timestamp queries (executor.stats().kernelTimings, lastNs of each call)'
    : 'WALL TIME: this device has no timestamp-query, so throughput includes upload, IPC and read-back';
  const countings = [copyCase, ...measuredCases].map((kernelCase) => kernelCase.counting).join('; ');
  return [
    `median of ${options.repeats} call(s) after one warm-up call that compiles the pipeline; ${timeSource}`,
    `GB/s counts the least bytes each kernel must move: ${countings}`,
    '× copy = the kernel\'s GB/s / the copy kernel\'s GB/s at the same n, on the same device in the same run',
    'wall ms/call = executor.run() as the caller sees it: upload, IPC to the executor process, the kernel, read-back',
    'each call\'s result is checked against a JS reference (16 sampled elements, and the whole array\'s sum for copy, ' +
      'elementwise and reduce) before its figure counts',
    ...(options.software
      ? ['software adapter (lavapipe): these figures show the kernels run and are correct, not how fast a GPU is']
      : []),
  ];
}

/** A byte count in MiB or GiB, e.g. `128 MiB`. */
function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${formatFigure(bytes / 2 ** 30)} GiB` : `${formatFigure(bytes / 2 ** 20)} MiB`;
}

/** The message of anything thrown, on one line. */
function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
}
