import { CeleriacError, ErrorCode, type KernelRange } from '@celeriac/core';
import type { KernelSpec } from './kernel-spec.js';

/** A checked {@link KernelRange}: its first index, its step, and how many indices it holds. */
export interface ResolvedKernelRange {
  readonly start: number;
  readonly step: number;
  readonly count: number;
}

/** The range of a run that names none: every index, `0 … n-1`. */
export function everyIndex(n: number): ResolvedKernelRange {
  return { start: 0, step: 1, count: n };
}

/**
 * Checks a run's `range` against its kernel and element count `n`, and resolves its defaults, so a bad range is
 * reported before anything reaches the executor. Without a range, a kernel runs for every index: `0 … n-1`.
 *
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` for a range on a kernel that takes none, an index that
 *   is not a whole number, a step below 1, or bounds outside `0 … n`
 */
export function resolveKernelRange(spec: KernelSpec, n: number, range: KernelRange | undefined): ResolvedKernelRange {
  if (range === undefined) return everyIndex(n);
  if (!spec.acceptsRange) {
    throw invalid(spec, `it takes no range: only elementwise kernels run for a range of indices (this is a ${spec.kind} kernel). Remove "range".`, {});
  }
  if (typeof range !== 'object' || range === null) {
    throw invalid(spec, `"range" must be an object such as { start: 0, stop: n, step: 2 }; got ${typeof range}.`, {});
  }
  const { start = 0, stop = n, step = 1 } = range;
  for (const [name, value] of Object.entries({ start, stop, step })) {
    if (!Number.isSafeInteger(value)) {
      throw invalid(spec, `range.${name} must be a whole number; got ${String(value)}.`, { [name]: value });
    }
  }
  if (step < 1) throw invalid(spec, `range.step must be at least 1; got ${step}.`, { step });
  if (start < 0 || stop > n || start > stop) {
    throw invalid(
      spec,
      `range ${start} … ${stop} is outside the arrays' indices: it needs 0 <= start <= stop <= n, and n is ${n}.`,
      { start, stop, n },
    );
  }
  return { start, step, count: Math.ceil((stop - start) / step) };
}

function invalid(spec: KernelSpec, message: string, details: Record<string, unknown>): CeleriacError {
  return new CeleriacError(ErrorCode.KernelInvalidArguments, `Kernel "${spec.name}": ${message}`, {
    details: { kernel: spec.name, ...details },
  });
}
