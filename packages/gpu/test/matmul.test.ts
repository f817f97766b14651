import { ErrorCode } from '@celeriac/core';
import { createGpuExecutor, matmul } from '@celeriac/gpu';
import { describe, expect, it } from 'vitest';

const mm = matmul({ dtype: 'f32' });

describe('matmul spec', () => {
  it('dispatches one 16 x 16 workgroup per output tile and returns the product array', () => {
    expect(mm.spec.passes).toEqual([{ entryPoint: '_main', grid: { kind: 'workgroups', x: ['cols'], y: ['rows'], per: 16 } }]);
    expect(mm.spec.arrays).toEqual([
      { name: 'a', dtype: 'f32', binding: 1, output: false, length: ['rows', 'inner'] },
      { name: 'b', dtype: 'f32', binding: 2, output: false, length: ['inner', 'cols'] },
    ]);
    expect(mm.spec.result).toEqual({ kind: 'array', scratch: '_c', dtype: 'f32' });
  });

  it('stages tiles of a and b in workgroup memory between barriers', () => {
    const wgsl = mm.spec.wgsl;
    expect(wgsl).toContain('var<workgroup> _aTile: array<array<f32, 16>, 16>;');
    expect(wgsl).toContain('@compute @workgroup_size(16, 16)');
    expect(wgsl.match(/workgroupBarrier\(\);/g)).toHaveLength(2);
    expect(wgsl).toContain('_sum += _aTile[_local.y][_k] * _bTile[_k][_local.x];');
  });

  it('refuses a bad dtype or name', () => {
    expect(() => matmul({ dtype: 'f64' } as never)).toThrow(
      expect.objectContaining({ code: ErrorCode.KernelInvalidArguments, message: expect.stringContaining('matmul.dtype') }),
    );
    expect(() => matmul({ dtype: 'f32', name: '' })).toThrow(expect.objectContaining({ code: ErrorCode.KernelInvalidArguments }));
  });
});

describe('matmul run argument validation, before any process starts', () => {
  const executor = createGpuExecutor();
  const [a, b] = [new Float32Array(6), new Float32Array(12)];

  it.each([
    ['a of the wrong length', { a: new Float32Array(5), b, rows: 2, inner: 3, cols: 4 }, /argument "a" must have rows \* inner = 6 elements \(rows = 2, inner = 3\); got 5/],
    ['b of the wrong length', { a, b: new Float32Array(11), rows: 2, inner: 3, cols: 4 }, /argument "b" must have inner \* cols = 12 elements \(inner = 3, cols = 4\); got 11/],
    ['a fractional size', { a, b, rows: 2.5, inner: 3, cols: 4 }, /scalar "rows" \(u32\) must be an integer/],
    ['a negative size', { a, b, rows: 2, inner: -3, cols: 4 }, /scalar "inner" \(u32\) must be an integer/],
    ['a missing size', { a, b, rows: 2, inner: 3 }, /argument "cols" is missing/],
    ['the wrong typed array', { a: new Int32Array(6), b, rows: 2, inner: 3, cols: 4 }, /argument "a" must be a Float32Array/],
  ])('refuses %s', async (_, args, message) => {
    await expect(executor.run(mm, args as never)).rejects.toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: expect.stringMatching(message),
    });
    expect(executor.pid).toBeUndefined();
  });
});
