/**
 * The GPU executor process: the only process that loads dawn.node and owns the WebGPU device. The parent
 * (`createGpuExecutor`) forks this file with `serialization: 'advanced'`, so typed arrays arrive as binary.
 *
 * Keeping the device here protects the worker twice: a driver crash kills this process, not the worker, and this
 * process's event loop only ever waits on the GPU and IPC, which dawn.node needs (it polls on the event loop, and a
 * loop blocked for ~100 ms crashed it on lavapipe).
 */
import { CeleriacError, ErrorCode, isCeleriacError, serializeError } from '@celeriac/core';
import { createGpuRuntime, testingLoseDeviceEnv, type GpuRuntime } from '../internal/gpu-runtime.js';
import { installDriverHint } from '../internal/acquire-device.js';
import { RequestType, type ExecutorProcessOptions, type ExecutorReply, type ExecutorRequest } from './executor-protocol.js';

const send = process.send?.bind(process);
if (send === undefined) {
  console.error('gpu-executor-process.js runs as a child of createGpuExecutor() and needs an IPC channel; use that.');
  process.exit(1);
}

// Listen before loading dawn.node: a message that arrives while nobody listens is dropped, and the parent sends its
// first request right after forking.
const runtimeReady = loadRuntime();

process.on('message', (request: ExecutorRequest) => {
  void answer(request).then((reply) => {
    // A failed send means the parent is gone; 'disconnect' below ends this process.
    send?.(reply, undefined, undefined, () => undefined);
  });
});

// The dawn.node instance keeps this process alive on its own, so exit explicitly when the parent closes the channel
// (close()) or dies.
process.once('disconnect', () => {
  void runtimeReady.then((runtime) => {
    runtime.destroy();
    setImmediate(() => process.exit(0));
  });
});

async function answer(request: ExecutorRequest): Promise<ExecutorReply> {
  try {
    return { id: request.id, ok: true, value: await dispatch(request) };
  } catch (error) {
    return { id: request.id, ok: false, error: serializeError(toCeleriacError(error)) };
  }
}

async function dispatch(request: ExecutorRequest): Promise<unknown> {
  const runtime = await runtimeReady;
  switch (request.type) {
    case RequestType.Describe:
      return runtime.describe();
    case RequestType.Stats:
      return runtime.stats();
    case RequestType.Run:
      return runtime.run(request.spec, request.args, { keepOutputs: request.keepOutputs === true, range: request.range });
    case RequestType.Upload:
      return runtime.upload(request.data, request.dtype);
    case RequestType.Download:
      return runtime.download(request.ref);
    case RequestType.Release:
      return runtime.release(request.handle);
  }
}

function toCeleriacError(error: unknown): CeleriacError {
  if (isCeleriacError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CeleriacError(ErrorCode.Internal, `The GPU executor failed unexpectedly: ${message}. Please report this.`, {
    cause: error,
  });
}

/** Loads dawn.node; a missing or broken binary becomes a runtime that answers "unavailable" instead of a crash loop. */
async function loadRuntime(): Promise<GpuRuntime> {
  try {
    const { create, globals } = await import('webgpu');
    // dawn.node provides GPUBufferUsage, GPUMapMode and friends as values; WebGPU code expects them as globals.
    Object.assign(globalThis, globals);
    const options = JSON.parse(process.argv[2] ?? '{}') as Partial<ExecutorProcessOptions>;
    // Dawn rounds timestamps to tens of microseconds against browser fingerprinting; a worker has no such page to
    // protect, and benchmarks need nanoseconds.
    return createGpuRuntime(create(['disable-dawn-features=timestamp_quantization']), {
      disabledFeatures: options.disabledFeatures ?? [],
      bufferPoolBytes: options.bufferPoolBytes ?? 0,
      loseDeviceOnKernel: process.env[testingLoseDeviceEnv],
    });
  } catch (error) {
    const reason =
      `dawn.node (the webgpu package) failed to load: ${error instanceof Error ? error.message : String(error)}. ` +
      `Reinstall the webgpu package for this platform, and ${installDriverHint}.`;
    const unavailable = (): Promise<never> => Promise.reject(new CeleriacError(ErrorCode.GpuUnavailable, reason));
    return {
      describe: () => Promise.resolve({ available: false, reason }),
      run: unavailable,
      upload: unavailable,
      download: unavailable,
      release: () => Promise.resolve(),
      stats: () => ({
        pipelinesCompiled: 0,
        pipelineCacheHits: 0,
        runs: 0,
        subgroupRuns: 0,
        devicesAcquired: 0,
        timestamps: false,
        kernelTimings: {},
        deviceArrays: 0,
        bufferPool: { hits: 0, misses: 0, pooledBytes: 0 },
      }),
      destroy: () => undefined,
    };
  }
}
