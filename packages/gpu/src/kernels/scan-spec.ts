import { requireWgslText, resolveKernelName, resolvePreamble } from './builder-options.js';
import { assertDtype, bytesOf, type Dtype } from './dtype.js';
import { GpuFeature } from './gpu-feature.js';
import { renderBlockCount } from './run-sizes.js';
import {
  appendScratch,
  assertNoReservedNames,
  buildKernelLayout,
  dtypeScratch,
  renderLayoutDeclarations,
  renderScalarLets,
  renderScratchDeclarations,
  type KernelLayout,
} from './kernel-layout.js';
import {
  GridKind,
  finishKernelSpec,
  scanTileSize,
  workgroupSize,
  type KernelKind,
  type KernelSpec,
  type ResultRule,
  type ScratchSlot,
} from './kernel-spec.js';
import { addScanner, rakingScanner, shuffleScanner, type WorkgroupScanner } from './workgroup-scanner.js';

/** Names the scan's generated code binds for its expressions, beside `i` and `n`. */
const scanReservedNames: readonly string[] = ['item', 'prevItem', 'isSegmentStart'];

/** What every scan builder is given besides its own expressions. */
interface ScanBuilderOptions {
  readonly name?: string;
  readonly dtype: Dtype;
  readonly args: unknown;
  readonly preamble?: string;
}

/**
 * Checks what every scan builder shares (the name, the dtype, the arguments, none of them named like the scan's own
 * variables, the preamble) and resolves it.
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` naming the bad option
 */
export function resolveScanBuilder(
  options: ScanBuilderOptions,
  fallbackName: string,
  allowOutputs: boolean,
): { readonly name: string; readonly layout: KernelLayout; readonly preamble: string } {
  const name = resolveKernelName(options.name, fallbackName);
  assertDtype(options.dtype, `${name}.dtype`);
  const layout = buildKernelLayout(name, options.args, allowOutputs);
  assertNoReservedNames(name, layout, scanReservedNames);
  return { name, layout, preamble: resolvePreamble(name, options.preamble) };
}

/**
 * Checks the expressions of a scan the caller writes (inclusiveScan, exclusiveScan, genericScan): its `neutral`, its
 * `scan` of `a` and `b`, and the `input` of element `i`.
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` naming the one that is missing or not text
 */
export function requireScanExpressions(
  name: string,
  options: { readonly neutral: unknown; readonly scan: unknown; readonly input: unknown },
): { readonly neutral: string; readonly scan: string; readonly input: string } {
  return {
    neutral: requireWgslText(name, 'neutral', options.neutral),
    scan: requireWgslText(name, 'scan', options.scan),
    input: requireWgslText(name, 'input', options.input),
  };
}

/** Everything that distinguishes one scan kernel from another; every scan builder ends in {@link buildScanSpec}. */
export interface ScanDefinition {
  readonly kind: KernelKind;
  readonly name: string;
  readonly layout: KernelLayout;
  /** The type of the scanned values. */
  readonly dtype: Dtype;
  readonly neutral: string;
  /** Combines an earlier value `a` with a later one `b`. */
  readonly scan: string;
  /** The value scanned at element `i`. */
  readonly input: string;
  /** When given, a `bool` expression of `i`: where true, the scan restarts at `i`. */
  readonly isSegmentStart: string | undefined;
  /** Run once per element with `item`, `prevItem`, `i` and `isSegmentStart` bound. */
  readonly output: string;
  readonly preamble: string;
  /** Buffers the output statement writes (a scan's result, compacted values), bound after `_partials` and `_total`. */
  readonly extraScratch: readonly Omit<ScratchSlot, 'binding'>[];
  readonly result: ResultRule;
}

/**
 * Builds a scan kernel's spec: three passes in the shape of PyOpenCL's `GenericScanKernel` ("reduce, then scan").
 *
 * 1. `_upsweep`: each of `scanBlocks` workgroups walks its contiguous range in tiles of {@link scanTileSize} and
 *    writes the block's total to `_partials`.
 * 2. `_scanBlocks`: one workgroup scans the block totals in place (exclusive), and writes the grand total to `_total`.
 * 3. `_downsweep`: each block scans its range again, starting from its block prefix, and runs the output statement.
 *
 * In a tile, each thread lifts a run of 16 consecutive elements and combines them in registers, the workgroup scans
 * the 256 run totals (see {@link WorkgroupScanner}), and each thread walks its run again from its prefix: a few
 * barriers per 4096 elements. The block count is bounded (see `maxBlocks`), so any `n` up to the binding limit takes
 * these three dispatches and the order of combination is fixed: `scan` must be associative, not commutative. A
 * segmented scan carries a `(flag, value)` pair whose combination restarts at a segment start, the classic
 * segmented-scan operator; an unsegmented one carries the bare value.
 *
 * The portable WGSL scans workgroups in workgroup memory; the `subgroups` variant uses `subgroupInclusiveAdd` for
 * an unsegmented `a + b` and `subgroupShuffleUp` for any other `scan`.
 */
