import { afterEach } from 'vitest';

/** Registers cleanups for the current test; {@link useChaosScope} runs them after it, whatever its outcome. */
export interface ChaosScope {
  /** Runs `cleanup` after the test, after every cleanup registered later (last in, first out). */
  defer(cleanup: () => unknown): void;
}

/**
 * Gives a chaos test file a place to register the processes, servers and folders each test creates, and tears them
 * all down after each test even when it failed half-way: a leftover worker would keep consuming the next test's
 * Redis, and a leftover redis-server would hold its port. A failing cleanup does not stop the others.
 */
export function useChaosScope(): ChaosScope {
  let cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    const pending = cleanups.reverse();
    cleanups = [];
    const errors: unknown[] = [];
    for (const cleanup of pending) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'chaos cleanup failed');
  });
  return { defer: (cleanup) => void cleanups.push(cleanup) };
}

/** True when `CELERIAC_CHAOS_FULL=1` asks for the full-size run (nightly), else the default size (every `npm test`). */
export const chaosFull = process.env['CELERIAC_CHAOS_FULL'] === '1';

/** Picks the default or the full size of a scenario parameter. */
export function chaosSize<T>(defaultSize: T, fullSize: T): T {
  return chaosFull ? fullSize : defaultSize;
}

/** Prints one scenario's figures as a single line, for docs/reliability.md. */
export function reportChaos(scenario: string, figures: Readonly<Record<string, string | number | boolean>>): void {
  const text = Object.entries(figures)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  console.log(`[chaos] ${scenario}: ${text}`);
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A whole number of milliseconds, uniformly between `minMs` and `maxMs`. */
export const randomBetween = (minMs: number, maxMs: number): number => Math.round(minMs + Math.random() * (maxMs - minMs));
