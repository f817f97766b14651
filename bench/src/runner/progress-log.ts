import { performance } from 'node:perf_hooks';

/** Where a benchmark sits in a run of several, passed to each benchmark's process in `CELERIAC_BENCH_PROGRESS`. */
export interface ProgressPosition {
  /** 1-based. */
  readonly index: number;
  readonly total: number;
  /** `Date.now()` when the whole run started. */
  readonly runStartedAtMs: number;
}

/** The variable a run of several benchmarks passes each benchmark's process its position in. */
export const progressVariable = 'CELERIAC_BENCH_PROGRESS';

/** The position from the environment, or that of a benchmark run alone. */
export function readProgressPosition(): ProgressPosition {
  const text = process.env[progressVariable];
  if (text) return JSON.parse(text) as ProgressPosition;
  return { index: 1, total: 1, runStartedAtMs: Date.now() };
}

/**
 * A `log` for one benchmark that prefixes every line with which benchmark it is, its place in the run, and the time
 * elapsed in it and in the whole run: `[latency 6/7 · 0:42 · total 4:10] …`. A run of every benchmark takes many
 * minutes, and a line that says where it is and how long it has been going tells a stuck step from a slow one.
 */
export function createProgressLog(label: string, position: ProgressPosition): (line: string) => void {
  const startedAt = performance.now();
  return (line) => {
    const here = clock(performance.now() - startedAt);
    const total = clock(Date.now() - position.runStartedAtMs);
    const where = position.total > 1 ? ` ${position.index}/${position.total}` : '';
    const totalPart = position.total > 1 ? ` · total ${total}` : '';
    console.log(`[${label}${where} · ${here}${totalPart}] ${line}`);
  };
}

/** `m:ss` (or `h:mm:ss`) of a duration in ms. */
export function clock(ms: number): string {
  const seconds = Math.floor(ms / 1_000);
  const [h, m, s] = [Math.floor(seconds / 3_600), Math.floor(seconds / 60) % 60, seconds % 60];
  const mmss = `${h > 0 ? String(m).padStart(2, '0') : m}:${String(s).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}