export function buildScanSpec(definition: ScanDefinition): KernelSpec {
  // A segmented carry is struct { flag: u32, value: T }: 8 bytes for every dtype (a 2-byte f16 is padded to 8).
  const carryBytes = definition.isSegmentStart === undefined ? bytesOf(definition.dtype) : 8;
  const scratch = appendScratch(definition.layout, [
    { name: '_partials', wgslType: '_Carry', elementBytes: carryBytes, length: ['scanBlocks'] },
    dtypeScratch('_total', definition.dtype, []),
    ...definition.extraScratch,
  ]);
  const blocks = { kind: GridKind.Workgroups, x: ['scanBlocks'], y: [], per: 1 } as const;
  const subgroupScanner = isPlainSum(definition) ? addScanner : shuffleScanner;
  return finishKernelSpec({
    kind: definition.kind,
    name: definition.name,
    wgsl: renderScanWgsl(definition, scratch, rakingScanner),
    variants: [{ feature: GpuFeature.Subgroups, wgsl: renderScanWgsl(definition, scratch, subgroupScanner) }],
    ...definition.layout,
    scratch,
    passes: [
      { entryPoint: '_upsweep', grid: blocks },
      { entryPoint: '_scanBlocks', grid: { kind: GridKind.Workgroups, x: [], y: [], per: 1 } },
      { entryPoint: '_downsweep', grid: blocks },
    ],
    result: definition.result,
  });
}

/** Whether the subgroups' own prefix sum computes this scan: an unsegmented `a + b` (or `b + a`). */
function isPlainSum(definition: ScanDefinition): boolean {
  const scan = definition.scan.replace(/\s+/g, '');
  return definition.isSegmentStart === undefined && (scan === 'a+b' || scan === 'b+a');
}

function renderScanWgsl(definition: ScanDefinition, scratch: readonly ScratchSlot[], scanner: WorkgroupScanner): string {
  return `${scanner.enable}
${renderLayoutDeclarations(definition.layout)}
${renderScratchDeclarations(scratch)}

${definition.preamble}

fn _scanOp(a: ${definition.dtype}, b: ${definition.dtype}) -> ${definition.dtype} {
  return ${definition.scan};
}

${renderCarry(definition, scanner.shuffles)}

${scanner.render()}

${renderBlockHelpers()}

${renderUpsweep(scanner)}

${renderScanBlocks(scanner)}

${renderDownsweep(definition, scanner)}
`.replace(/\n{3,}/g, '\n\n').trimStart();
}

/**
 * The carried type and its monoid: the value itself, or for a segmented scan a `(flag, value)` pair, so the three
 * passes are the same code either way. With `shuffles`, also `_shuffleUp`, field by field, since subgroup
 * operations take no structs.
 */
function renderCarry(definition: ScanDefinition, shuffles: boolean): string {
  const t = definition.dtype;
  const lets = renderScalarLets(definition.layout, '  ');
  if (definition.isSegmentStart === undefined) {
    return `alias _Carry = ${t};

fn _identity() -> _Carry {
  return ${definition.neutral};
}

fn _combine(a: _Carry, b: _Carry) -> _Carry {
  return _scanOp(a, b);
}

fn _value(c: _Carry) -> ${t} {
  return c;
}

fn _startsSegment(c: _Carry) -> bool {
  return false;
}

fn _lift(i: u32) -> _Carry {
${lets}
  return ${definition.input};
}
${shuffles ? renderShuffleUp('subgroupShuffleUp(c, delta)') : ''}`;
  }
  return `struct _Carry {
  flag: u32,
  value: ${t},
}

fn _identity() -> _Carry {
  return _Carry(0u, ${definition.neutral});
}

// A later segment start discards everything before it; otherwise the values combine and the flags accumulate.
fn _combine(a: _Carry, b: _Carry) -> _Carry {
  if (b.flag != 0u) {
    return b;
  }
  return _Carry(a.flag, _scanOp(a.value, b.value));
}

fn _value(c: _Carry) -> ${t} {
  return c.value;
}

fn _startsSegment(c: _Carry) -> bool {
  return c.flag != 0u;
}

fn _lift(i: u32) -> _Carry {
${lets}
  return _Carry(select(0u, 1u, ${definition.isSegmentStart}), ${definition.input});
}
${shuffles ? renderShuffleUp('_Carry(subgroupShuffleUp(c.flag, delta), subgroupShuffleUp(c.value, delta))') : ''}`;
}

