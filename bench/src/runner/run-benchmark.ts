import { BenchStatus, type BenchReport, type BenchRunOptions, type Benchmark } from '../lib/bench-report.js';

/**
 * Loads `bench/dist/<name>.js` and calls its `run`. An error becomes a failed report rather than an exception, so a
 * run of every benchmark records it in the table and goes on to the next one.
 */
export async function runBenchmark(name: string, options: BenchRunOptions): Promise<BenchReport> {
  try {
    const module = (await import(new URL(`../${name}.js`, import.meta.url).href)) as { run?: Benchmark };
    if (typeof module.run !== 'function') throw new Error(`bench/src/${name}.ts does not export run(options)`);
    return await module.run(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    options.log(`FAILED: ${message}`);
    if (error instanceof Error && error.stack) console.error(error.stack);
    return failedReport(name, [name, ...options.args], message);
  }
}

/** The report of a benchmark that produced none: it threw, or its process died. */
export function failedReport(name: string, argv: readonly string[], reason: string): BenchReport {
  return {
    name,
    title: name,
    baseline: '—',
    command: `npm run bench -- ${argv.join(' ')}`,
    redis: undefined,
    environment: [],
    status: BenchStatus.Failed,
    reason,
    figures: [],
    sections: [],
  };
}
