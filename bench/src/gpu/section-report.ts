import type { BenchFigure, BenchSection } from '../lib/bench-report.js';
import { formatFigure } from '../lib/format-figure.js';

export { formatFigure };

/**
 * What one part of the GPU benchmark found: a table (as `formatMarkdownTable` takes it) and the notes that say how to
 * read it, plus its headline figures for the summary. `failed` marks a wrong result or an error, which makes the run
 * exit non-zero.
 */
export interface SectionReport extends BenchSection {
  readonly figures: readonly BenchFigure[];
  readonly failed: boolean;
}

/** A byte count in MiB or GiB, e.g. `128 MiB`. */
export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${formatFigure(bytes / 2 ** 30)} GiB` : `${formatFigure(bytes / 2 ** 20)} MiB`;
}

/** The message of anything thrown, on one line. */
export function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
}
