import type { Dtype } from './dtype.js';
import { workgroupSize } from './kernel-spec.js';

/**
 * How a workgroup folds one value per thread into one value, as WGSL: `_reduceWorkgroup(_lid, value…)` returns the
 * workgroup's total to every thread. Generators call it through {@link WorkgroupReducer.call} and add
 * {@link WorkgroupReducer.builtins} to the entry point, so one kernel template serves both strategies.
 */
export interface WorkgroupReducer {
  /** The WGSL `enable` directive the strategy needs, or `''`. */
  readonly enable: string;
  /** Extra entry-point parameters (builtins), each starting with `, `. */
  readonly builtins: string;
  /** The call, for a value expression. */
  call(value: string): string;
  /** The `_reduceWorkgroup` function and the workgroup memory it uses, for values of type `t`. */
  render(t: Dtype): string;
}

/** The portable strategy: a tree in workgroup memory (CUDA's shared memory), 8 halving steps for 256 threads. */
export const treeReducer: WorkgroupReducer = {
  enable: '',
  builtins: '',
  call: (value) => `_reduceWorkgroup(_lid, ${value})`,
  render: (t) => `var<workgroup> _scratch: array<${t}, ${workgroupSize}>;

fn _reduceWorkgroup(_lid: u32, value: ${t}) -> ${t} {
  _scratch[_lid] = value;
  workgroupBarrier();
  for (var _stride = ${workgroupSize / 2}u; _stride > 0u; _stride >>= 1u) {
    if (_lid < _stride) {
      _scratch[_lid] = _reduce(_scratch[_lid], _scratch[_lid + _stride]);
    }
    workgroupBarrier();
  }
  return _scratch[0];
}`,
};

/**
 * The subgroup strategy: a butterfly of `subgroupShuffleXor` folds each subgroup in registers (log2 of its size
 * steps, no barrier), works for any `reduce` expression, and leaves one value per subgroup (32 on lavapipe's 8-wide
 * subgroups) for a single thread to fold. Subgroup leaders take slots by an atomic counter rather than by
 * `_lid / size`, because WebGPU does not promise how invocations are grouped into subgroups.
 */
export const subgroupReducer: WorkgroupReducer = {
  enable: 'enable subgroups;',
  builtins: ', @builtin(subgroup_invocation_id) _sgid: u32, @builtin(subgroup_size) _sgsize: u32',
  call: (value) => `_reduceWorkgroup(_lid, ${value}, _sgid, _sgsize)`,
  render: (t) => `var<workgroup> _scratch: array<${t}, ${workgroupSize}>;
var<workgroup> _subgroupTotals: atomic<u32>;

fn _reduceWorkgroup(_lid: u32, value: ${t}, _sgid: u32, _sgsize: u32) -> ${t} {
  var _v = value;
  for (var _offset = _sgsize / 2u; _offset > 0u; _offset >>= 1u) {
    _v = _reduce(_v, subgroupShuffleXor(_v, _offset));
  }
  if (_sgid == 0u) {
    _scratch[atomicAdd(&_subgroupTotals, 1u)] = _v;
  }
  workgroupBarrier();
  if (_lid == 0u) {
    var _acc = _scratch[0];
    let _count = atomicLoad(&_subgroupTotals);
    for (var _k = 1u; _k < _count; _k++) {
      _acc = _reduce(_acc, _scratch[_k]);
    }
    _scratch[0] = _acc;
  }
  workgroupBarrier();
  return _scratch[0];
}`,
};
