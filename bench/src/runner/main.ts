/**
 * The benchmarks' command line, which `scripts/bench.mjs` starts after building (`npm run bench -- …`):
 * - `<name> [options]` runs `bench/src/<name>.ts` alone and prints its report;
 * - no name runs every benchmark, each in a process of its own, and writes the summary into `docs/benchmarks.md`;
 * - `--quick` makes every benchmark short (small counts, short durations); `--skip a,b` leaves benchmarks out of a run
 *   of all; `--no-write` prints the summary without writing it; `--out <file>` writes it elsewhere.
 * @packageDocumentation
 */
import { fileURLToPath } from 'node:url';
import { createProgressLog, readProgressPosition } from './progress-log.js';
import { printReport } from './print-report.js';
import { runAll } from './run-all.js';
import { runBenchmark } from './run-benchmark.js';

/** The runner's own flags, and what is left for the benchmark. */
interface Cli {
  readonly name: string | undefined;
  readonly quick: boolean;
  readonly skip: ReadonlySet<string>;
  readonly write: boolean;
  readonly out: string | undefined;
  readonly rest: readonly string[];
}

/**
 * Takes the runner's flags out of `argv` and leaves the rest, in order, for the benchmark, which parses them itself
 * (strictly: a typo stops it). The name, if any, comes first, as in `npm run bench -- queue --jobs 100`.
 */
function parseCli(argv: readonly string[]): Cli {
  const name = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
  const rest: string[] = [];
  const skip = new Set<string>();
  let quick = false;
  let write = true;
  let out: string | undefined;
  for (let i = name === undefined ? 0 : 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = (): string => inline ?? argv[++i] ?? missing(flag ?? arg);
    if (flag === '--quick') quick = true;
    else if (flag === '--no-write') write = false;
    else if (flag === '--skip') for (const id of value().split(',')) skip.add(id.trim());
    else if (flag === '--out') out = value();
    else rest.push(arg);
  }
  if (name !== undefined && (skip.size > 0 || out !== undefined || !write)) {
    throw new Error('--skip, --out and --no-write apply to a run of every benchmark (npm run bench without a name)');
  }
  if (name === undefined && rest.length > 0) {
    throw new Error(`unknown option(s) for a run of every benchmark: ${rest.join(' ')}; name a benchmark to pass them`);
  }
  return { name, quick, skip, write, out, rest };
}

function missing(flag: string): never {
  throw new Error(`${flag} needs a value`);
}

/** Runs one benchmark in this process; a run of all reads its report over IPC. Resolves with the exit code. */
async function runOne(name: string, cli: Cli): Promise<number> {
  const log = createProgressLog(name, readProgressPosition());
  const report = await runBenchmark(name, { args: cli.rest, quick: cli.quick, log });
  printReport(report);
  // Started by a run of all: hand the report back, then drop the channel, which would keep this process alive.
  const send = process.send?.bind(process);
  if (send) await new Promise<void>((resolve) => send(report, () => resolve()));
  if (process.connected) process.disconnect();
  return report.status === 'failed' ? 1 : 0;
}

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  if (cli.name !== undefined) return runOne(cli.name, cli);
  const docs = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url));
  const flags = process.argv.slice(2).join(' ');
  return runAll({
    quick: cli.quick,
    skip: cli.skip,
    outputPath: cli.write ? (cli.out ?? docs) : undefined,
    command: `npm run bench${flags ? ` -- ${flags}` : ''}`,
  });
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
// A benchmark that leaves a handle open (a socket, a timer) must not hang the run; the timer does not itself keep
// the process alive, so a clean exit happens as soon as the work is done.
setTimeout(() => process.exit(), 10_000).unref();
