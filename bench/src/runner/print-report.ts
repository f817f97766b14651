import type { BenchReport } from '../lib/bench-report.js';
import { formatMarkdownTable } from '../lib/markdown-table.js';

/** Prints a benchmark's report to the terminal: its context, its tables with their notes, and how it ended. */
export function printReport(report: BenchReport): void {
  console.log(`\n## ${report.title}\n`);
  console.log(`command:  ${report.command}`);
  console.log(`baseline: ${report.baseline}`);
  if (report.redis) console.log(`redis:    ${report.redis}`);
  for (const line of report.environment) console.log(`          ${line}`);
  for (const section of report.sections) {
    console.log(`\n### ${section.title}\n`);
    console.log(formatMarkdownTable(section.header, section.rows));
    if (section.notes.length > 0) console.log('');
    for (const note of section.notes) console.log(`- ${note}`);
  }
  if (report.status !== 'ok') console.log(`\n${report.status.toUpperCase()}: ${report.reason ?? ''}`);
}
