/**
 * `npm run bench`: builds the benchmarks and what they use, then starts the benchmarks' command line
 * (`bench/dist/runner/main.js`) with the same arguments.
 * - `npm run bench -- <name> [options]` runs one benchmark and prints its report;
 * - `npm run bench [-- --quick] [--skip soak,gpu]` runs every benchmark, one after another, and writes the summary
 *   table into the generated region of `docs/benchmarks.md` (`--no-write` only prints it);
 * - `npm run bench -- --list` lists the benchmarks, without building anything.
 *
 * A benchmark is any top-level `bench/src/<name>.ts` that exports `run(options)`; its summary is the first line of
 * the comment that opens the file. Helpers live in subfolders, so adding a benchmark is adding one file, with nothing
 * to register here.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'bench', 'src');

/** Every benchmark as `{ name, summary }`, sorted by name. */
function listBenchmarks() {
  return readdirSync(sourceDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => {
      const source = readFileSync(join(sourceDir, entry.name), 'utf8');
      const summary = /^\/\*\*\s*\n?\s*\*?\s*(.+)$/m.exec(source)?.[1]?.trim() ?? '';
      return { name: entry.name.slice(0, -'.ts'.length), summary };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function formatList(benchmarks) {
  const width = Math.max(...benchmarks.map((benchmark) => benchmark.name.length));
  return benchmarks.map(({ name, summary }) => `  ${name.padEnd(width)}  ${summary}`).join('\n');
}

const usage = `Usage:
  npm run bench                              every benchmark; writes the summary into docs/benchmarks.md
  npm run bench -- --quick [--skip a,b]      the same, short (small counts and durations); --no-write only prints
  npm run bench -- <name> [--quick] [opts]   one benchmark
  npm run bench -- --list                    this list`;

const benchmarks = listBenchmarks();
const args = process.argv.slice(2);
if (args.includes('--list') || args.includes('--help') || args.includes('-h')) {
  console.log(`${usage}\n\nBenchmarks:\n${formatList(benchmarks)}`);
  process.exit(0);
}
const name = args[0]?.startsWith('-') ? undefined : args[0];
if (name !== undefined && !benchmarks.some((benchmark) => benchmark.name === name)) {
  console.error(`Unknown benchmark "${name}". Available benchmarks:\n${formatList(benchmarks)}`);
  process.exit(1);
}

try {
  // The filter builds the bench workspace and its dependencies only: a broken package it does not use cannot stop it.
  execFileSync('npx', ['turbo', 'run', 'build', '--filter=@celeriac/bench...', '--output-logs=errors-only'], {
    cwd: root,
    stdio: 'inherit',
  });
} catch {
  console.error('The build failed (errors above); fix it, then run the benchmark again.');
  process.exit(1);
}
const child = spawn(process.execPath, [join(root, 'bench', 'dist', 'runner', 'main.js'), ...args], { stdio: 'inherit' });
// Ctrl-C reaches the child through the terminal's process group; the parent only waits for it to finish.
process.on('SIGINT', () => {});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
