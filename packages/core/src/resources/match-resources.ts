import { GpuAdapterKind, type GpuCapability } from '../catalogue/worker-info.js';
import { AdapterType, type TaskResources } from '../task/task-resources.js';

type AvailableGpu = Extract<GpuCapability, { available: true }>;

/** Whether a worker can run a task: yes, or no with the reasons, each one line that names what is missing. */
export type ResourceMatch =
  | { readonly satisfied: true }
  | { readonly satisfied: false; readonly reasons: readonly string[] };

/** GPUs a worker with this capability offers: its `count`, 1 for an adapter without one, 0 without an adapter. */
export function gpuCountOf(gpu: GpuCapability | undefined): number {
  if (!gpu?.available) return 0;
  return gpu.count ?? 1;
}

/** The kind of a worker's adapter; a software one is never counted as discrete, whatever the worker was told. */
export function adapterKindOf(gpu: AvailableGpu): GpuAdapterKind {
  if (gpu.adapter.isSoftware) return GpuAdapterKind.Software;
  return gpu.adapterType ?? GpuAdapterKind.Discrete;
}

/**
 * Decides whether a worker whose GPU is described by `gpu` can ever run a task that needs `resources`: enough GPUs
 * for one job (`resources.gpu`), every required feature, and a discrete adapter when asked. It answers for one job
 * on an idle worker; how many run at once is the worker's business. A task without `resources.gpu` always matches.
 *
 * The worker uses it to decide which queues it consumes, and the API to tell a job that waits for a capable worker
 * from one that waits for a free one, so both give the same answer from the same heartbeat.
 */
export function matchResources(resources: TaskResources, gpu: GpuCapability | undefined): ResourceMatch {
  const needed = resources.gpu ?? 0;
  if (needed <= 0) return { satisfied: true };
  if (!gpu?.available) {
    const why = gpu === undefined ? 'it did not look for a GPU' : gpu.reason;
    return { satisfied: false, reasons: [`needs a GPU, and this worker has no WebGPU adapter (${why})`] };
  }
  const reasons: string[] = [];
  const count = gpuCountOf(gpu);
  if (needed > count) reasons.push(`needs ${needed} GPU(s), and this worker offers ${count}`);
  if (resources.adapterType === AdapterType.Discrete) {
    const kind = adapterKindOf(gpu);
    if (kind !== GpuAdapterKind.Discrete) {
      reasons.push(`needs a discrete GPU, and this worker's adapter is ${kind} (${describe(gpu)})`);
    }
  }
  const have = new Set(gpu.features);
  const missing = (resources.features ?? []).filter((feature) => !have.has(feature));
  if (missing.length > 0) reasons.push(`needs WebGPU feature(s) ${missing.join(', ')}, which ${describe(gpu)} lacks`);
  return reasons.length === 0 ? { satisfied: true } : { satisfied: false, reasons };
}

function describe(gpu: AvailableGpu): string {
  const { description, device, vendor } = gpu.adapter;
  return description || device || vendor || 'the adapter';
}
