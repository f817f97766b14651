import type { GpuCapability } from '@celeriac/core';
import { createGpuExecutor, type GpuExecutor } from '@celeriac/gpu';
import { afterAll, describe, it } from 'vitest';

/** With `CELERIAC_REQUIRE_GPU=1` (CI with lavapipe or a GPU), a missing adapter fails the suite instead of skipping it. */
export const requireGpu = process.env['CELERIAC_REQUIRE_GPU'] === '1';

/** A test file's executor and what it found. */
export interface GpuTestContext {
  readonly executor: GpuExecutor;
  readonly capability: GpuCapability;
}

/**
 * Starts an executor for a test file and asks it for the adapter, once, at collection time (top-level await), so
 * {@link describeGpu} can decide between running, skipping and failing. The executor closes after the file.
 */
export async function startGpuTestExecutor(): Promise<GpuTestContext> {
  const executor = createGpuExecutor();
  afterAll(() => executor.close());
  return { executor, capability: await executor.describe() };
}

/**
 * `describe` for tests that need a WebGPU adapter: runs `body` when there is one; otherwise skips it, or, with
 * `CELERIAC_REQUIRE_GPU=1`, replaces it with one failing test that gives the reason.
 */
export function describeGpu(name: string, capability: GpuCapability, body: () => void): void {
  if (capability.available) {
    describe(name, body);
  } else if (requireGpu) {
    describe(name, () => {
      it('has a WebGPU adapter (CELERIAC_REQUIRE_GPU=1)', () => {
        throw new Error(`CELERIAC_REQUIRE_GPU=1, but the executor found no WebGPU adapter: ${capability.reason}`);
      });
    });
  } else {
    describe.skip(`${name} (no WebGPU adapter: ${capability.reason})`, body);
  }
}
