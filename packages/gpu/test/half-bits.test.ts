import { ErrorCode } from '@celeriac/core';
import { createGpuExecutor, elementwise, fromHalfBits, toHalfBits } from '@celeriac/gpu';
import { describe, expect, it } from 'vitest';

describe('toHalfBits / fromHalfBits', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65_504, 0x7bff],
    [65_519, 0x7bff], // just below the tie: rounds down
    [65_520, 0x7c00], // the tie between 65504 and 65536 goes to even: Infinity
    [1e6, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -24, 0x0001], // the smallest subnormal
    [2 ** -25, 0x0000], // the tie between 0 and it goes to even: 0
    [1.5 * 2 ** -24, 0x0002], // the tie between 1 and 2 units goes to even: 2
    [2 ** -14, 0x0400], // the smallest normal
    [1 + 2 ** -11, 0x3c00], // the tie above 1 goes to even: 1
    [1 + 3 * 2 ** -11, 0x3c02], // the next tie goes up to even
    [-0, 0x8000],
  ])('converts %d to 0x%s', (value, bits) => {
    expect(toHalfBits(new Float32Array([value]))[0]?.toString(16)).toBe(bits.toString(16));
  });

  it('keeps NaN a NaN', () => {
    const [bits = 0] = toHalfBits(new Float32Array([Number.NaN]));
    expect(bits & 0x7c00).toBe(0x7c00);
    expect(bits & 0x3ff).not.toBe(0);
    expect(fromHalfBits(new Uint16Array([bits]))[0]).toBeNaN();
  });

  it('round-trips every finite and infinite f16 exactly', () => {
    const all = new Uint16Array(65_536).map((_, i) => i);
    const numbers = all.filter((bits) => (bits & 0x7c00) !== 0x7c00 || (bits & 0x3ff) === 0);
    expect(toHalfBits(fromHalfBits(numbers))).toEqual(numbers);
  });
});

describe('f16 arguments, before any process starts', () => {
  const executor = createGpuExecutor();
  const scale = elementwise({ args: { z: 'out f16[]', x: 'f16[]', a: 'f16' }, operation: 'z[i] = a * x[i]' });

  it('refuses a scalar outside the f16 range and an array that is not half bits', async () => {
    await expect(executor.run(scale, { x: new Uint16Array(1), a: 70_000 })).rejects.toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: expect.stringContaining('scalar "a" (f16) is 70000, outside the f16 range'),
    });
    await expect(executor.run(scale, { x: new Float32Array(1), a: 1 } as never)).rejects.toMatchObject({
      message: expect.stringContaining('argument "x" must be a Uint16Array or a GpuArray of f16 (f16[])'),
    });
    expect(executor.pid).toBeUndefined();
  });

  it('marks f16 kernels as needing shader-f16, with enable f16 first in their WGSL', () => {
    expect(scale.spec.features).toEqual(['shader-f16']);
    expect(scale.spec.wgsl.startsWith('enable f16;\n')).toBe(true);
    expect(scale.spec.wgsl).toContain('  a: f32,');
    expect(scale.spec.wgsl).toContain('let a = f16(params.a);');
    const plain = elementwise({ args: { z: 'out f32[]', x: 'f32[]' }, operation: 'z[i] = x[i]' });
    expect(plain.spec.features).toEqual([]);
    expect(plain.spec.wgsl).not.toContain('enable f16');
  });
});
