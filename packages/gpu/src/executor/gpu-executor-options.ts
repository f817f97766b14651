import { z } from 'zod';
import { resolveOptions } from '@celeriac/core';

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
