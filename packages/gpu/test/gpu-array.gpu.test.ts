import { ErrorCode } from '@celeriac/core';
import { createGpuExecutor, elementwise, matmul, testingLoseDeviceEnv, type GpuArray, type GpuExecutor } from '@celeriac/gpu';
import { afterAll, expect, it } from 'vitest';
import { describeGpu, startGpuTestExecutor } from './gpu-test-support.js';
import { hashedI32, hashedU32, mismatches, mixedF32, ulpF32 } from './reference-data.js';

const { executor, capability } = await startGpuTestExecutor();

type Op = 'add' | 'sub' | 'mul' | 'div';
/** JS references with each dtype's arithmetic: f32 rounding, i32 and u32 wrapping, truncating integer division. */
const references: Record<'f32' | 'i32' | 'u32', (op: Op, a: number, b: number) => number> = {
  f32: (op, a, b) => Math.fround(op === 'add' ? a + b : op === 'sub' ? a - b : op === 'mul' ? a * b : a / b),
  i32: (op, a, b) => (op === 'add' ? a + b : op === 'sub' ? a - b : op === 'mul' ? Math.imul(a, b) : Math.trunc(a / b)) | 0,
  u32: (op, a, b) => (op === 'add' ? a + b : op === 'sub' ? a - b : op === 'mul' ? Math.imul(a, b) : Math.trunc(a / b)) >>> 0,
};
const n = 1_000;
const inputs = {
  f32: [mixedF32(n, 1), mixedF32(n, 2).map((v) => v + 2)], // divisors in [1, 3): no zero
  i32: [hashedI32(n, 3), hashedI32(n, 4).map((v) => (v >> 8) | 1)],
  u32: [hashedU32(n, 5), hashedU32(n, 6).map((v) => (v >>> 8) | 1)],
} as const;

describeGpu('GpuArray: device-resident arrays', capability, () => {
  it.each(['f32', 'i32', 'u32'] as const)('round-trips %s arrays, including an empty one', async (dtype) => {
    const [x] = inputs[dtype];
    const array = await executor.upload(x);
    expect(array).toMatchObject({ dtype, length: n });
    await expect(array.download()).resolves.toEqual(x);
    const empty = await executor.upload(x.subarray(0, 0));
    await expect(empty.download()).resolves.toEqual(x.subarray(0, 0));
    await Promise.all([array.release(), empty.release()]);
  });

  it.each(['f32', 'i32', 'u32'] as const)('computes %s arithmetic with arrays and scalars on the device', async (dtype) => {
    const [x, y] = inputs[dtype];
    const [a, b] = await Promise.all([executor.upload(x), executor.upload(y)]);
    const scalar = dtype === 'f32' ? 1.5 : 7;
    const tolerance = (_: number, want: number): number => (dtype === 'f32' ? 3 * ulpF32(want) : 0);
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      const [withArray, withScalar] = await Promise.all([a[op](b), a[op](scalar)]);
      const reference = references[dtype];
      expect(mismatches(await withArray.download(), (i) => reference(op, x[i] as number, y[i] as number), tolerance)).toEqual([]);
      expect(mismatches(await withScalar.download(), (i) => reference(op, x[i] as number, scalar), tolerance)).toEqual([]);
      await Promise.all([withArray.release(), withScalar.release()]);
    }
    await Promise.all([a.release(), b.release()]);
  });

  it.each(['f32', 'i32', 'u32'] as const)('reduces %s arrays: sum, dot, min and max', async (dtype) => {
    const [x, y] = inputs[dtype];
    const [a, b] = await Promise.all([executor.upload(x), executor.upload(y)]);
    const wrap = (v: number): number => (dtype === 'i32' ? v | 0 : dtype === 'u32' ? v >>> 0 : v);
    let [sum, dot] = [0, 0];
    for (let i = 0; i < n; i++) {
      sum = wrap(sum + (x[i] as number));
      const product = dtype === 'f32' ? (x[i] as number) * (y[i] as number) : Math.imul(x[i] as number, y[i] as number);
      dot = wrap(dot + product);
    }
    const close = (want: number) => (dtype === 'f32' ? expect.closeTo(want, 3) : want);
    await expect(a.sum()).resolves.toEqual(close(sum));
    await expect(a.dot(b)).resolves.toEqual(close(dot));
    await expect(a.min()).resolves.toBe(Math.min(...x));
    await expect(a.max()).resolves.toBe(Math.max(...x));
    await Promise.all([a.release(), b.release()]);
  });

  it('chains operations over 2^22 elements without moving the data, and matches a JS reference', async () => {
    const size = 2 ** 22;
    const [x, y] = [mixedF32(size, 7), mixedF32(size, 8)];
    const [a, b] = await Promise.all([executor.upload(x), executor.upload(y)]);
    const sum = await a.add(b);
    const scaled = await sum.mul(0.5);
    const halfSum = (i: number): number => Math.fround(Math.fround((x[i] as number) + (y[i] as number)) * 0.5);
    expect(mismatches(await scaled.download(), halfSum, () => 0)).toEqual([]);
    let total = 0;
    for (let i = 0; i < size; i++) total += halfSum(i);
    // Values in [-1, 1] summed in a tree of f32 partials: far closer than 1 in 4M elements.
    await expect(scaled.sum()).resolves.toEqual(expect.closeTo(total, 0));
    await Promise.all([a, b, sum, scaled].map((array) => array.release()));
  }, 120_000);

  it('is accepted by run() as an input array, with no upload', async () => {
    const scale = elementwise({ name: 'scale', args: { z: 'out f32[]', x: 'f32[]', k: 'f32' }, operation: 'z[i] = k * x[i]' });
    const x = await executor.upload(new Float32Array([1, 2, 3]));
    await expect(executor.run(scale, { x, k: 2 })).resolves.toEqual({ z: new Float32Array([2, 4, 6]) });
    const [a, b] = await Promise.all([executor.upload(new Int32Array([1, 2, 3, 4])), executor.upload(new Int32Array([5, 6, 7, 8]))]);
    await expect(executor.run(matmul({ dtype: 'i32' }), { a, b, rows: 2, inner: 2, cols: 2 })).resolves.toEqual(
      new Int32Array([19, 22, 43, 50]),
    );
    await expect(executor.run(scale, { x: a, k: 2 } as never)).rejects.toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: expect.stringContaining('argument "x" must be a Float32Array or a GpuArray of f32 (f32[]); got a GpuArray of i32'),
    });
    await Promise.all([x, a, b].map((array) => array.release()));
  });

  it('releases idempotently, and refuses use after release', async () => {
    const { deviceArrays } = await executor.stats();
    const array = await executor.upload(new Uint32Array([1, 2]));
    expect((await executor.stats()).deviceArrays).toBe(deviceArrays + 1);
    await array.release();
    await array.release();
    expect((await executor.stats()).deviceArrays).toBe(deviceArrays);
    await expect(array.sum()).rejects.toMatchObject({ code: ErrorCode.KernelInvalidArguments, message: expect.stringContaining('was released') });
  });

  it('refuses operands of another dtype or length, min() of nothing, and non-arrays to upload', async () => {
    const [a, b, empty] = await Promise.all([
      executor.upload(new Float32Array([1, 2])),
      executor.upload(new Float32Array([1, 2, 3])),
      executor.upload(new Float32Array(0)),
    ]);
    await expect(a.add(b)).rejects.toMatchObject({ message: expect.stringContaining('same dtype and length; got f32[2] and f32[3]') });
    await expect(a.add({} as GpuArray<'f32'>)).rejects.toMatchObject({ code: ErrorCode.KernelInvalidArguments });
    await expect(empty.min()).rejects.toMatchObject({ code: ErrorCode.KernelInvalidArguments, message: expect.stringContaining('empty array') });
    await expect(empty.sum()).resolves.toBe(0);
    await expect(executor.upload(new Float64Array(2) as never)).rejects.toMatchObject({
      code: ErrorCode.KernelInvalidArguments,
      message: 'Cannot upload a Float64Array: upload one of Float32Array, Int32Array, Uint32Array, Uint16Array.',
    });
    await Promise.all([a, b, empty].map((array) => array.release()));
  });
});

