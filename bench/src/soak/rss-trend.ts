import type { MemorySample } from './soak-messages.js';

/** How the worker's RSS moved over a soak. */
export interface RssTrend {
  /** The first reading, after the worker started and a full GC. */
  readonly startBytes: number;
  /** The last periodic reading, once every job had run. */
  readonly endBytes: number;
  readonly peakBytes: number;
  /** The least-squares slope of RSS against jobs run, over the second half of the jobs, in bytes per job. */
  readonly slopeBytesPerJob: number;
  /** That slope times the second half's jobs: the growth the trend line shows from the middle to the end. */
  readonly secondHalfGrowthBytes: number;
  /** Readings in the second half, which the slope is fitted on. */
  readonly secondHalfSamples: number;
  /** Every periodic reading analysed, in order. */
  readonly samples: readonly MemorySample[];
}

/**
 * Fits RSS against jobs run over the second half of a soak. The first half is left out because RSS rises there for
 * reasons that stop (the JIT's code, V8 growing its heap to the size the load needs, the allocator's arenas); an
 * unbounded leak keeps rising through the second half too. Fitting a line over every reading, rather than comparing
 * two readings, keeps one GC's sawtooth from deciding the answer.
 */
export function analyseRssTrend(start: MemorySample, samples: readonly MemorySample[], jobs: number): RssTrend {
  const secondHalf = samples.filter((sample) => sample.processed >= jobs / 2);
  const slope = leastSquaresSlope(secondHalf.map((sample) => [sample.processed, sample.rss] as const));
  const last = samples[samples.length - 1] ?? start;
  return {
    startBytes: start.rss,
    endBytes: last.rss,
    peakBytes: Math.max(start.rss, ...samples.map((sample) => sample.rss)),
    slopeBytesPerJob: slope,
    secondHalfGrowthBytes: slope * (jobs / 2),
    secondHalfSamples: secondHalf.length,
    samples,
  };
}

/** The slope of the least-squares line through `points`; `NaN` for fewer than three points or no spread in x. */
function leastSquaresSlope(points: readonly (readonly [number, number])[]): number {
  if (points.length < 3) return Number.NaN;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  let covariance = 0;
  let variance = 0;
  for (const [x, y] of points) {
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  }
  return variance === 0 ? Number.NaN : covariance / variance;
}
