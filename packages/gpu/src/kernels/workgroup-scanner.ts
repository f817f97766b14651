import { workgroupSize } from './kernel-spec.js';

/**
 * How a scan workgroup scans one value per thread, as WGSL over the scan's `_Carry`, `_identity()` and `_combine()`:
 * `_scanWorkgroup(…)` returns the combination of the values of the threads before this one (in `_rank` order) and
 * leaves the workgroup's total in `_groupTotal` for every thread, until the next call. Scan passes bind `_rank` with
 * {@link WorkgroupScanner.rank}, call through {@link WorkgroupScanner.call} and add
 * {@link WorkgroupScanner.builtins} to each entry point, so one kernel template serves every strategy.
 *
 * Both strategies work in two levels, so each call costs a handful of barriers whatever the workgroup size: groups
 * of threads scan their values (serially, or in registers with subgroup operations), then one thread scans the
 * groups' totals in workgroup memory.
 */
export interface WorkgroupScanner {
  /** The WGSL `enable` directive the strategy needs, or `''`. */
  readonly enable: string;
  /** Extra entry-point parameters (builtins), each starting with `, `. */
  readonly builtins: string;
  /** A statement binding `_rank`, the thread's position in scan order, at the top of an entry point. */
  readonly rank: string;
  /** Whether the carry must provide `_shuffleUp(c, delta)`, a `subgroupShuffleUp` of each of its fields. */
  readonly shuffles: boolean;
  /** The call, for a value expression of type `_Carry`. */
  call(value: string): string;
  /** `_scanWorkgroup` and the workgroup memory it uses. */
  render(): string;
}

/** Threads per raking group in the portable strategy: √256, so the serial scans on both levels are 16 long. */
const rakeWidth = 16;

/** WebGPU's smallest subgroup size: the most subgroups (and subgroup totals) a workgroup can have is 256 / 4. */
const minSubgroupSize = 4;

/**
 * The second level, shared by both strategies: one thread turns the `count` group totals into exclusive prefixes,
 * in place, and their combination into `_groupTotal`.
 */
function renderGroupTotals(maxGroups: number): string {
  return `var<workgroup> _groupTotals: array<_Carry, ${maxGroups}>;
var<workgroup> _groupTotal: _Carry;

fn _scanGroupTotals(_rank: u32, _count: u32) {
  if (_rank == 0u) {
    var _acc = _identity();
    for (var _g = 0u; _g < _count; _g++) {
      let _v = _groupTotals[_g];
      _groupTotals[_g] = _acc;
      _acc = _combine(_acc, _v);
    }
    _groupTotal = _acc;
  }
}`;
}

/**
 * The portable strategy, raking in workgroup memory (CUDA's shared memory): 16 threads each scan 16 consecutive
 * thread values serially, one thread scans their 16 totals, and every thread combines the two prefixes: four
 * barriers per call, where a Hillis–Steele tree over 256 threads takes seventeen. One padding slot per 16 values
 * puts the 16 rakers' slots (16 apart) in 16 different memory banks.
 */
export const rakingScanner: WorkgroupScanner = {
  enable: '',
  builtins: '',
  rank: 'let _rank = _lid;',
  shuffles: false,
  call: (value) => `_scanWorkgroup(_rank, ${value})`,
  render: () => `var<workgroup> _threadValues: array<_Carry, ${workgroupSize + workgroupSize / rakeWidth}>;
${renderGroupTotals(rakeWidth)}

fn _padded(_k: u32) -> u32 {
  return _k + _k / ${rakeWidth}u;
}

fn _scanWorkgroup(_rank: u32, value: _Carry) -> _Carry {
  // The previous call's readers of the slots and totals must be done before they are overwritten.
  workgroupBarrier();
  _threadValues[_padded(_rank)] = value;
  workgroupBarrier();
  if (_rank < ${rakeWidth}u) {
    var _acc = _identity();
    for (var _j = 0u; _j < ${rakeWidth}u; _j++) {
      let _slot = _padded(_rank * ${rakeWidth}u + _j);
      let _v = _threadValues[_slot];
      _threadValues[_slot] = _acc;
      _acc = _combine(_acc, _v);
    }
    _groupTotals[_rank] = _acc;
  }
  workgroupBarrier();
  _scanGroupTotals(_rank, ${rakeWidth}u);
  workgroupBarrier();
  return _combine(_groupTotals[_rank / ${rakeWidth}u], _threadValues[_padded(_rank)]);
}`,
};

