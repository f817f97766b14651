import { CeleriacError, ErrorCode } from '@celeriac/core';

const namePattern = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Checks a builder's `name` (a label for messages and GPU tools) or falls back to `fallback`.
 *
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS`
 */
export function resolveKernelName(name: unknown, fallback: string): string {
  if (name === undefined) return fallback;
  if (typeof name === 'string' && namePattern.test(name)) return name;
  throw new CeleriacError(
    ErrorCode.KernelInvalidArguments,
    `Invalid kernel name ${JSON.stringify(name)}: use 1 to 64 ASCII letters, digits and "_", starting with a letter.`,
    { details: { name: String(name) } },
  );
}

/**
 * Checks that a builder field holding WGSL text (`operation`, `map`, `reduce`, `neutral`) is a non-empty string.
 * Whether the text is valid WGSL is the compiler's call, reported as `CELERIAC_KERNEL_COMPILE_FAILED` at run time.
 *
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS` naming the field
 */
export function requireWgslText(kernel: string, field: string, value: unknown): string {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  throw new CeleriacError(
    ErrorCode.KernelInvalidArguments,
    `${kernel}: "${field}" must be a non-empty string of WGSL; got ${JSON.stringify(value) ?? String(value)}.`,
    { details: { kernel, field } },
  );
}

/**
 * Checks the optional `preamble` (WGSL helper functions and constants placed before the kernel).
 *
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS`
 */
export function resolvePreamble(kernel: string, value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  throw new CeleriacError(
    ErrorCode.KernelInvalidArguments,
    `${kernel}: "preamble" must be a string of WGSL declarations; got ${typeof value}.`,
    { details: { kernel, field: 'preamble' } },
  );
}

/** Makes WGSL text a statement: `z[i] = x[i]` gets its `;`, while `…;` and `{ … }` are kept as they are. */
export function toStatement(text: string): string {
  return /[;}]$/.test(text) ? text : `${text};`;
}
