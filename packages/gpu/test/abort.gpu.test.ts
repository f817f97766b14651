import { CeleriacError, ErrorCode } from '@celeriac/core';
import { createGpuExecutor, elementwise, type GpuExecutor } from '@celeriac/gpu';
import { afterAll, expect, it, vi } from 'vitest';
import { describeGpu, startGpuTestExecutor } from './gpu-test-support.js';

const { capability } = await startGpuTestExecutor();

/** A kernel that runs as long as it is told: 2^30 iterations per element never finish on lavapipe in a test's time. */
const spin = elementwise({
  name: 'spin',
  args: { z: 'out f32[]', x: 'f32[]', iterations: 'u32' },
  operation: 'var acc = x[i]; for (var k = 0u; k < iterations; k++) { acc = acc * 0.5 + 1.0; } z[i] = acc;',
});
const hung = { x: new Float32Array(4_096), iterations: 2 ** 30 };
const add = elementwise({ name: 'add', args: { z: 'out f32[]', x: 'f32[]', y: 'f32[]' }, operation: 'z[i] = x[i] + y[i]' });
const small = { x: new Float32Array([1, 2, 3]), y: new Float32Array([10, 20, 30]) };

/**
 * Starts a spin run on a warm executor (process and device up) and gives it a moment to reach the GPU. Whether the
 * abort then finds it compiling or dispatching, the executor must stop it the same way.
 */
async function startSpinning(executor: GpuExecutor, signal?: AbortSignal): Promise<{ running: Promise<unknown> }> {
  await executor.describe();
  const running = executor.run(spin, hung, signal === undefined ? {} : { signal });
  running.catch(() => undefined); // awaited by the test; never an unhandled rejection meanwhile
  await new Promise((resolve) => setTimeout(resolve, 500));
  // Wrapped: an async function returning the promise itself would wait for it to settle.
  return { running };
}

describeGpu('aborting GPU calls', capability, () => {
  const executor = createGpuExecutor();
  afterAll(() => executor.close());

  it('kills the process to stop a hung kernel, rejects the call as cancelled and its queued calls as crashed', async () => {
    const controller = new AbortController();
    const { running: spinning } = await startSpinning(executor, controller.signal);
    const pid = executor.pid as number;
    const queued = executor.run(add, small);
    controller.abort();
    await expect(spinning).rejects.toMatchObject({
      code: ErrorCode.JobCancelled,
      retryable: false,
      message: expect.stringContaining(`its GPU executor process (pid ${pid}) was killed to stop it`),
      details: { call: 'kernel "spin"', pid },
    });
    await expect(queued).rejects.toMatchObject({
      code: ErrorCode.GpuExecutorCrashed,
      retryable: true,
      message: expect.stringContaining('was killed to stop an aborted call (kernel "spin")'),
    });
    await expect(executor.run(add, small)).resolves.toEqual({ z: new Float32Array([11, 22, 33]) });
    expect(executor.pid).not.toBe(pid);
    expect((await executor.stats()).executorStarts).toBe(2);
  });

  it("rejects with the signal's reason when it is a celeriac time-limit error", async () => {
    const controller = new AbortController();
    const { running: spinning } = await startSpinning(executor, controller.signal);
    const limit = new CeleriacError(ErrorCode.TimeLimitExceeded, 'Task "t" ran past its hard time limit.', {
      details: { limit: 'hard', limitMs: 10 },
    });
    controller.abort(limit);
    await expect(spinning).rejects.toBe(limit);
    await expect(executor.run(add, small)).resolves.toEqual({ z: new Float32Array([11, 22, 33]) });
  });

  it('does nothing when the signal aborts after the call settled', async () => {
    const controller = new AbortController();
    await expect(executor.run(add, small, { signal: controller.signal })).resolves.toEqual({ z: new Float32Array([11, 22, 33]) });
    const pid = executor.pid;
    controller.abort();
    await expect(executor.run(add, small)).resolves.toEqual({ z: new Float32Array([11, 22, 33]) });
    expect(executor.pid).toBe(pid);
  });

  it('stops a call that runs past callTimeout with CELERIAC_TIME_LIMIT_EXCEEDED', async () => {
    const limited = createGpuExecutor({ callTimeout: '3s' });
    afterAll(() => limited.close());
    await limited.describe(); // the process and device are up, so the limit only measures the run
    const pid = limited.pid as number;
    await expect(limited.run(spin, hung)).rejects.toMatchObject({
      code: ErrorCode.TimeLimitExceeded,
      retryable: true,
      message: expect.stringContaining("ran past the executor's callTimeout of 3000 ms"),
      details: { limit: 'callTimeout', limitMs: 3_000, call: 'kernel "spin"' },
    });
    await vi.waitFor(() => expect(limited.pid).not.toBe(pid), { timeout: 10_000 });
    await expect(limited.describe()).resolves.toMatchObject({ available: true });
  });
});
