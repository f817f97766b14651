import { ErrorCode } from '@celeriac/core';
import { copyIf, exclusiveScan, genericScan, inclusiveScan, scanTileSize } from '@celeriac/gpu';
import { describe, expect, it } from 'vitest';
import { buildError } from './build-error.js';

const cumsum = inclusiveScan({ dtype: 'f32', scan: 'a + b', neutral: '0.0', input: 'x[i]', args: { x: 'f32[]' } });
const segmented = genericScan({
  dtype: 'i32',
  args: { x: 'i32[]', flags: 'u32[]', y: 'out i32[]' },
  input: 'x[i]',
  scan: 'a + b',
  neutral: '0',
  isSegmentStart: 'flags[i] != 0u',
  output: 'y[i] = item',
});

describe('scan specs', () => {
  it('runs three passes: blocks scan their ranges, one workgroup scans the block totals, blocks scan again', () => {
    const blocks = { kind: 'workgroups', x: ['scanBlocks'], y: [], per: 1 };
    expect(cumsum.spec.passes).toEqual([
      { entryPoint: '_upsweep', grid: blocks },
      { entryPoint: '_scanBlocks', grid: { kind: 'workgroups', x: [], y: [], per: 1 } },
      { entryPoint: '_downsweep', grid: blocks },
    ]);
    expect(cumsum.spec.scratch).toEqual([
      { name: '_partials', wgslType: '_Carry', elementBytes: 4, binding: 2, length: ['scanBlocks'] },
      { name: '_total', wgslType: 'f32', elementBytes: 4, binding: 3, length: [] },
      { name: '_scanned', wgslType: 'f32', elementBytes: 4, binding: 4, length: ['n'] },
    ]);
    expect(cumsum.spec.result).toEqual({ kind: 'array', scratch: '_scanned', dtype: 'f32' });
    expect(cumsum.spec.name).toBe('inclusiveScan');
  });

  it('scans runs of 16 elements per thread in registers, and their totals by raking in workgroup memory', () => {
    const wgsl = cumsum.spec.wgsl;
    expect(scanTileSize).toBe(16 * 256);
    expect(wgsl).toContain('const _itemsPerThread = 16u;');
    expect(wgsl).toContain('fn _scanOp(a: f32, b: f32) -> f32 {\n  return a + b;\n}');
    expect(wgsl).toContain('alias _Carry = f32;');
    expect(wgsl).toContain('var<workgroup> _threadValues: array<_Carry, 272>;');
    expect(wgsl).toContain('_acc = _combine(_acc, _v);');
    expect(wgsl).toContain('_scanned[i] = item;');
    expect(wgsl).not.toContain('subgroup');
    // Four barriers per workgroup scan, and none anywhere else.
    expect(wgsl.match(/workgroupBarrier\(\)/g)).toHaveLength(4);
  });

  it('has a subgroup variant: subgroupInclusiveAdd for a plain sum, subgroupShuffleUp for any other scan', () => {
    const [sumVariant] = cumsum.spec.variants;
    expect(sumVariant?.feature).toBe('subgroups');
    expect(sumVariant?.wgsl).toMatch(/^enable subgroups;\n/);
    expect(sumVariant?.wgsl).toContain('return subgroupInclusiveAdd(value);');
    expect(sumVariant?.wgsl.match(/workgroupBarrier\(\)/g)).toHaveLength(3);
    const maxScan = inclusiveScan({ dtype: 'i32', scan: 'max(a, b)', neutral: '-2147483648', input: 'x[i]', args: { x: 'i32[]' } });
    const [shuffled] = maxScan.spec.variants;
    expect(shuffled?.wgsl).toContain('let _up = _shuffleUp(_v, _d);');
    expect(shuffled?.wgsl).toContain('return subgroupShuffleUp(c, delta);');
    expect(shuffled?.wgsl).not.toContain('subgroupInclusiveAdd');
    // A segmented sum is not a plain sum: its carry is a struct, shuffled field by field.
    const [segmentedVariant] = segmented.spec.variants;
    expect(segmentedVariant?.wgsl).toContain('_Carry(subgroupShuffleUp(c.flag, delta), subgroupShuffleUp(c.value, delta))');
    expect(segmentedVariant?.wgsl).not.toContain('subgroupInclusiveAdd');
  });

  it('writes prevItem for an exclusive scan', () => {
    const offsets = exclusiveScan({ dtype: 'u32', scan: 'a + b', neutral: '0u', input: 'x[i]', args: { x: 'u32[]' } });
    expect(offsets.spec.wgsl).toContain('_scanned[i] = prevItem;');
    expect(offsets.spec.name).toBe('exclusiveScan');
  });

  it('carries a (flag, value) pair for a segmented scan, 8 bytes per block partial', () => {
    expect(segmented.spec.wgsl).toContain('struct _Carry {\n  flag: u32,\n  value: i32,\n}');
    expect(segmented.spec.wgsl).toContain('return _Carry(select(0u, 1u, flags[i] != 0u), x[i]);');
    expect(segmented.spec.scratch[0]).toMatchObject({ name: '_partials', elementBytes: 8 });
    expect(segmented.spec.result).toEqual({ kind: 'outputs' });
    expect(segmented.spec.wgsl).toContain('y[i] = item;');
  });

  it('compacts through an exclusive count of the predicate, returning values and the total', () => {
    const kept = copyIf({ dtype: 'f32', predicate: 'x[i] > t', value: 'x[i] * 2.0', args: { x: 'f32[]', t: 'f32' } });
    expect(kept.spec.kind).toBe('copyIf');
    expect(kept.spec.wgsl).toContain('return select(0u, 1u, x[i] > t);');
    expect(kept.spec.wgsl).toContain('if (item != prevItem) { _values[prevItem] = x[i] * 2.0; }');
    expect(kept.spec.result).toEqual({ kind: 'compacted', scratch: '_values', dtype: 'f32', count: '_total' });
    expect(structuredClone(kept.spec)).toEqual(kept.spec);
    expect(Object.isFrozen(kept.spec.passes[0])).toBe(true);
  });
});

