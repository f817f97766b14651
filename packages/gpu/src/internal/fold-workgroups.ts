import { CeleriacError, ErrorCode } from '@celeriac/core';

/** A dispatch size in workgroups. */
export interface WorkgroupGrid {
  readonly x: number;
  readonly y: number;
}

/**
 * Spreads `count` workgroups over a 2-D grid when one dimension cannot hold them. WebGPU caps each dimension at
 * `maxComputeWorkgroupsPerDimension` (65535 by default, so 16.7M elements at 256 threads per group); folding gives
 * `y` rows of `x` groups, with `x * y >= count` and fewer than `y` spare groups. The generated kernels compute
 * `i = gid.y * x * workgroupSize + gid.x` and skip `i >= n`.
 *
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` when even a square grid cannot hold `count`
 */
export function foldWorkgroups(count: number, maxPerDimension: number): WorkgroupGrid {
  if (count <= maxPerDimension) return { x: count, y: 1 };
  const y = Math.ceil(count / maxPerDimension);
  if (y > maxPerDimension) {
    throw new CeleriacError(
      ErrorCode.KernelInvalidArguments,
      `A dispatch of ${count} workgroups does not fit in a ${maxPerDimension} x ${maxPerDimension} grid. ` +
        'Split the input into smaller calls.',
      { details: { count, maxPerDimension } },
    );
  }
  // The fewest groups per row for y rows: balances rows, so at most y - 1 groups fall past the end.
  return { x: Math.ceil(count / y), y };
}
