import { readFileSync } from 'node:fs';
import { ErrorCode } from '@celeriac/core';
import { createGpuExecutor, elementwise, reduction, testingLoseDeviceEnv, type GpuExecutor } from '@celeriac/gpu';
import { afterAll, expect, it, vi } from 'vitest';
import { describeGpu, startGpuTestExecutor } from './gpu-test-support.js';
import { mismatches, mixedF32 } from './reference-data.js';

const { executor, capability } = await startGpuTestExecutor();

const add = elementwise({ name: 'add', args: { z: 'out f32[]', x: 'f32[]', y: 'f32[]' }, operation: 'z[i] = x[i] + y[i]' });
const small = { x: new Float32Array([1, 2, 3]), y: new Float32Array([10, 20, 30]) };

describeGpu('kernel compile failures', capability, () => {
  it('reports a WGSL syntax error in the operation as CELERIAC_KERNEL_COMPILE_FAILED with the compiler messages', async () => {
    const broken = elementwise({ name: 'broken', args: { z: 'out f32[]', x: 'f32[]' }, operation: 'z[i] = x[i] +' });
    const error: unknown = await executor.run(broken, { x: small.x }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: ErrorCode.KernelCompileFailed,
      retryable: false,
      message: expect.stringMatching(/^Kernel "broken" failed to compile at line \d+:\d+ of the generated WGSL \(`z\[i\] = x\[i\] \+;`\): /),
      details: {
        kernel: 'broken',
        wgsl: broken.spec.wgsl,
        messages: [expect.objectContaining({ type: 'error', line: expect.any(Number), column: expect.any(Number) })],
      },
    });
    const [first] = (error as { details: { messages: { message: string; line: number }[] } }).details.messages;
    expect((error as Error).message).toContain(first?.message);
    expect(broken.spec.wgsl.split('\n')[(first?.line ?? 0) - 1]).toContain('z[i] = x[i] +');
  });

  it('reports a type error in a reduction expression, and the executor keeps working', async () => {
    const mistyped = reduction({ dtype: 'f32', neutral: '0.0', map: 'x[i] * true', reduce: 'a + b', args: { x: 'f32[]' } });
    await expect(executor.run(mistyped, { x: small.x })).rejects.toMatchObject({
      code: ErrorCode.KernelCompileFailed,
      details: { messages: [expect.objectContaining({ type: 'error' })] },
    });
    await expect(executor.run(add, small)).resolves.toEqual({ z: new Float32Array([11, 22, 33]) });
  });
});

describeGpu('pipeline cache', capability, () => {
  it('compiles a kernel once however often it runs, keyed by its WGSL', async () => {
    const build = () => elementwise({ args: { z: 'out u32[]', x: 'u32[]' }, operation: 'z[i] = x[i] * 3u + 1u' });
    const before = await executor.stats();
    await executor.run(build(), { x: new Uint32Array([1, 2]) });
    // A second builder call makes an equal spec: same WGSL, same hash, same pipeline.
    await expect(executor.run(build(), { x: new Uint32Array([5]) })).resolves.toEqual({ z: new Uint32Array([16]) });
    const after = await executor.stats();
    expect(after.pipelinesCompiled - before.pipelinesCompiled).toBe(1);
    expect(after.pipelineCacheHits - before.pipelineCacheHits).toBe(1);
    expect(after.runs - before.runs).toBe(2);
  });
});

describeGpu('dispatch folding', capability, () => {
  it('covers every element of a dispatch wider than maxComputeWorkgroupsPerDimension', async ({ skip }) => {
    const maxGroups = capability.available ? (capability.limits['maxComputeWorkgroupsPerDimension'] ?? 65_535) : 0;
    const n = maxGroups * 256 + 1; // one element past a single row: 2 rows of workgroups
    const maxBytes = capability.available ? (capability.limits['maxStorageBufferBindingSize'] ?? 0) : 0;
    // An adapter allowing far more workgroups per dimension cannot bind an array that needs folding.
    if (n * 4 > maxBytes) skip('no array this adapter can bind needs folding');
    const indexed = elementwise({ name: 'indexed', args: { z: 'out u32[]', x: 'u32[]' }, operation: 'z[i] = x[i] + i' });
    const x = new Uint32Array(n).fill(7);
    const { z } = await executor.run(indexed, { x });
    // Every element written exactly with its own index: a wrong fold leaves zeros or misplaced values.
    expect(mismatches(z, (i) => 7 + i, () => 0)).toEqual([]);
  }, 60_000);
});

