/** How a column's cells line up: numbers to the right, text to the left. */
export type ColumnAlignment = 'left' | 'right';

/**
 * Formats rows as a Markdown table with padded columns: readable in a terminal, and pasted as is into
 * `docs/benchmarks.md`. By default columns after the first are right-aligned, as numbers are; pass `alignment` for
 * tables with text columns.
 */
export function formatMarkdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  alignment: readonly ColumnAlignment[] = header.map((_, column) => (column > 0 ? 'right' : 'left')),
): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const right = (column: number): boolean => alignment[column] === 'right';
  const line = (cells: readonly string[]): string =>
    `| ${widths.map((width, column) => pad(cells[column] ?? '', width, right(column))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => `${'-'.repeat(width + 1)}${right(column) ? ':' : '-'}`).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function pad(text: string, width: number, right: boolean): string {
  return right ? text.padStart(width) : text.padEnd(width);
}
