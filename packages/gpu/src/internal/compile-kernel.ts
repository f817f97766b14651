import type {} from 'webgpu';
import { CeleriacError, ErrorCode } from '@celeriac/core';
import { paramsBinding, type KernelSpec } from '../kernels/kernel-spec.js';

/** A kernel ready to dispatch: one bind group layout shared by its passes, and a pipeline per entry point. */
export interface CompiledKernel {
  readonly layout: GPUBindGroupLayout;
  readonly pipelines: ReadonlyMap<string, GPUComputePipeline>;
}

/** One compiler message, with its position in the generated WGSL (1-based line and column). */
interface CompileMessage {
  readonly type: string;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly length: number;
}

/**
 * Compiles a spec's WGSL (`wgsl`: its own or a variant's) and creates its pipelines. Every step runs inside a
 * validation error scope or awaits a promise, so an invalid kernel becomes a `CELERIAC_KERNEL_COMPILE_FAILED` for
 * this call, never an uncaptured device error.
 */
export async function compileKernel(device: GPUDevice, spec: KernelSpec, wgsl: string): Promise<CompiledKernel> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: spec.name, code: wgsl });
  const scopeError = device.popErrorScope();
  const info = await module.getCompilationInfo();
  const messages = info.messages.map(toCompileMessage);
  const firstError = messages.find((m) => m.type === 'error') ?? (await scopeErrorMessage(scopeError));
  if (firstError !== undefined) throw compileFailed(spec, wgsl, firstError, messages);

  device.pushErrorScope('validation');
  const layout = device.createBindGroupLayout({ label: spec.name, entries: layoutEntries(spec) });
  const pipelineLayout = device.createPipelineLayout({ label: spec.name, bindGroupLayouts: [layout] });
  const create = (entryPoint: string): Promise<GPUComputePipeline> =>
    device.createComputePipelineAsync({ label: `${spec.name}.${entryPoint}`, layout: pipelineLayout, compute: { module, entryPoint } });
  const entryPoints = [...new Set(spec.passes.map((pass) => pass.entryPoint))];
  const pipelines = Promise.all(entryPoints.map(create));
  const layoutError = await scopeErrorMessage(device.popErrorScope());
  if (layoutError !== undefined) {
    pipelines.catch(() => undefined); // the layout error explains the failure; the pipelines' errors add nothing
    throw compileFailed(spec, wgsl, layoutError, messages);
  }
  try {
    const created = await pipelines;
    return { layout, pipelines: new Map(entryPoints.map((entryPoint, index) => [entryPoint, created[index] as GPUComputePipeline])) };
  } catch (error) {
    throw compileFailed(spec, wgsl, pipelineMessage(error), messages, error);
  }
}

/** Bindings from the spec, not from `layout: 'auto'`, which would drop arguments the expressions never use. */
function layoutEntries(spec: KernelSpec): GPUBindGroupLayoutEntry[] {
  const compute = GPUShaderStage.COMPUTE;
  const entries: GPUBindGroupLayoutEntry[] = [
    { binding: paramsBinding, visibility: compute, buffer: { type: 'uniform' } },
    ...spec.arrays.map((slot) => ({
      binding: slot.binding,
      visibility: compute,
      buffer: { type: slot.output ? ('storage' as const) : ('read-only-storage' as const) },
    })),
  ];
  for (const slot of spec.scratch) entries.push({ binding: slot.binding, visibility: compute, buffer: { type: 'storage' } });
  return entries;
}

function toCompileMessage(message: GPUCompilationMessage): CompileMessage {
  return {
    type: message.type,
    message: message.message,
    line: message.lineNum,
    column: message.linePos,
    offset: message.offset,
    length: message.length,
  };
}

async function scopeErrorMessage(scope: Promise<GPUError | null>): Promise<CompileMessage | undefined> {
  const error = await scope;
  return error === null ? undefined : unplacedError(error.message);
}

function pipelineMessage(error: unknown): CompileMessage {
  return unplacedError(error instanceof Error ? error.message : String(error));
}

/** An error the compiler did not place in the WGSL (a validation scope's, a pipeline's): line 0 means none. */
function unplacedError(message: string): CompileMessage {
  return { type: 'error', message, line: 0, column: 0, offset: 0, length: 0 };
}

function compileFailed(
  spec: KernelSpec,
  wgsl: string,
  first: CompileMessage,
  messages: readonly CompileMessage[],
  cause?: unknown,
): CeleriacError {
  const sourceLine = first.line > 0 ? wgsl.split('\n')[first.line - 1]?.trim() : undefined;
  const where = first.line > 0 ? ` at line ${first.line}:${first.column} of the generated WGSL (\`${sourceLine ?? ''}\`)` : '';
  return new CeleriacError(
    ErrorCode.KernelCompileFailed,
    `Kernel "${spec.name}" failed to compile${where}: ${first.message.trim()}. Fix the WGSL in the kernel's ` +
      'expressions or preamble; details.messages lists every compiler message and details.wgsl the generated code.',
    {
      details: { kernel: spec.name, messages: messages.length > 0 ? messages : [first], wgsl },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
