import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue, type ErrorSpec } from '@celeriac/core';

/** One row of the codes table in docs/errors.md, as written there. */
interface DocumentedCode {
  readonly code: string;
  readonly httpStatus: number;
  /** `undefined` when the Retryable cell is neither "yes" nor "no". */
  readonly retryable: boolean | undefined;
}

const header = '| Code | HTTP | Retryable | Meaning and what to do |';

/** Reads the rows of the codes table: from its header to the first line that is not a table row. */
function parseCodesTable(markdown: string): DocumentedCode[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(header);
  if (start === -1) throw new Error(`docs/errors.md has no table with the header "${header}"`);
  const rows = [];
  // Skip the header and its `| --- |` separator line.
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [code = '', httpStatus = '', retryable = ''] = line.split('|').slice(1).map((cell) => cell.trim());
    rows.push({
      code: code.replaceAll('`', ''),
      httpStatus: Number(httpStatus),
      retryable: retryable === 'yes' ? true : retryable === 'no' ? false : undefined,
    });
  }
  return rows;
}

const documented = parseCodesTable(readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8'));
const catalogue: Record<string, ErrorSpec> = errorCatalogue;

describe('docs/errors.md', () => {
  it('lists exactly the codes of the error catalogue, once each', () => {
    const documentedCodes = documented.map((row) => row.code);
    expect({
      missingFromDocs: Object.keys(catalogue).filter((code) => !documentedCodes.includes(code)),
      notInCatalogue: documentedCodes.filter((code) => !(code in catalogue)),
      listedTwice: documentedCodes.filter((code, index) => documentedCodes.indexOf(code) !== index),
    }).toEqual({ missingFromDocs: [], notInCatalogue: [], listedTwice: [] });
  });

  it('lists the codes in catalogue order', () => {
    const inBoth = (code: string) => code in catalogue && documented.some((row) => row.code === code);
    expect(documented.map((row) => row.code).filter(inBoth)).toEqual(Object.keys(catalogue).filter(inBoth));
  });

  it('gives each code the HTTP status and retry default of the catalogue', () => {
    const mismatches = documented.flatMap(({ code, httpStatus, retryable }) => {
      const spec = catalogue[code];
      if (spec === undefined) return [];
      return [
        ...(httpStatus === spec.httpStatus ? [] : [`${code}: docs say HTTP ${httpStatus}, catalogue says ${spec.httpStatus}`]),
        ...(retryable === spec.retryable
          ? []
          : [`${code}: docs say retryable ${retryable ?? '(not yes/no)'}, catalogue says ${spec.retryable ? 'yes' : 'no'}`]),
      ];
    });
    expect(mismatches).toEqual([]);
  });
});