describe('scan option validation', () => {
  const scanBase = { dtype: 'f32', scan: 'a + b', neutral: '0.0', input: 'x[i]', args: { x: 'f32[]' } };
  const genericBase = { ...scanBase, args: { x: 'f32[]', y: 'out f32[]' }, output: 'y[i] = item' };
  const copyBase = { dtype: 'f32', predicate: 'x[i] > 0.0', value: 'x[i]', args: { x: 'f32[]' } };

  const cases = [
    [inclusiveScan, scanBase, { dtype: 'f64' }, /Unsupported dtype "f64" for inclusiveScan\.dtype/],
    [inclusiveScan, scanBase, { scan: '' }, /inclusiveScan: "scan" must be a non-empty string of WGSL/],
    [exclusiveScan, scanBase, { neutral: 0 }, /exclusiveScan: "neutral" must be a non-empty string/],
    [exclusiveScan, scanBase, { input: undefined }, /"input" must be a non-empty string/],
    [inclusiveScan, scanBase, { args: { x: 'f32[]', y: 'out f32[]' } }, /argument "y" is an output/],
    [inclusiveScan, scanBase, { args: { item: 'f32[]' } }, /argument "item" is a name the generated code binds/],
    [genericScan, genericBase, { output: ' ' }, /genericScan: "output" must be a non-empty string/],
    [genericScan, genericBase, { isSegmentStart: 1 }, /"isSegmentStart" must be a non-empty string/],
    [genericScan, genericBase, { args: { x: 'f32[]', prevItem: 'f32' } }, /argument "prevItem" is a name/],
    [genericScan, genericBase, { args: { y: 'out f32[]' } }, /declare at least one input array/],
    [copyIf, copyBase, { predicate: '' }, /copyIf: "predicate" must be a non-empty string/],
    [copyIf, copyBase, { value: null }, /copyIf: "value" must be a non-empty string/],
    [copyIf, copyBase, { dtype: 'i64' }, /Unsupported dtype "i64" for copyIf\.dtype/],
    [copyIf, copyBase, { name: '1st' }, /Invalid kernel name "1st"/],
  ] as const;

  it.each(cases.map(([build, ...rest]) => [build.name, build, ...rest] as const))('%s refuses %j', (_, build, base, override, message) => {
    expect(buildError(build as (options: never) => unknown, { ...base, ...override })).toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: expect.stringMatching(message),
    });
  });
});