describeGpu('executor crashes', capability, () => {
  const crashing: GpuExecutor = createGpuExecutor();
  afterAll(() => crashing.close());

  it('rejects a call in flight with retryable CELERIAC_GPU_EXECUTOR_CRASHED when the process is killed, then recovers', async () => {
    await crashing.describe();
    const pid = crashing.pid as number;
    const [x, y] = [mixedF32(2 ** 22, 1), mixedF32(2 ** 22, 2)];
    const inFlight = crashing.run(add, { x, y });
    process.kill(pid, 'SIGKILL');
    await expect(inFlight).rejects.toMatchObject({
      code: ErrorCode.GpuExecutorCrashed,
      retryable: true,
      message: expect.stringContaining(`(pid ${pid}) was killed by SIGKILL unexpectedly`),
      details: { pid, signal: 'SIGKILL' },
    });
    await expect(crashing.run(add, small)).resolves.toEqual({ z: new Float32Array([11, 22, 33]) });
    expect(crashing.pid).not.toBe(pid);
    expect((await crashing.stats()).executorStarts).toBe(2);
  });

  it('starts a fresh process for the next call after one dies between calls', async () => {
    await crashing.describe();
    const pid = crashing.pid as number;
    process.kill(pid, 'SIGKILL');
    // The exit is noticed asynchronously; a call made before that would itself reject as crashed.
    await vi.waitFor(() => expect(crashing.pid).toBeUndefined());
    await expect(crashing.run(add, small)).resolves.toEqual({ z: new Float32Array([11, 22, 33]) });
    expect((await crashing.stats()).executorStarts).toBe(3);
  });
});

describeGpu('executor crashes noticed by a send', capability, () => {
  const crashing: GpuExecutor = createGpuExecutor();
  afterAll(() => crashing.close());

  it('forks a fresh process for the next call as soon as a send finds the process dead, before its exit is seen', async () => {
    // Which Node notices first, the broken channel or the exit, varies from one kill to the next: five kills.
    for (let kill = 0; kill < 5; kill++) {
      await crashing.run(add, small);
      const pid = crashing.pid as number;
      process.kill(pid, 'SIGKILL');
      // Dead, and not yet reaped: Node has not seen the exit, so this call is written to the dead process's channel,
      // and fails as crashed. The next call, made at once (no turn of the event loop in between, as the worker
      // reruns a kernel), must go to a fresh process, not to the dead one again.
      waitUntilDeadSync(pid);
      const first = await crashing.run(add, small).catch((error: unknown) => error);
      const second = await crashing.run(add, small).catch((error: unknown) => error);
      expect(first).toMatchObject({ code: ErrorCode.GpuExecutorCrashed, details: { pid } });
      expect(second).toEqual({ z: new Float32Array([11, 22, 33]) });
      expect(crashing.pid).not.toBe(pid);
    }
  });
});

/** Blocks until `pid` has died (a zombie not yet reaped), without giving Node's event loop a turn to notice. */
function waitUntilDeadSync(pid: number): void {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return;
  }
  throw new Error(`process ${pid} was still alive 5 s after SIGKILL`);
}

describeGpu('device loss (the testing hook)', capability, () => {
  const losing: GpuExecutor = createGpuExecutor({ env: { [testingLoseDeviceEnv]: 'loseMe' } });
  afterAll(() => losing.close());
  const loseMe = elementwise({ name: 'loseMe', args: { z: 'out f32[]', x: 'f32[]', y: 'f32[]' }, operation: 'z[i] = x[i] + y[i]' });

  it('rejects the run in flight with retryable CELERIAC_GPU_DEVICE_LOST, and the next run gets a new device', async () => {
    await expect(losing.run(add, small)).resolves.toEqual({ z: new Float32Array([11, 22, 33]) });
    expect((await losing.stats()).bufferPool.pooledBytes).toBeGreaterThan(0);
    await expect(losing.run(loseMe, small)).rejects.toMatchObject({
      code: ErrorCode.GpuDeviceLost,
      retryable: true,
      message: expect.stringMatching(/^The GPU device was lost \(destroyed: .*\)\. The executor acquires a new device/),
      details: { reason: 'destroyed' },
    });
    // The lost device's pool dropped its buffers: nothing of the old device is reused.
    expect((await losing.stats()).bufferPool.pooledBytes).toBe(0);
    // The same kernel again: the hook fires once per process, and the pipeline is compiled anew on the new device.
    await expect(losing.run(loseMe, small)).resolves.toEqual({ z: new Float32Array([11, 22, 33]) });
    const stats = await losing.stats();
    expect(stats).toMatchObject({ devicesAcquired: 2, executorStarts: 1 });
  });
});
