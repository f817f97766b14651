import type { GpuKernel } from '@celeriac/core';
import type { GpuArray } from '../executor/gpu-array.js';
import { resolveKernelName } from './builder-options.js';
import { assertDtype, type Dtype, type TypedArrayFor } from './dtype.js';
import { appendScratch, dtypeScratch, renderLayoutDeclarations, renderScalarLets, renderScratchDeclarations, type KernelLayout } from './kernel-layout.js';
import { GridKind, KernelKind, ResultKind, finishKernelSpec, paramsBinding, type KernelSpec, type KernelSpecDraft } from './kernel-spec.js';

/** Rows and columns of the square tiles each workgroup loads into workgroup memory: 16 x 16 = 256 threads. */
export const matmulTile = 16;

/** What you pass to {@link matmul}. */
export interface MatmulOptions<D extends Dtype> {
  /** A label for messages and GPU tools. Default `matmul`. */
  readonly name?: string;
  /** The element type of both matrices and of the product. */
  readonly dtype: D;
}

/**
 * The run arguments of a {@link matmul} kernel: `a` is `rows x inner` and `b` is `inner x cols`, both row-major.
 * (`rows`, `inner` and `cols` rather than M, K, N, because `n` is every kernel's element count.)
 */
export interface MatmulArgs<D extends Dtype> {
  a: TypedArrayFor<D> | GpuArray<D>;
  b: TypedArrayFor<D> | GpuArray<D>;
  rows: number;
  inner: number;
  cols: number;
}

/** A kernel made by {@link matmul}: running it resolves to the `rows x cols` product, row-major. */
export interface MatmulKernel<D extends Dtype> extends GpuKernel<MatmulArgs<D>, TypedArrayFor<D>> {
  readonly spec: KernelSpec;
}

/**
 * Builds a dense matrix product `c = a · b`, with the shared-memory tiling of the CUDA programming guide and the
 * PyCUDA cookbook: each 16 x 16 workgroup computes a 16 x 16 tile of `c`, walking `inner` in steps of 16; at each
 * step its threads load one tile of `a` and one of `b` into workgroup memory (CUDA's shared memory), wait at a
 * barrier, and accumulate 16 products each from there, so each element of `a` and `b` is read from global memory
 * `cols / 16` and `rows / 16` times instead of `cols` and `rows` times. Any sizes work: tiles past an edge are
 * padded with zeros. Integer products wrap like WGSL arithmetic.
 *
 * @example
 * ```ts
 * const mm = matmul({ dtype: 'f32' });
 * const c = await executor.run(mm, { a, b, rows: 2, inner: 3, cols: 4 }); // Float32Array of 2 * 4
 * ```
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` for a bad name or dtype; at run time, when `a` or `b`
 *   does not hold `rows * inner` or `inner * cols` elements
 */
export function matmul<const D extends Dtype>(options: MatmulOptions<D>): MatmulKernel<D> {
  const name = resolveKernelName(options.name, 'matmul');
  assertDtype(options.dtype, `${name}.dtype`);
  const dtype: Dtype = options.dtype;
  const layout: KernelLayout = {
    scalars: ['rows', 'inner', 'cols'].map((scalar) => ({ name: scalar, dtype: 'u32' as const })),
    arrays: [
      { name: 'a', dtype, binding: paramsBinding + 1, output: false, length: ['rows', 'inner'] },
      { name: 'b', dtype, binding: paramsBinding + 2, output: false, length: ['inner', 'cols'] },
    ],
  };
  const scratch = appendScratch(layout, [dtypeScratch('_c', dtype, ['rows', 'cols'])]);
  const spec: KernelSpecDraft = {
    kind: KernelKind.Matmul,
    name,
    wgsl: `${renderLayoutDeclarations(layout)}\n${renderScratchDeclarations(scratch)}\n\n${renderTiledProduct(layout, dtype)}`,
    variants: [],
    ...layout,
    scratch,
    passes: [{ entryPoint: '_main', grid: { kind: GridKind.Workgroups, x: ['cols'], y: ['rows'], per: matmulTile } }],
    result: { kind: ResultKind.Array, scratch: '_c', dtype },
  };
  return Object.freeze({ spec: finishKernelSpec(spec) });
}

function renderTiledProduct(layout: KernelLayout, t: Dtype): string {
  const s = matmulTile;
  return `var<workgroup> _aTile: array<array<${t}, ${s}>, ${s}>;
var<workgroup> _bTile: array<array<${t}, ${s}>, ${s}>;

@compute @workgroup_size(${s}, ${s})
fn _main(@builtin(local_invocation_id) _local: vec3<u32>, @builtin(workgroup_id) _wid: vec3<u32>) {
${renderScalarLets(layout, '  ')}
  let _row = _wid.y * ${s}u + _local.y;
  let _col = _wid.x * ${s}u + _local.x;
  var _sum = ${t}(0);
  for (var _k0 = 0u; _k0 < inner; _k0 += ${s}u) {
    // Each thread loads one element of each tile; past an edge it loads 0, so the products below need no bounds.
    let _ak = _k0 + _local.x;
    let _bk = _k0 + _local.y;
    var _av = ${t}(0);
    var _bv = ${t}(0);
    if (_row < rows && _ak < inner) {
      _av = a[_row * inner + _ak];
    }
    if (_bk < inner && _col < cols) {
      _bv = b[_bk * cols + _col];
    }
    _aTile[_local.y][_local.x] = _av;
    _bTile[_local.y][_local.x] = _bv;
    // Both tiles are complete before anyone reads them, and fully read before the next step overwrites them.
    workgroupBarrier();
    for (var _k = 0u; _k < ${s}u; _k++) {
      _sum += _aTile[_local.y][_k] * _bTile[_k][_local.x];
    }
    workgroupBarrier();
  }
  if (_row < rows && _col < cols) {
    _c[_row * cols + _col] = _sum;
  }
}
`;
}
