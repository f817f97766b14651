import type {} from 'webgpu';
import { createHash } from 'node:crypto';
import type { KernelSpec } from '../kernels/kernel-spec.js';
import { compileKernel, type CompiledKernel } from './compile-kernel.js';

/** Counters that show whether the cache works: a kernel run twice should compile once. */
export interface PipelineCacheStats {
  /** Kernels compiled (one shader module and its pipelines each). */
  compiles: number;
  /** Runs that found their kernel already compiled. */
  hits: number;
}

/** Compiled kernels of one device, keyed by the SHA-256 of their WGSL. */
export interface PipelineCache {
  /** The compiled kernel for `spec` as `wgsl` (its own or a variant's), compiling it on first use. Failures are not cached. */
  get(spec: KernelSpec, wgsl: string): Promise<CompiledKernel>;
}

/**
 * Creates a cache for `device`. The key is the WGSL's hash because the WGSL determines everything else (bindings,
 * entry points), and two builders that produce the same code can share a pipeline. Promises are cached so
 * concurrent runs of a new kernel compile it once.
 */
export function createPipelineCache(device: GPUDevice, stats: PipelineCacheStats): PipelineCache {
  const compiled = new Map<string, Promise<CompiledKernel>>();
  return {
    get(spec, wgsl) {
      const key = createHash('sha256').update(wgsl).digest('hex');
      const cached = compiled.get(key);
      if (cached !== undefined) {
        stats.hits += 1;
        return cached;
      }
      stats.compiles += 1;
      const pending = compileKernel(device, spec, wgsl);
      compiled.set(key, pending);
      // Forget failures, so a later run reports the compiler's messages again instead of a stale rejection.
      pending.catch(() => compiled.delete(key));
      return pending;
    },
  };
}
