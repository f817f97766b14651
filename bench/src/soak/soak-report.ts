import { BenchStatus, type BenchFigure, type BenchReport } from '../lib/bench-report.js';
import { formatFigure } from '../lib/format-figure.js';
import type { RssTrend } from './rss-trend.js';
import type { MemorySample } from './soak-messages.js';

/** The soak's options, resolved. */
export interface SoakOptions {
  readonly jobs: number;
  readonly concurrency: number;
  readonly backlog: number;
  readonly sampleIntervalMs: number;
}

/** Redis's memory at one moment: all of it (`used_memory`), and the queue's event stream alone. */
export interface RedisMemory {
  readonly usedBytes: number;
  readonly streamBytes: number;
}

/** What one soak found, before it is judged and formatted. */
export interface SoakFindings {
  readonly trend: RssTrend;
  /** The worker's readings after a full GC: started, half the jobs run, all run. */
  readonly start: MemorySample;
  readonly middle: MemorySample;
  readonly end: MemorySample;
  /** Redis before the soak (one job run, so the scripts are loaded) and once retention has trimmed. */
  readonly baseline: RedisMemory;
  readonly after: RedisMemory;
  readonly peakUsedBytes: number;
  /** Succeeded jobs Redis still holds at the end. */
  readonly retained: number;
  /** Redis's bytes per job waiting on a paused queue, over `waitingJobs` jobs. */
  readonly perWaitingJob: number;
  readonly waitingJobs: number;
  readonly elapsedS: number;
}

const MiB = 2 ** 20;

/** What a soak is judged against. */
export interface SoakLimits {
  readonly rssGrowthLimitMiB: number;
  readonly heapGrowthLimitMiB: number;
  /** The retention of succeeded jobs per queue. */
  readonly succeededCount: number;
}

/** Judges the soak (RSS trend, retention) and formats its report. */
export function toSoakReport(
  options: SoakOptions,
  redis: string,
  findings: SoakFindings,
  { rssGrowthLimitMiB, heapGrowthLimitMiB, succeededCount }: SoakLimits,
): BenchReport {
  const { trend, baseline, after } = findings;
  const growthMiB = trend.secondHalfGrowthBytes / MiB;
  const leaking = !(growthMiB <= rssGrowthLimitMiB);
  const heapGrowthMiB = (findings.end.heapUsed - findings.middle.heapUsed) / MiB;
  const heapLeaking = !(heapGrowthMiB <= heapGrowthLimitMiB);
  const overRetained = findings.retained > succeededCount;
  // The event stream is capped by BullMQ whatever the retention; counting it per job would overstate a job's cost.
  const jobBytes = after.usedBytes - baseline.usedBytes - (after.streamBytes - baseline.streamBytes);
  const perRetainedJob = jobBytes / Math.max(1, findings.retained - 1);
  const figures: BenchFigure[] = [
    figure('worker RSS at start (after GC)', 'MiB', trend.startBytes / MiB),
    figure('worker RSS at end', 'MiB', trend.endBytes / MiB),
    figure('worker RSS peak', 'MiB', trend.peakBytes / MiB),
    figure('worker RSS trend, second half', 'MiB', growthMiB, `≤ ${rssGrowthLimitMiB} MiB`, leaking),
    figure('worker heap after GC, second half', 'MiB', heapGrowthMiB, `≤ ${heapGrowthLimitMiB} MiB`, heapLeaking),
    figure('Redis per waiting job', 'bytes', findings.perWaitingJob),
    figure('Redis per retained succeeded job', 'bytes', perRetainedJob),
    figure('Redis growth once retention trimmed', 'MiB', (after.usedBytes - baseline.usedBytes) / MiB),
    figure('succeeded jobs retained', 'jobs', findings.retained, `≤ ${succeededCount}`, overRetained),
  ];
  const reasons = [
    leaking ? `⚠ worker RSS rose ${formatFigure(growthMiB)} MiB over the second half (limit ${rssGrowthLimitMiB} MiB)` : '',
    heapLeaking ? `⚠ worker heap after GC grew ${formatFigure(heapGrowthMiB)} MiB over the second half (limit ${heapGrowthLimitMiB} MiB)` : '',
    overRetained ? `⚠ ${findings.retained} succeeded jobs retained, more than the ${succeededCount} retention keeps` : '',
  ].filter((reason) => reason !== '');
  return {
    name: 'soak',
    title: 'Soak',
    baseline: 'none: judged against limits on RSS and heap growth and the retention count',
    command: `npm run bench -- soak --jobs ${options.jobs} --concurrency ${options.concurrency} --backlog ${options.backlog}`,
    redis,
    environment: [
      `${options.jobs.toLocaleString('en-US')} no-op jobs through one worker process (inline handler, concurrency ` +
        `${options.concurrency}), at most ${options.backlog.toLocaleString('en-US')} waiting, in ${findings.elapsedS.toFixed(0)} s ` +
        `(${Math.round(options.jobs / findings.elapsedS).toLocaleString('en-US')} jobs/s)`,
    ],
    status: reasons.length > 0 ? BenchStatus.Failed : BenchStatus.Ok,
    reason: reasons.length > 0 ? reasons.join('; ') : undefined,
    figures,
    sections: [summarySection(findings, perRetainedJob), readingsSection(findings, options.jobs)],
  };
}

