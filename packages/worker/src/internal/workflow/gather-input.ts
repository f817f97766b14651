import { GatherShape, ChildFailure, type WorkflowMeta } from '@celeriac/core';
import type { ChildResults } from '@celeriac/broker';

/**
 * The input of a job that waited for its children: their results, in the order the workflow was written, shaped as
 * `gather` says (see {@link GatherShape}). A child that failed under `continue` holds `null` (one per result it
 * would have given, for `flat`); under `ignore` it is left out.
 */
export function gatherInput(results: ChildResults, gather: NonNullable<WorkflowMeta['gather']>): unknown {
  const { children, shape, onChildFailure, counts } = gather;
  if (shape === GatherShape.Single) return results.values.get(children[0] ?? '');
  const slots: unknown[][] = [];
  children.forEach((id, index) => {
    if (results.values.has(id)) {
      const value = results.values.get(id);
      slots.push(shape === GatherShape.Flat && Array.isArray(value) ? value : [value]);
    } else if (onChildFailure === ChildFailure.Continue) {
      slots.push(Array.from({ length: shape === GatherShape.Flat ? (counts?.[index] ?? 1) : 1 }, () => null));
    }
  });
  return slots.flat();
}
