import { ErrorCode } from '@celeriac/core';
import { elementwise } from '@celeriac/gpu';
import { describe, expect, it } from 'vitest';
import { buildError } from './build-error.js';

const axpby = elementwise({
  name: 'axpby',
  args: { z: 'out f32[]', a: 'f32', x: 'f32[]', b: 'f32', y: 'f32[]' },
  operation: 'z[i] = a * x[i] + b * y[i]',
});

describe('elementwise WGSL', () => {
  it('puts scalars in one uniform block after n and the range, and binds them by name', () => {
    expect(axpby.spec.wgsl).toContain('struct Params {\n  n: u32,\n  _start: u32,\n  _step: u32,\n  _count: u32,\n  a: f32,\n  b: f32,\n}');
    expect(axpby.spec.wgsl).toContain('@group(0) @binding(0) var<uniform> params: Params;');
    expect(axpby.spec.wgsl).toContain('  let a = params.a;\n  let b = params.b;');
  });

  it('binds arrays in declaration order: inputs read-only, outputs read-write', () => {
    const wgsl = axpby.spec.wgsl;
    expect(wgsl).toContain('@group(0) @binding(1) var<storage, read_write> z: array<f32>;');
    expect(wgsl).toContain('@group(0) @binding(2) var<storage, read> x: array<f32>;');
    expect(wgsl).toContain('@group(0) @binding(3) var<storage, read> y: array<f32>;');
    expect(axpby.spec.arrays).toEqual([
      { name: 'z', dtype: 'f32', binding: 1, output: true, length: ['n'] },
      { name: 'x', dtype: 'f32', binding: 2, output: false, length: ['n'] },
      { name: 'y', dtype: 'f32', binding: 3, output: false, length: ['n'] },
    ]);
    // One pass of one thread per index of the range (every element without one); the result is the outputs by name.
    expect(axpby.spec.passes).toEqual([{ entryPoint: '_main', grid: { kind: 'threads', count: ['items'] } }]);
    expect(axpby.spec.acceptsRange).toBe(true);
    expect(axpby.spec.result).toEqual({ kind: 'outputs' });
    expect(axpby.spec.scalars).toEqual([
      { name: 'a', dtype: 'f32' },
      { name: 'b', dtype: 'f32' },
    ]);
  });

  it('computes a folded 2-D item number, checks it against the range, maps it to i, then runs the operation verbatim', () => {
    const wgsl = axpby.spec.wgsl;
    expect(wgsl).toContain('@compute @workgroup_size(256)\nfn _main(');
    expect(wgsl).toContain('let _item = _gid.y * _groups.x * 256u + _gid.x;');
    expect(wgsl).toContain('let i = params._start + _item * params._step;');
    expect(wgsl.indexOf('if (_item >= params._count)')).toBeLessThan(wgsl.indexOf('let i = '));
    expect(wgsl.indexOf('let i = ')).toBeLessThan(wgsl.indexOf('z[i] = a * x[i] + b * y[i];'));
  });

  it('keeps a trailing semicolon or block and places the preamble before the kernel', () => {
    const kernel = elementwise({
      args: { z: 'out u32[]', x: 'u32[]' },
      preamble: 'fn twice(v: u32) -> u32 { return 2u * v; }',
      operation: 'if (x[i] > 0u) { z[i] = twice(x[i]); }',
    });
    expect(kernel.spec.wgsl).toContain('if (x[i] > 0u) { z[i] = twice(x[i]); }\n}');
    expect(kernel.spec.wgsl.indexOf('fn twice')).toBeLessThan(kernel.spec.wgsl.indexOf('fn _main'));
    expect(kernel.spec.name).toBe('elementwise');
  });

  it('makes a frozen spec of plain data that survives structured cloning (the IPC format)', () => {
    expect(Object.isFrozen(axpby.spec)).toBe(true);
    expect(Object.isFrozen(axpby.spec.arrays[0])).toBe(true);
    expect(structuredClone(axpby.spec)).toEqual(axpby.spec);
    expect(JSON.parse(JSON.stringify(axpby.spec))).toEqual(axpby.spec);
  });

  it('generates the same WGSL for the same declaration, so the pipeline cache can share it', () => {
    const again = elementwise({
      name: 'axpby',
      args: { z: 'out f32[]', a: 'f32', x: 'f32[]', b: 'f32', y: 'f32[]' },
      operation: 'z[i] = a * x[i] + b * y[i]',
    });
    expect(again.spec.wgsl).toBe(axpby.spec.wgsl);
  });
});

describe('elementwise option validation', () => {
  const base = { args: { z: 'out f32[]', x: 'f32[]' }, operation: 'z[i] = x[i]' };

  it.each([
    ['f64[]', /Unsupported dtype "f64" for argument "x"\. Supported dtypes are f32, i32, u32/],
    ['i64', /Unsupported dtype "i64" for argument "x"/],
    ['float[]', /Unsupported dtype "float"/],
  ])('refuses dtype %s and names the supported ones', (descriptor, message) => {
    const error = buildError(elementwise, { ...base, args: { z: 'out f32[]', x: descriptor } });
    expect(error).toMatchObject({ code: ErrorCode.KernelInvalidArguments, message: expect.stringMatching(message) });
  });

  it.each([
    ['let', /keyword, reserved word or type name/],
    ['f32', /keyword, reserved word or type name/],
    ['static', /keyword, reserved word or type name/],
    ['i', /binds "i", "n", "params" itself/],
    ['params', /binds "i", "n", "params" itself/],
    ['2x', /starting with a letter/],
    ['_x', /starting with a letter/],
    ['x-y', /ASCII letters, digits and "_"/],
  ])('refuses argument name %j', (name, message) => {
    const error = buildError(elementwise, { ...base, args: { z: 'out f32[]', [name]: 'f32[]' } });
    expect(error).toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: expect.stringMatching(message),
      details: { name },
    });
  });

  it.each([
    [{ z: 'out f32' }, /outputs must be arrays\. Declare it 'out f32\[\]'/],
    [{ z: 'out f32[]', x: 'f32[][]' }, /Argument "x" has descriptor "f32\[\]\[\]"/],
    [{ z: 'out f32[]', x: 3 }, /Argument "x" has descriptor 3/],
    [{ z: 'out f32[]', a: 'f32' }, /declare at least one input array/],
    [{}, /declare at least one input array/],
  ])('refuses args %j', (args, message) => {
    expect(buildError(elementwise, { ...base, args })).toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: expect.stringMatching(message),
    });
  });

  it.each([
    [{ operation: '' }, /"operation" must be a non-empty string of WGSL/],
    [{ operation: undefined }, /"operation" must be a non-empty string/],
    [{ args: null }, /"args" must be an object/],
    [{ name: 'my kernel' }, /Invalid kernel name "my kernel"/],
    [{ preamble: 42 }, /"preamble" must be a string/],
  ])('refuses options %j', (override, message) => {
    expect(buildError(elementwise, { ...base, ...override })).toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: expect.stringMatching(message),
    });
  });
});
