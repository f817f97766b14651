/**
 * The ArrayBuffers in `value` that can be transferred rather than copied: those of typed arrays (and DataViews) that
 * span their whole buffer, found in `value` itself or in arrays and plain objects up to three levels down.
 *
 * A view over part of a buffer is left to be copied, because transferring it would detach the rest of the buffer
 * too (Node's small Buffers share one 8 KiB pool this way), and so is a SharedArrayBuffer, which is shared anyway.
 * The sender must not use what it transfers: it is detached (length 0) on its side afterwards.
 */
export function collectTransferables(value: unknown, depth = 0, found = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const { buffer } = value;
    if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength) {
      found.add(buffer);
    }
  } else if (depth < 3 && typeof value === 'object' && value !== null && isPlainContainer(value)) {
    for (const child of Object.values(value)) collectTransferables(child, depth + 1, found);
  }
  // A Set, since one buffer listed twice makes postMessage throw a DataCloneError.
  return [...found];
}

function isPlainContainer(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return Array.isArray(value) || proto === Object.prototype || proto === null;
}