function figure(label: string, unit: string, value: number, target?: string, missed = false): BenchFigure {
  return { label, unit, celeriac: value, baseline: undefined, higherIsBetter: false, target, missed };
}

function summarySection(findings: SoakFindings, perRetainedJob: number) {
  const { trend, baseline, after } = findings;
  const heap = (sample: MemorySample) => `${formatFigure(sample.heapUsed / MiB)} MiB`;
  return {
    title: 'Soak: worker memory and Redis memory',
    header: ['measure', 'value'],
    rows: [
      ['worker RSS: start (after GC) / middle (after GC) / end / peak', `${mib(trend.startBytes)} / ${mib(findings.middle.rss)} / ${mib(trend.endBytes)} / ${mib(trend.peakBytes)} MiB`],
      ['worker RSS slope, second half', `${formatFigure(trend.slopeBytesPerJob)} bytes/job (${trend.secondHalfSamples} readings)`],
      ['worker RSS trend over the second half', `${formatFigure(trend.secondHalfGrowthBytes / MiB)} MiB`],
      ['worker heap after GC: start / middle / end', `${heap(findings.start)} / ${heap(findings.middle)} / ${heap(findings.end)}`],
      ['Redis used_memory: before / peak / after', `${mib(baseline.usedBytes)} / ${mib(findings.peakUsedBytes)} / ${mib(after.usedBytes)} MiB`],
      ['Redis event stream: before / after', `${mib(baseline.streamBytes)} / ${mib(after.streamBytes)} MiB`],
      ['Redis per waiting job', `${formatFigure(findings.perWaitingJob)} bytes (${findings.waitingJobs} jobs, paused queue)`],
      ['succeeded jobs retained at the end', String(findings.retained)],
      ['Redis per retained succeeded job', `${formatFigure(perRetainedJob)} bytes (growth less the event stream, / retained)`],
    ],
    notes: [
      'RSS readings come from the worker process itself every 500 ms; "after GC" readings follow two forced full GCs',
      'the slope is a least-squares fit of RSS against jobs run, over the readings taken after half the jobs had run',
      'Redis per waiting job includes its event-stream entries; BullMQ caps the stream at about 10,000 entries',
    ],
  };
}

/** About ten readings spread over the run: how RSS moved, for the docs. */
function readingsSection(findings: SoakFindings, jobs: number) {
  const readings = [findings.start, ...findings.trend.samples];
  const rows = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((share) => {
    const reading = readings.find((sample) => sample.processed >= share * jobs) ?? readings[readings.length - 1];
    return [
      `${Math.round(share * 100)}%`,
      (reading?.processed ?? 0).toLocaleString('en-US'),
      mib(reading?.rss ?? 0),
      mib(reading?.heapUsed ?? 0),
    ];
  });
  return {
    title: 'Soak: worker RSS as the jobs ran',
    header: ['share of jobs', 'jobs run', 'RSS (MiB)', 'heap used (MiB)'],
    rows,
    notes: ['the first reading of each share; heap used without a forced GC, so it shows the sawtooth'],
  };
}

/** Bytes as MiB with one decimal, as the soak prints memory. */
export function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}
