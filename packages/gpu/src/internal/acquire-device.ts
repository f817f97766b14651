import type {} from 'webgpu';
import { describeAdapter, type AvailableGpuCapability } from './describe-adapter.js';

/** How to get a working driver, for every "no GPU" message. */
export const installDriverHint =
  'install a Vulkan driver: on Debian, `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1` ' +
  'for lavapipe (CPU), or the NVIDIA/AMD driver for a real GPU';

/**
 * Limits raised from the WebGPU defaults to what the adapter allows. The defaults (128 MiB bindings, 8 storage
 * buffers per stage) are far below what most adapters offer, and kernels over large arrays need the real ones.
 */
const raisedLimits = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** The outcome of {@link acquireDevice}: a device with its description, or why there is none. */
export type DeviceAcquisition =
  | { readonly ok: true; readonly device: GPUDevice; readonly capability: AvailableGpuCapability }
  | { readonly ok: false; readonly reason: string };

/**
 * Requests an adapter and a device with raised limits and those of `wantedFeatures` the adapter has. A missing
 * adapter or a refused device is an answer, not an exception, so the executor can report "no GPU" to `describe()`
 * and keep running.
 */
export async function acquireDevice(gpu: GPU, wantedFeatures: readonly GPUFeatureName[]): Promise<DeviceAcquisition> {
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter === null) {
      return { ok: false, reason: `No WebGPU adapter was found. To fix this, ${installDriverHint}.` };
    }
    const requiredLimits: Record<string, number> = {};
    for (const name of raisedLimits) requiredLimits[name] = adapter.limits[name];
    // Only features the adapter has: requesting a missing one fails the whole device.
    const requiredFeatures = wantedFeatures.filter((feature) => adapter.features.has(feature));
    const device = await adapter.requestDevice({ label: 'celeriac', requiredLimits, requiredFeatures });
    return { ok: true, device, capability: describeAdapter(adapter) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `WebGPU could not create a device (${message}). Check the driver, or ${installDriverHint}.` };
  }
}
