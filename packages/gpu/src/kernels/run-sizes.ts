import { maxBlocks, scanTileSize, workgroupSize, type SizeExpr } from './kernel-spec.js';

/** The sizes of one run that a spec's {@link SizeExpr}s refer to. */
export interface RunSizes {
  /** The element count: the common length of the arrays whose length is `['n']`, or 0 without any. */
  readonly n: number;
  /** How many indices a kernel that accepts a range runs for: the range's length, else `n`. */
  readonly items: number;
  /** How many blocks reduction passes launch for this `n`: one per 256 elements, at most {@link maxBlocks}. */
  readonly blocks: number;
  /** How many blocks scan passes launch for this `n`: one per scan tile, at most {@link maxBlocks}. */
  readonly scanBlocks: number;
  /** The scalar arguments by name (only `u32` scalars appear in size expressions). */
  readonly scalars: Readonly<Record<string, number>>;
}

/**
 * The block count for `n` elements: one workgroup per `elementsPerBlock` elements up to {@link maxBlocks}, and at
 * least one so an empty input still produces the kernel's own `neutral`.
 */
export function blockCount(n: number, elementsPerBlock: number): number {
  return Math.min(Math.max(1, Math.ceil(n / elementsPerBlock)), maxBlocks);
}

/**
 * The block count as a WGSL expression of `params.n`, the same formula as {@link blockCount}. Passes that fold the
 * blocks' partials use it instead of `arrayLength`, which counts the padding of a buffer rounded up to 4 bytes (an
 * odd number of f16 partials).
 */
export function renderBlockCount(elementsPerBlock: number): string {
  return `min(max(1u, (params.n + ${elementsPerBlock - 1}u) / ${elementsPerBlock}u), ${maxBlocks}u)`;
}

/** Builds the {@link RunSizes} of a run from its element count, scalars and, for a range, its length. */
export function createRunSizes(n: number, scalars: Readonly<Record<string, number>>, items = n): RunSizes {
  return { n, items, blocks: blockCount(n, workgroupSize), scanBlocks: blockCount(n, scanTileSize), scalars };
}

/** Evaluates a size expression: the product of its factors, `n`, `items`, `blocks`, `scanBlocks` or scalar names. */
export function evaluateSize(expr: SizeExpr, sizes: RunSizes): number {
  let product = 1;
  for (const factor of expr) product *= factorValue(factor, sizes);
  return product;
}

function factorValue(factor: string, sizes: RunSizes): number {
  switch (factor) {
    case 'n':
      return sizes.n;
    case 'items':
      return sizes.items;
    case 'blocks':
      return sizes.blocks;
    case 'scanBlocks':
      return sizes.scanBlocks;
    default:
      return sizes.scalars[factor] ?? 0;
  }
}
