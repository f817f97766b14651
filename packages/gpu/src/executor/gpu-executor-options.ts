import { z } from 'zod';
import { durationMs, resolveOptions } from '@celeriac/core';
import { gpuFeatures } from '../kernels/gpu-feature.js';

/** Schema of {@link GpuExecutorOptions}. */
export const gpuExecutorOptionsSchema = z
  .object({
    /**
     * Extra environment variables for the executor process, on top of this process's environment: driver selection
     * such as `VK_ICD_FILENAMES`, or `DAWN_DEBUG_BREAK_ON_ERROR` while debugging.
     */
    env: z.record(z.string(), z.string()).default({}),
    /** Node flags for the executor process (e.g. `--max-old-space-size=8192`). Default none: not this process's. */
    execArgv: z.array(z.string()).default([]),
    /** How long `close()` waits for the process to exit before killing it. Default 5000. */
    closeTimeoutMs: z.number().int().positive().default(5_000),
    /**
     * Optional features not to request even where the adapter has them. Default none: every feature of
     * {@link GpuFeature} the adapter offers is used. `['subgroups']` runs the portable workgroup-memory reductions
     * (to compare, or to work around a driver bug); `['shader-f16']` makes f16 kernels fail as on an adapter without
     * f16; `['timestamp-query']` stops recording GPU times.
     */
    disabledFeatures: z.array(z.enum(gpuFeatures)).default([]),
    /**
     * The most bytes of idle GPU buffers the executor process keeps for reuse, in power-of-two size buckets, so
     * repeated runs stop creating buffers. Default 256 MiB; `0` turns pooling off (every run creates and frees its
     * buffers). Idle buffers count against the GPU's memory like any other.
     */
    bufferPoolBytes: z.number().int().min(0).default(256 * 1024 * 1024),
    /**
     * The longest one piece of GPU work (a run, an upload, a download, a `GpuArray` operation) may take, from the
     * call to its answer: a `Duration` (`'30s'`, or milliseconds). Past it the executor process is killed, since
     * WebGPU cannot cancel a dispatch, and the call rejects with `CELERIAC_TIME_LIMIT_EXCEEDED`. Default none.
     */
    callTimeout: durationMs.pipe(z.number().int().min(1)).optional(),
  })
  .strict();

/** What you pass to `createGpuExecutor`. */
export type GpuExecutorOptions = z.input<typeof gpuExecutorOptionsSchema>;

/** {@link GpuExecutorOptions} with defaults applied, frozen. */
export type ResolvedGpuExecutorOptions = Readonly<z.output<typeof gpuExecutorOptionsSchema>>;

/**
 * Validates executor options and applies defaults.
 *
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` naming each bad path (`gpuExecutor.closeTimeoutMs: ...`)
 */
export function resolveGpuExecutorOptions(options: GpuExecutorOptions = {}): ResolvedGpuExecutorOptions {
  return resolveOptions(gpuExecutorOptionsSchema, options, 'gpuExecutor');
}
