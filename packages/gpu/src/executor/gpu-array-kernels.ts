import type { Dtype } from '../kernels/dtype.js';
import { elementwise } from '../kernels/elementwise.js';
import type { KernelSpec } from '../kernels/kernel-spec.js';
import { reduction } from '../kernels/reduction.js';

/** The elementwise arithmetic of `GpuArray`, and its WGSL operator. */
const arithmeticOperators = { add: '+', sub: '-', mul: '*', div: '/' } as const;

/** One of the `GpuArray` arithmetic methods. */
export type ArithmeticOp = keyof typeof arithmeticOperators;

/** The `GpuArray` reductions; `min` and `max` start from `x[0]`, so they need no per-dtype sentinel. */
const reductions = {
  sum: { map: 'x[i]', reduce: 'a + b', neutral: 'zero', operands: ['x'] },
  dot: { map: 'x[i] * y[i]', reduce: 'a + b', neutral: 'zero', operands: ['x', 'y'] },
  min: { map: 'x[i]', reduce: 'min(a, b)', neutral: 'x[0]', operands: ['x'] },
  max: { map: 'x[i]', reduce: 'max(a, b)', neutral: 'x[0]', operands: ['x'] },
} as const;

/** One of the `GpuArray` reductions. */
export type ReductionOp = keyof typeof reductions;

const cache = new Map<string, KernelSpec>();

function cached(key: string, build: () => KernelSpec): KernelSpec {
  let spec = cache.get(key);
  if (spec === undefined) {
    spec = build();
    cache.set(key, spec);
  }
  return spec;
}

/**
 * The kernel behind `x.add(y)` and friends: `z[i] = x[i] op y[i]` for an array operand, `z[i] = x[i] op s` for a
 * scalar one. Built once per (op, dtype, operand) and shared, so the executor's pipeline cache hits every time.
 */
export function arithmeticKernel(op: ArithmeticOp, dtype: Dtype, operand: 'array' | 'scalar'): KernelSpec {
  return cached(`${op}:${dtype}:${operand}`, () => {
    const right = operand === 'array' ? 'y[i]' : 's';
    return elementwise({
      name: `gpuArray_${op}_${operand}_${dtype}`,
      args: { z: `out ${dtype}[]`, x: `${dtype}[]`, ...(operand === 'array' ? { y: `${dtype}[]` } : { s: dtype }) },
      operation: `z[i] = x[i] ${arithmeticOperators[op]} ${right}`,
    }).spec;
  });
}

/** The reduction behind `x.sum()`, `x.dot(y)`, `x.min()` and `x.max()`, built once per (op, dtype). */
export function reductionKernel(op: ReductionOp, dtype: Dtype): KernelSpec {
  return cached(`${op}:${dtype}`, () => {
    const { map, reduce, neutral, operands } = reductions[op];
    return reduction({
      name: `gpuArray_${op}_${dtype}`,
      dtype,
      map,
      reduce,
      neutral: neutral === 'zero' ? `${dtype}(0)` : neutral,
      args: Object.fromEntries(operands.map((name) => [name, `${dtype}[]` as const])),
    }).spec;
  });
}
