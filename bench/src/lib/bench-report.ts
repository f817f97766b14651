/**
 * One headline figure of a benchmark: celeriac's value beside the baseline's, measured in the same run on the same
 * machine. The summary table in `docs/benchmarks.md` shows one row per figure, with the ratio celeriac / baseline.
 */
export interface BenchFigure {
  /** What was measured, e.g. `process, concurrency 50`. */
  readonly label: string;
  /** The unit of both values, e.g. `jobs/s`, `ms`, `MiB`. */
  readonly unit: string;
  readonly celeriac: number;
  /** The baseline's value; `undefined` for a figure with no baseline (the soak's RSS, say). */
  readonly baseline: number | undefined;
  /** Throughputs are better higher, times and sizes lower: it says which way the ratio should move. */
  readonly higherIsBetter: boolean;
  /** The target as a reader sees it (`ratio ≥ 0.9`, `≤ 5 ms`), or `undefined` for none. */
  readonly target: string | undefined;
  /** Whether the figure missed its target, judged as printed; the table marks it ⚠. */
  readonly missed: boolean;
}

/** A detailed table and the notes that say how to read it, printed after a benchmark's progress lines. */
export interface BenchSection {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly notes: readonly string[];
}

/** How a benchmark ended: measured, skipped (no GPU adapter, say) or failed (an error, or a failed assertion). */
export const BenchStatus = { Ok: 'ok', Skipped: 'skipped', Failed: 'failed' } as const;
export type BenchStatus = (typeof BenchStatus)[keyof typeof BenchStatus];

/**
 * What one benchmark returns: its figures for the summary, its detailed tables for the terminal, and what is needed
 * to trust and repeat them (the baseline, the environment, the exact command). Returning data rather than printing
 * it lets `npm run bench` write every benchmark's figures into one table without parsing anyone's output.
 */
export interface BenchReport {
  /** The benchmark's file name, e.g. `queue`. */
  readonly name: string;
  /** A short title, e.g. `Queue throughput, inline handlers`. */
  readonly title: string;
  /** What celeriac is compared with, e.g. `raw BullMQ 6 (Queue.add, Worker), same Redis`. */
  readonly baseline: string;
  /** The command that repeats this measurement alone, with every option spelled out. */
  readonly command: string;
  /** The Redis server, e.g. `7.0.15 (AOF off, RDB snapshots off), private redis-server`; `undefined` if none. */
  readonly redis: string | undefined;
  /** Other context lines: the workload, the adapter, … */
  readonly environment: readonly string[];
  readonly status: BenchStatus;
  /** Why it was skipped or failed. */
  readonly reason: string | undefined;
  readonly figures: readonly BenchFigure[];
  readonly sections: readonly BenchSection[];
}

/** What every benchmark's `run` gets from the runner. */
export interface BenchRunOptions {
  /** The benchmark's own options (`--jobs 100`), as on the command line; the runner's own flags are removed. */
  readonly args: readonly string[];
  /** `--quick`: small counts and short durations, so the whole set finishes in a few minutes. */
  readonly quick: boolean;
  /** Prints a progress line; the runner prefixes the benchmark's name and the elapsed time. */
  readonly log: (line: string) => void;
}

/** The shape every top-level `bench/src/<name>.ts` exports as `run`. */
export type Benchmark = (options: BenchRunOptions) => Promise<BenchReport>;

/** A figure with a baseline; a shorthand that keeps the benchmarks' figure lists readable. */
export function compareFigure(
  label: string,
  unit: string,
  values: { readonly celeriac: number; readonly baseline: number | undefined },
  judge: { readonly higherIsBetter: boolean; readonly target?: string | undefined; readonly missed?: boolean },
): BenchFigure {
  return {
    label,
    unit,
    celeriac: values.celeriac,
    baseline: values.baseline,
    higherIsBetter: judge.higherIsBetter,
    target: judge.target,
    missed: judge.missed ?? false,
  };
}
