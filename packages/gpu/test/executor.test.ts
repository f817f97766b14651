import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ErrorCode } from '@celeriac/core';
import { createGpuExecutor, elementwise, reduction } from '@celeriac/gpu';
import { afterAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);

/** Points the Vulkan loader at a driver list that does not exist: the machine looks like it has no GPU. */
const noDriverEnv = { VK_ICD_FILENAMES: '/nonexistent.json' };

const add = elementwise({ args: { z: 'out f32[]', x: 'f32[]', y: 'f32[]' }, operation: 'z[i] = x[i] + y[i]' });
const scaled = elementwise({ args: { z: 'out i32[]', x: 'i32[]', k: 'i32', s: 'f32', u: 'u32' }, operation: 'z[i] = x[i] * k' });
const sum = reduction({ dtype: 'u32', neutral: '0u', map: 'x[i]', reduce: 'a + b', args: { x: 'u32[]' } });

describe('createGpuExecutor options', () => {
  it('refuses unknown and invalid options, naming the path', () => {
    expect(() => createGpuExecutor({ closeTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOptions, message: expect.stringContaining('gpuExecutor.closeTimeoutMs') }),
    );
    expect(() => createGpuExecutor({ env: { A: 1 } } as never)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOptions, message: expect.stringContaining('gpuExecutor.env.A') }),
    );
    expect(() => createGpuExecutor({ gpu: 1 } as never)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
    expect(() => createGpuExecutor({ callTimeout: '0s' })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOptions, message: expect.stringContaining('gpuExecutor.callTimeout') }),
    );
    expect(() => createGpuExecutor({ callTimeout: '5m' })).not.toThrow();
    expect(() => createGpuExecutor({ bufferPoolBytes: -1 })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOptions, message: expect.stringContaining('gpuExecutor.bufferPoolBytes') }),
    );
    expect(() => createGpuExecutor({ bufferPoolBytes: 0 })).not.toThrow();
    expect(() => createGpuExecutor({ disabledFeatures: ['f64'] } as never)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOptions, message: expect.stringContaining('gpuExecutor.disabledFeatures.0') }),
    );
  });

  it('starts no process until first used', () => {
    expect(createGpuExecutor().pid).toBeUndefined();
  });
});

