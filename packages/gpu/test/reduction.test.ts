import { ErrorCode } from '@celeriac/core';
import { reduction } from '@celeriac/gpu';
import { describe, expect, it } from 'vitest';
import { buildError } from './build-error.js';

const dot = reduction({
  name: 'dot',
  dtype: 'f32',
  neutral: '0.0',
  map: 'x[i] * y[i]',
  reduce: 'a + b',
  args: { x: 'f32[]', y: 'f32[]' },
});

describe('reduction WGSL', () => {
  it('declares partials and result after the arguments, and a 256-wide scratch array in workgroup memory', () => {
    const wgsl = dot.spec.wgsl;
    expect(wgsl).toContain('@group(0) @binding(3) var<storage, read_write> _partials: array<f32>;');
    expect(wgsl).toContain('@group(0) @binding(4) var<storage, read_write> _result: array<f32>;');
    expect(wgsl).toContain('var<workgroup> _scratch: array<f32, 256>;');
    expect(dot.spec).toMatchObject({
      kind: 'reduction',
      scratch: [
        { name: '_partials', binding: 3, length: ['blocks'] },
        { name: '_result', binding: 4, length: [] },
      ],
      passes: [
        { entryPoint: '_main', grid: { kind: 'workgroups', x: ['blocks'], y: [], per: 1 } },
        { entryPoint: '_finish', grid: { kind: 'workgroups', x: [], y: [], per: 1 } },
      ],
      result: { kind: 'value', scratch: '_result', dtype: 'f32' },
    });
  });

  it('wraps the reduce expression in a function of a and b, and the map expression in a grid-stride loop', () => {
    const wgsl = dot.spec.wgsl;
    expect(wgsl).toContain('fn _reduce(a: f32, b: f32) -> f32 {\n  return a + b;\n}');
    expect(wgsl).toContain('for (var i = _wid.x * 256u + _lid; i < n; i += _groups.x * 256u) {');
    expect(wgsl).toContain('_acc = _reduce(_acc, x[i] * y[i]);');
    expect(wgsl).toContain('var _acc: f32 = 0.0;');
  });

  it('reduces in a tree with a barrier after every step, then finishes the partials in a second entry point', () => {
    const wgsl = dot.spec.wgsl;
    expect(wgsl).toContain('for (var _stride = 128u; _stride > 0u; _stride >>= 1u) {');
    expect(wgsl.match(/workgroupBarrier\(\);/g)).toHaveLength(2);
    expect(wgsl).toContain('fn _finish(@builtin(local_invocation_index) _lid: u32)');
    expect(wgsl).toContain('for (var _k = _lid; _k < min(max(1u, (params.n + 255u) / 256u), 1024u); _k += 256u) {');
  });

  it('carries a subgroup variant with the same bindings: a shuffle butterfly, then one fold per subgroup', () => {
    expect(dot.spec.variants).toHaveLength(1);
    const [variant] = dot.spec.variants;
    expect(variant?.feature).toBe('subgroups');
    expect(variant?.wgsl.startsWith('enable subgroups;\n')).toBe(true);
    expect(variant?.wgsl).toContain('_v = _reduce(_v, subgroupShuffleXor(_v, _offset));');
    expect(variant?.wgsl).toContain('@group(0) @binding(3) var<storage, read_write> _partials: array<f32>;');
    expect(dot.spec.wgsl).not.toContain('subgroup');
  });

  it('binds scalars for the map expression', () => {
    const kernel = reduction({ dtype: 'i32', neutral: '0', map: 'x[i] * k', reduce: 'a + b', args: { x: 'i32[]', k: 'i32' } });
    expect(kernel.spec.wgsl).toContain('  let k = params.k;');
    expect(kernel.spec.scalars).toEqual([{ name: 'k', dtype: 'i32' }]);
    expect(kernel.spec.name).toBe('reduction');
  });
});

describe('reduction option validation', () => {
  const base = { dtype: 'f32', neutral: '0.0', map: 'x[i]', reduce: 'a + b', args: { x: 'f32[]' } };

  it.each([
    [{ dtype: 'f64' }, /Unsupported dtype "f64" for reduction\.dtype\. Supported dtypes are f32, i32, u32/],
    [{ args: { z: 'out f32[]', x: 'f32[]' } }, /argument "z" is an output, but this kernel returns its own result/],
    [{ args: { a: 'f32' } }, /declare at least one input array/],
    [{ map: ' ' }, /"map" must be a non-empty string of WGSL/],
    [{ reduce: undefined }, /"reduce" must be a non-empty string of WGSL/],
    [{ neutral: 0 }, /"neutral" must be a non-empty string of WGSL/],
  ])('refuses %j', (override, message) => {
    expect(buildError(reduction, { ...base, ...override })).toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: expect.stringMatching(message),
    });
  });
});