/**
 * The subgroup strategy: each subgroup scans its values in registers (`inSubgroup`, an inclusive
 * `_scanSubgroup(value, lane, size)`), its last lane writes the subgroup's total, and one thread scans those (32 on
 * lavapipe's 8-wide subgroups, 8 on 32-wide ones): three barriers per call. WebGPU does not promise which
 * invocations form a subgroup, so a thread's rank is its subgroup's slot, taken by an atomic counter, times the
 * subgroup size plus its lane: scan order follows the subgroups whatever their makeup. Like the subgroup
 * reductions, it relies on full subgroups (256 is a multiple of every subgroup size).
 */
function subgroupScanner(inSubgroup: string): WorkgroupScanner {
  return {
    enable: 'enable subgroups;',
    builtins: ', @builtin(subgroup_invocation_id) _sgid: u32, @builtin(subgroup_size) _sgsize: u32',
    rank: 'let _rank = _subgroupRank(_sgid, _sgsize);',
    shuffles: true,
    call: (value) => `_scanWorkgroup(_rank, ${value}, _sgsize)`,
    render: () => `${renderGroupTotals(workgroupSize / minSubgroupSize)}
var<workgroup> _subgroupSlots: atomic<u32>;

fn _subgroupRank(_sgid: u32, _sgsize: u32) -> u32 {
  var _slot = 0u;
  if (_sgid == 0u) {
    _slot = atomicAdd(&_subgroupSlots, 1u);
  }
  return subgroupBroadcast(_slot, 0u) * _sgsize + _sgid;
}

${inSubgroup}

fn _scanWorkgroup(_rank: u32, value: _Carry, _sgsize: u32) -> _Carry {
  let _lane = _rank % _sgsize;
  let _inclusive = _scanSubgroup(value, _lane, _sgsize);
  // Subgroup operations before any branch: every lane takes part.
  let _previous = _shuffleUp(_inclusive, 1u);
  // The previous call's readers of the totals must be done before they are overwritten.
  workgroupBarrier();
  if (_lane == _sgsize - 1u) {
    _groupTotals[_rank / _sgsize] = _inclusive;
  }
  workgroupBarrier();
  _scanGroupTotals(_rank, ${workgroupSize}u / _sgsize);
  workgroupBarrier();
  var _exclusive = _groupTotals[_rank / _sgsize];
  if (_lane > 0u) {
    _exclusive = _combine(_exclusive, _previous);
  }
  return _exclusive;
}`,
  };
}

/** Hillis–Steele within the subgroup through `subgroupShuffleUp`: log2(size) steps, no barrier, any `scan`. */
export const shuffleScanner = subgroupScanner(`fn _scanSubgroup(value: _Carry, _lane: u32, _sgsize: u32) -> _Carry {
  var _v = value;
  for (var _d = 1u; _d < _sgsize; _d <<= 1u) {
    let _up = _shuffleUp(_v, _d);
    if (_lane >= _d) {
      _v = _combine(_up, _v);
    }
  }
  return _v;
}`);

/** The hardware's own prefix sum, for an unsegmented scan whose `scan` is `a + b`. */
export const addScanner = subgroupScanner(`fn _scanSubgroup(value: _Carry, _lane: u32, _sgsize: u32) -> _Carry {
  return subgroupInclusiveAdd(value);
}`);