describeGpu('GpuArray after its process or device is gone', capability, () => {
  const crashing: GpuExecutor = createGpuExecutor();
  const losing: GpuExecutor = createGpuExecutor({ env: { [testingLoseDeviceEnv]: 'loseMe' } });
  afterAll(() => Promise.all([crashing.close(), losing.close()]));

  it('fails with retryable CELERIAC_GPU_EXECUTOR_CRASHED once its executor process died', async () => {
    const array = await crashing.upload(new Float32Array([1, 2, 3]));
    const pid = crashing.pid as number;
    process.kill(pid, 'SIGKILL');
    await expect(array.sum()).rejects.toMatchObject({ code: ErrorCode.GpuExecutorCrashed, retryable: true });
    await expect(array.download()).rejects.toMatchObject({
      code: ErrorCode.GpuExecutorCrashed,
      retryable: true,
      message: expect.stringContaining(`lived in GPU executor process ${pid}, which has ended`),
    });
    await array.release(); // nothing to free, and no error
    const fresh = await crashing.upload(new Float32Array([1, 2, 3]));
    await expect(fresh.sum()).resolves.toBe(6);
  });

  it('fails with retryable CELERIAC_GPU_DEVICE_LOST once its device was lost', async () => {
    const loseMe = elementwise({ name: 'loseMe', args: { z: 'out f32[]', x: 'f32[]' }, operation: 'z[i] = x[i]' });
    const array = await losing.upload(new Float32Array([1, 2, 3]));
    await expect(losing.run(loseMe, { x: array })).rejects.toMatchObject({ code: ErrorCode.GpuDeviceLost });
    await expect(array.sum()).rejects.toMatchObject({
      code: ErrorCode.GpuDeviceLost,
      retryable: true,
      message: expect.stringContaining('was on a GPU device that has since been lost'),
    });
    const fresh = await losing.upload(new Float32Array([1, 2, 3]));
    await expect(fresh.max()).resolves.toBe(3);
  });
});
