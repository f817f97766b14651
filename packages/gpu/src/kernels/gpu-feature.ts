/**
 * The optional WebGPU features the executor requests where the adapter has them. Each one changes what runs, so an
 * executor can be told to leave any of them out (`createGpuExecutor({ disabledFeatures: ['subgroups'] })`).
 */
export const GpuFeature = {
  /** Subgroup operations: reductions fold each subgroup in registers instead of workgroup memory. */
  Subgroups: 'subgroups',
  /** The `f16` type in WGSL: kernels over `'f16[]'` arrays need it. */
  ShaderF16: 'shader-f16',
  /** GPU timestamps: each run records its GPU time, shown by `stats().kernelTimings`. */
  TimestampQuery: 'timestamp-query',
} as const;

/** One of the {@link GpuFeature} values. */
export type GpuFeature = (typeof GpuFeature)[keyof typeof GpuFeature];

/** Every optional feature, in a stable order for messages and schemas. */
export const gpuFeatures = Object.values(GpuFeature) as [GpuFeature, ...GpuFeature[]];
