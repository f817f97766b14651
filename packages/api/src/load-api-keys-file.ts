import { readFileSync } from 'node:fs';
import { CeleriacError, ErrorCode, formatValidationIssues, toValidationIssues } from '@celeriac/core';
import { apiKeyRecordSchema, type ApiKeyRecord } from './api-key-record.js';

/**
 * Reads an API key file: JSON lines (one `{ "id", "hash", "scopes" }` object a line, as `celeriac api-key create`
 * prints them; blank lines and lines starting with `#` are skipped) or one JSON array of those objects. The file
 * holds hashes only, never keys. It is read once, at start-up: restart the API after adding or revoking a key.
 *
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming the file and line of the first bad entry, a duplicate id,
 * or a file that cannot be read
 */
export function loadApiKeysFile(path: string): ApiKeyRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalid(`Cannot read the API key file ${path} (${(error as Error).message}). Check the path and its permissions.`, { path }, error);
  }
  const entries = text.trimStart().startsWith('[') ? fromArray(path, text) : fromLines(path, text);
  const records = entries.map(({ where, value }) => {
    const parsed = apiKeyRecordSchema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issues = toValidationIssues(parsed.error, where);
    throw invalid(`Invalid API key entry: ${formatValidationIssues(issues)}. Fix the entry or print a new one with celeriac api-key create.`, { path, issues });
  });
  const seen = new Set<string>();
  for (const record of records) {
    if (seen.has(record.id)) throw invalid(`The API key file ${path} lists the id "${record.id}" twice. Give each key its own id.`, { path, id: record.id });
    seen.add(record.id);
  }
  return records;
}

function fromArray(path: string, text: string): { where: string; value: unknown }[] {
  const value = parseJson(path, text, path);
  if (!Array.isArray(value)) throw invalid(`The API key file ${path} must be JSON lines or one JSON array.`, { path });
  return value.map((entry, index) => ({ where: `${path}[${index}]`, value: entry }));
}

function fromLines(path: string, text: string): { where: string; value: unknown }[] {
  return text
    .split('\n')
    .map((line, index) => ({ line: line.trim(), where: `${path}:${index + 1}` }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'))
    .map(({ line, where }) => ({ where, value: parseJson(path, line, where) }));
}

function parseJson(path: string, text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(`${where} is not valid JSON (${(error as Error).message}). Each line is one { "id", "hash", "scopes" } object.`, { path }, error);
  }
}

function invalid(message: string, details: Record<string, unknown>, cause?: unknown): CeleriacError {
  return new CeleriacError(ErrorCode.InvalidOptions, message, { details, ...(cause === undefined ? {} : { cause }) });
}