function renderShuffleUp(result: string): string {
  return `
fn _shuffleUp(c: _Carry, delta: u32) -> _Carry {
  return ${result};
}`;
}

/** The tile constants and the block ranges. */
function renderBlockHelpers(): string {
  return `const _itemsPerThread = ${scanTileSize / workgroupSize}u;
const _tileSize = ${scanTileSize}u;

// Block w of _blocks covers [x, y): whole tiles, in order, so block prefixes compose left to right.
fn _blockRange(_w: u32, _blocks: u32) -> vec2<u32> {
  let _n = params.n;
  let _tilesPerBlock = ((_n + _tileSize - 1u) / _tileSize + _blocks - 1u) / _blocks;
  let _start = min(_w * _tilesPerBlock * _tileSize, _n);
  return vec2<u32>(_start, min(_start + _tilesPerBlock * _tileSize, _n));
}`;
}

/**
 * The tile loop every pass shares, over `[start, end)` with `_carry` holding everything before it. Thread `_rank`
 * owns the run of `_itemsPerThread` consecutive elements at `_first` (the element `_k` is `load`, the identity past
 * `end`) and combines them in registers; the workgroup scans the runs' totals; then, with `visit`, the thread walks
 * its run again with `_prefix` the combination of everything before element `_k` (`_items[_j]` is the element).
 */
function renderTileLoop(scanner: WorkgroupScanner, start: string, end: string, load: string, visit?: string): string {
  const walk =
    visit === undefined
      ? `_ = ${scanner.call('_own')};`
      : `var _prefix = _combine(_carry, ${scanner.call('_own')});
    for (var _j = 0u; _j < _itemsPerThread; _j++) {
      let _k = _first + _j;
      if (_k < ${end}) {
        ${visit}
      }
      _prefix = _combine(_prefix, _items[_j]);
    }`;
  return `for (var _tile = ${start}; _tile < ${end}; _tile += _tileSize) {
    let _first = _tile + _rank * _itemsPerThread;
    var _items: array<_Carry, _itemsPerThread>;
    var _own = _identity();
    for (var _j = 0u; _j < _itemsPerThread; _j++) {
      let _k = _first + _j;
      _items[_j] = _identity();
      if (_k < ${end}) {
        _items[_j] = ${load};
      }
      _own = _combine(_own, _items[_j]);
    }
    ${walk}
    _carry = _combine(_carry, _groupTotal);
  }`;
}

const blockBuiltins = `@builtin(local_invocation_index) _lid: u32, @builtin(workgroup_id) _wid: vec3<u32>,
    @builtin(num_workgroups) _groups: vec3<u32>`;

function renderUpsweep(scanner: WorkgroupScanner): string {
  return `@compute @workgroup_size(${workgroupSize})
fn _upsweep(${blockBuiltins}${scanner.builtins}) {
  ${scanner.rank}
  let _range = _blockRange(_wid.x, _groups.x);
  var _carry = _identity();
  ${renderTileLoop(scanner, '_range.x', '_range.y', '_lift(_k)')}
  if (_rank == 0u) {
    _partials[_wid.x] = _carry;
  }
}`;
}

function renderScanBlocks(scanner: WorkgroupScanner): string {
  return `@compute @workgroup_size(${workgroupSize})
fn _scanBlocks(@builtin(local_invocation_index) _lid: u32${scanner.builtins}) {
  ${scanner.rank}
  let _count = ${renderBlockCount(scanTileSize)};
  var _carry = _identity();
  ${renderTileLoop(scanner, '0u', '_count', '_partials[_k]', '_partials[_k] = _prefix;')}
  if (_rank == 0u) {
    _total[0] = _value(_carry);
  }
}`;
}

function renderDownsweep(definition: ScanDefinition, scanner: WorkgroupScanner): string {
  const visit = `let i = _k;
        let isSegmentStart = _startsSegment(_items[_j]);
        // At a segment start nothing precedes the element: prevItem is neutral, as in PyOpenCL.
        let prevItem = select(_value(_prefix), ${definition.neutral}, isSegmentStart);
        let item = _value(_combine(_prefix, _items[_j]));
        ${definition.output}`;
  return `@compute @workgroup_size(${workgroupSize})
fn _downsweep(${blockBuiltins}${scanner.builtins}) {
${renderScalarLets(definition.layout, '  ')}
  ${scanner.rank}
  let _range = _blockRange(_wid.x, _groups.x);
  var _carry = _partials[_wid.x];
  ${renderTileLoop(scanner, '_range.x', '_range.y', '_lift(_k)', visit)}
}`;
}
