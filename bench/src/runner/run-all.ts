import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from '../lib/bench-report.js';
import { describeMachine } from '../lib/machine.js';
import { clock, progressVariable, type ProgressPosition } from './progress-log.js';
import { failedReport } from './run-benchmark.js';
import { renderSummaryRegion, writeSummaryRegion, type RunEntry, type RunSummary } from './summary-region.js';

/** One step of a run of all: a benchmark and the options it runs with. */
interface PlannedRun {
  /** How the summary and `--skip` name it. */
  readonly id: string;
  readonly name: string;
  readonly args: readonly string[];
}

/**
 * The order of a run of all, cheapest and most basic first, the soak last. The queue runs twice (handlers inline and
 * in the sandbox), as docs/benchmarks.md reports both. The GPU benchmark leaves its payload part to `payload`, which
 * runs without a GPU. Any other top-level benchmark runs after these with its defaults.
 */
const preferredPlan: readonly PlannedRun[] = [
  { id: 'queue', name: 'queue', args: ['--isolation', 'inline'] },
  { id: 'queue-sandbox', name: 'queue', args: ['--isolation', 'sandbox'] },
  { id: 'http', name: 'http', args: [] },
  { id: 'payload', name: 'payload', args: [] },
  { id: 'gpu', name: 'gpu', args: ['--only', 'kernels,queue'] },
  { id: 'latency', name: 'latency', args: [] },
  { id: 'soak', name: 'soak', args: [] },
];

/** What a run of all takes from the command line. */
export interface RunAllOptions {
  readonly quick: boolean;
  /** Ids or benchmark names to leave out. */
  readonly skip: ReadonlySet<string>;
  /** The Markdown file whose generated region the run replaces; `undefined` with `--no-write`. */
  readonly outputPath: string | undefined;
  /** The command as typed, for the summary. */
  readonly command: string;
}

/**
 * Runs every benchmark, one after another, each in a process of its own (a clean heap and event loop for each, and a
 * crash, such as dawn.node's, costs one benchmark and not the run), collects their reports over IPC, prints a summary
 * table and writes it into the docs. Resolves with the exit code: 1 when any benchmark failed.
 */
export async function runAll(options: RunAllOptions): Promise<number> {
  const plan = planRuns();
  const chosen = plan.filter((step) => !options.skip.has(step.id) && !options.skip.has(step.name));
  const skipped = plan.filter((step) => !chosen.includes(step)).map((step) => step.id);
  const startedAt = new Date();
  const entries: RunEntry[] = [];
  for (const [index, step] of chosen.entries()) {
    const position: ProgressPosition = { index: index + 1, total: chosen.length, runStartedAtMs: startedAt.getTime() };
    console.log(`\n=== [${position.index}/${position.total}] ${step.id}: npm run bench -- ${[step.name, ...step.args].join(' ')}`);
    const stepStartedAt = Date.now();
    const report = await runInChild(step, options.quick, position);
    entries.push({ id: step.id, report, durationMs: Date.now() - stepStartedAt });
    console.log(`=== ${step.id}: ${report.status} after ${clock(Date.now() - stepStartedAt)}`);
  }
  const summary: RunSummary = {
    quick: options.quick,
    command: options.command,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    machine: describeMachine(),
    node: process.version,
    entries,
    skipped,
  };
  const region = renderSummaryRegion(summary);
  console.log(`\n${region}`);
  if (options.outputPath) {
    await writeSummaryRegion(options.outputPath, region);
    console.log(`\nwrote the summary into ${options.outputPath}`);
  }
  return entries.some((entry) => entry.report.status === 'failed') ? 1 : 0;
}

/** The preferred order, then any top-level benchmark it does not name. */
function planRuns(): PlannedRun[] {
  const distDir = fileURLToPath(new URL('..', import.meta.url));
  const names = readdirSync(distDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => entry.name.slice(0, -'.js'.length));
  const known = preferredPlan.filter((step) => names.includes(step.name));
  const others = names.filter((name) => !preferredPlan.some((step) => step.name === name)).sort();
  return [...known, ...others.map((name) => ({ id: name, name, args: [] }))];
}

/** Runs one step in a child process of `main.js`, which sends its report back before it exits. */
async function runInChild(step: PlannedRun, quick: boolean, position: ProgressPosition): Promise<BenchReport> {
  const argv = [step.name, ...step.args, ...(quick ? ['--quick'] : [])];
  const child = fork(new URL('./main.js', import.meta.url), argv, {
    env: { ...process.env, [progressVariable]: JSON.stringify(position) },
    stdio: 'inherit',
  });
  let report: BenchReport | undefined;
  child.on('message', (message: BenchReport) => (report = message));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return report ?? failedReport(step.name, argv, `its process ended (code ${code}, signal ${signal}) without a report`);
}