describe('run argument validation, before any process starts', () => {
  const executor = createGpuExecutor();
  const x = new Float32Array([1, 2, 3]);

  it.each([
    ['a missing argument', { x }, /Kernel "elementwise": argument "y" is missing\. Fix the arguments passed to run\(\)\./],
    ['an extra argument', { x, y: x, w: x }, /got unknown argument "w"; it takes "z", "x", "y"/],
    ['an output passed in', { x, y: x, z: x }, /argument "z" is an output; the executor allocates it/],
    ['the wrong typed array', { x, y: new Float64Array(3) }, /argument "y" must be a Float32Array or a GpuArray of f32 \(f32\[\]\); got Float64Array/],
    ['a plain array', { x, y: [1, 2, 3] }, /argument "y" must be a Float32Array or a GpuArray of f32 \(f32\[\]\); got an Array/],
    ['different lengths', { x, y: new Float32Array(4) }, /"x" has 3 elements and "y" has 4/],
    ['no object', null, /args must be an object of arguments; got null/],
  ])('refuses %s', async (_, args, message) => {
    await expect(executor.run(add, args as never)).rejects.toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: expect.stringMatching(message),
    });
  });

  it.each([
    ['k', 1.5, /scalar "k" \(i32\) must be an integer from -2147483648 to 2147483647; got 1\.5/],
    ['k', 2 ** 31, /scalar "k" \(i32\) must be an integer/],
    ['u', -1, /scalar "u" \(u32\) must be an integer from 0 to 4294967295; got -1/],
    ['s', Number.NaN, /scalar "s" \(f32\) must be a finite number; got NaN/],
    ['s', Number.POSITIVE_INFINITY, /scalar "s" \(f32\) must be a finite number; got Infinity/],
    ['s', 1e39, /scalar "s" \(f32\) is 1e\+39, outside the f32 range/],
    ['s', '1', /scalar "s" \(f32\) must be a finite number; got string/],
  ])('refuses scalar %s = %s', async (name, value, message) => {
    const args = { x: new Int32Array(2), k: 1, s: 1, u: 1, [name]: value };
    await expect(executor.run(scaled, args as never)).rejects.toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: expect.stringMatching(message),
      details: { argument: name },
    });
  });

  it.each([
    ['on a reduction', sum, { x: new Uint32Array(3) }, { stop: 2 }, /Kernel "reduction": it takes no range: only elementwise kernels run for a range of indices \(this is a reduction kernel\)/],
    ['a step of 0', add, { x, y: x }, { step: 0 }, /range\.step must be at least 1; got 0/],
    ['a fractional start', add, { x, y: x }, { start: 0.5 }, /range\.start must be a whole number; got 0\.5/],
    ['a stop past n', add, { x, y: x }, { stop: 4 }, /range 0 … 4 is outside the arrays' indices: it needs 0 <= start <= stop <= n, and n is 3/],
    ['a negative start', add, { x, y: x }, { start: -1 }, /range -1 … 3 is outside/],
    ['start after stop', add, { x, y: x }, { start: 2, stop: 1 }, /range 2 … 1 is outside/],
    ['no object', add, { x, y: x }, 5, /"range" must be an object such as \{ start: 0, stop: n, step: 2 \}; got number/],
  ])('refuses a range %s', async (_, kernel, args, range, message) => {
    await expect(executor.run(kernel as typeof add, args as never, { range: range as never })).rejects.toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: expect.stringMatching(message),
    });
  });

  it('refuses a call whose signal already aborted, as cancelled, without starting a process', async () => {
    await expect(executor.run(add, { x, y: x }, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: ErrorCode.JobCancelled,
      message: expect.stringContaining('The GPU call for kernel "elementwise" was aborted'),
    });
  });

  it('refuses a kernel that no builder made', async () => {
    await expect(executor.run({ spec: { wgsl: 'fn main() {}' } }, {})).rejects.toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
    });
  });

  it('never started a process for any of these', () => {
    expect(executor.pid).toBeUndefined();
  });
});

describe('an executor on a machine without a GPU driver', () => {
  const executor = createGpuExecutor({ env: noDriverEnv });
  afterAll(() => executor.close());

  it('describes the GPU as unavailable and says which driver to install', async () => {
    const capability = await executor.describe();
    expect(capability).toMatchObject({ available: false, reason: expect.stringContaining('install a Vulkan driver') });
  });

  it('rejects runs with CELERIAC_GPU_UNAVAILABLE naming the driver packages', async () => {
    await expect(executor.run(sum, { x: new Uint32Array([1, 2]) })).rejects.toMatchObject({
      code: ErrorCode.GpuUnavailable,
      retryable: false,
      message: expect.stringContaining('apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1'),
    });
  });

  it('refuses calls after close()', async () => {
    const closing = createGpuExecutor({ env: noDriverEnv });
    await closing.describe();
    await closing.close();
    await closing.close();
    expect(closing.pid).toBeUndefined();
    await expect(closing.describe()).rejects.toMatchObject({ code: ErrorCode.GpuUnavailable, message: expect.stringContaining('was closed') });
  });
});

describe('process lifetime', () => {
  it('lets a process that used an executor and never closed it exit on its own', async () => {
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      const { createGpuExecutor } = await import(${JSON.stringify(entry)});
      const executor = createGpuExecutor({ env: ${JSON.stringify(noDriverEnv)} });
      const capability = await executor.describe();
      console.log(JSON.stringify({ available: capability.available, pid: executor.pid }));
    `;
    const started = performance.now();
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    expect(JSON.parse(stdout)).toMatchObject({ available: false, pid: expect.any(Number) });
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});
