import type {} from 'webgpu';
import type { GpuCapability } from '@celeriac/core';

/** A {@link GpuCapability} known to have an adapter. */
export type AvailableGpuCapability = Extract<GpuCapability, { available: true }>;

/** Substrings of adapter descriptions that mark a CPU implementation of Vulkan or WebGPU. */
const softwareMarkers = ['llvmpipe', 'lavapipe', 'swiftshader'];

/**
 * Describes an adapter for the worker's heartbeat: identity, features and limits. `isSoftware` tells schedulers and
 * operators that the "GPU" is really the CPU (lavapipe, SwiftShader): correct, but not fast.
 */
export function describeAdapter(adapter: GPUAdapter): AvailableGpuCapability {
  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  const isSoftware =
    info.isFallbackAdapter || info.architecture === 'software' || softwareMarkers.some((m) => text.includes(m));
  return {
    available: true,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isSoftware,
    },
    features: [...adapter.features].sort(),
    limits: readLimits(adapter.limits),
  };
}

function readLimits(limits: GPUSupportedLimits): Record<string, number> {
  const result: Record<string, number> = {};
  // The limits are getters on the prototype, so Object.entries would see nothing; for…in walks the prototype.
  for (const key in limits) {
    const value: unknown = limits[key as keyof GPUSupportedLimits];
    if (typeof value === 'number') result[key] = value;
  }
  return result;
}
