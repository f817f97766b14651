import { CeleriacError, ErrorCode } from '@celeriac/core';

/** A position in the job listing's order: creation time (newest first), then id. */
export interface JobCursor {
  readonly createdAtMs: number;
  readonly id: string;
}

/** Encodes a position as an opaque, URL-safe string. */
export function encodeJobCursor(cursor: JobCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAtMs, cursor.id])).toString('base64url');
}

/**
 * Reads back a cursor from {@link encodeJobCursor}.
 * @throws CeleriacError `CELERIAC_INVALID_REQUEST` for anything else
 */
export function decodeJobCursor(text: string): JobCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isFinite(value[0]) && typeof value[1] === 'string') {
      return { createdAtMs: value[0] as number, id: value[1] };
    }
  } catch {
    // not base64 JSON: reported below
  }
  throw new CeleriacError(
    ErrorCode.InvalidRequest,
    'The cursor is not one this API issued. Pass the nextCursor of the previous page unchanged, or leave it out to start from the first page.',
    { details: { cursor: text.slice(0, 100) } },
  );
}

/** Whether a job at `(createdAtMs, id)` comes after `cursor` in the listing's order (newest first, then by id). */
export function isAfterCursor(createdAtMs: number, id: string, cursor: JobCursor): boolean {
  return createdAtMs < cursor.createdAtMs || (createdAtMs === cursor.createdAtMs && id > cursor.id);
}

/** The listing's order: newest first, then by id, so equal times still have one order. */
export function compareForListing(a: JobCursor, b: JobCursor): number {
  return b.createdAtMs - a.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
