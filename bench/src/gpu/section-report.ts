import type { BenchFigure, BenchSection } from '../lib/bench-report.js';

/**
 * What one part of the GPU benchmark found: a table (as `formatMarkdownTable` takes it) and the notes that say how to
 * read it, plus its headline figures for the summary. `failed` marks a wrong result or an error, which makes the run
 * exit non-zero.
 */
export interface SectionReport extends BenchSection {
  readonly figures: readonly BenchFigure[];
  readonly failed: boolean;
}
