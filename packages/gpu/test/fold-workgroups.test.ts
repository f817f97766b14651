import { ErrorCode } from '@celeriac/core';
import { describe, expect, it } from 'vitest';
// An internal module, imported from source: the fold is not public API, but its index math deserves its own test.
import { foldWorkgroups } from '../src/internal/fold-workgroups.js';

/**
 * The index every generated elementwise kernel computes, `i = gid.y * groups.x * workgroupSize + gid.x`, for
 * `gid = workgroup * workgroupSize + local` in x and `gid.y = workgroup row`.
 */
function globalIndex(row: number, column: number, local: number, groupsX: number, workgroupSize: number): number {
  return row * groupsX * workgroupSize + column * workgroupSize + local;
}

describe('foldWorkgroups', () => {
  it('keeps a dispatch that fits in one row', () => {
    expect(foldWorkgroups(0, 65_535)).toEqual({ x: 0, y: 1 });
    expect(foldWorkgroups(1, 65_535)).toEqual({ x: 1, y: 1 });
    expect(foldWorkgroups(65_535, 65_535)).toEqual({ x: 65_535, y: 1 });
  });

  it('folds one past the limit into two balanced rows', () => {
    expect(foldWorkgroups(65_536, 65_535)).toEqual({ x: 32_768, y: 2 });
  });

  it.each([4, 5, 7, 9, 10, 16, 17, 49])('covers every index below n exactly once for %i workgroups of 4 with at most 7 per row', (count) => {
    const [workgroupSize, max] = [4, 7];
    const { x, y } = foldWorkgroups(count, max);
    expect(x).toBeLessThanOrEqual(max);
    expect(y).toBeLessThanOrEqual(max);
    expect(x * y).toBeGreaterThanOrEqual(count);
    expect(x * y - count).toBeLessThan(y); // balanced rows waste less than one workgroup per row
    const n = count * workgroupSize - 1; // a partial last workgroup, as when n is not a multiple of 256
    const seen = new Array<number>(n).fill(0);
    for (let row = 0; row < y; row++) {
      for (let column = 0; column < x; column++) {
        for (let local = 0; local < workgroupSize; local++) {
          const i = globalIndex(row, column, local, x, workgroupSize);
          if (i < n) seen[i] = (seen[i] ?? 0) + 1; // the kernel's bounds check drops i >= n
        }
      }
    }
    expect(seen.every((hits) => hits === 1)).toBe(true);
  });

  it('refuses a dispatch that even a square grid cannot hold', () => {
    expect(() => foldWorkgroups(50, 7)).toThrow(expect.objectContaining({ code: ErrorCode.KernelInvalidArguments }));
  });

  it('folds the largest f32 array lavapipe binds (128 MiB) within the default limit', () => {
    const { x, y } = foldWorkgroups((128 * 2 ** 20) / 4 / 256, 65_535);
    expect([x, y]).toEqual([43_691, 3]);
  });
});
