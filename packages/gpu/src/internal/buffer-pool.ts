import type {} from 'webgpu';

/** The pool counters of one executor process, shared by the pools of its successive devices. */
export interface BufferPoolCounters {
  /** Buffers taken from a pool instead of created. */
  hits: number;
  /** Buffers created because the pool had none of that size and usage (or pooling is off, or the buffer is too big). */
  misses: number;
}

/** The smallest bucket: tiny buffers (uniform blocks, timestamps, one-value results) share one size. */
const minBucketBytes = 256;

/**
 * The buffers of one device, kept for reuse in power-of-two size buckets per usage, so a worker running the same
 * kernels over and over stops creating and destroying buffers (and Dawn stops zero-filling new ones).
 *
 * A reused buffer holds whatever its last user wrote: kernels must fully write what they read, or clear it.
 * A buffer may only come back once the GPU work that used it completed ({@link BufferPool.release} when the caller
 * knows, {@link BufferPool.releaseAfterSubmittedWork} otherwise). Idle buffers are bounded by `maxPooledBytes`,
 * the oldest dropped first; a buffer bigger than that is never pooled and is created at its exact size. After
 * {@link BufferPool.drop} (a lost or destroyed device) every buffer coming back is destroyed.
 */
export class BufferPool {
  /** Idle buffers by `usage:bucket`, most recently returned last. */
  private readonly idle = new Map<string, GPUBuffer[]>();
  /** Every idle buffer with its key, oldest first: the eviction order. */
  private readonly byAge = new Map<GPUBuffer, string>();
  private idleBytes = 0;
  private dropped = false;

  constructor(
    readonly device: GPUDevice,
    private readonly maxPooledBytes: number,
    private readonly counters: BufferPoolCounters,
  ) {}

  /** Bytes of the idle buffers held for reuse. */
  get pooledBytes(): number {
    return this.idleBytes;
  }

  /** A buffer of at least `size` bytes with exactly `usage`: an idle one of its bucket, or a new one. */
  acquire(size: number, usage: number, label: string): GPUBuffer {
    const bucket = this.bucketOf(size);
    const key = `${usage}:${bucket}`;
    const reused = bucket === undefined ? undefined : this.idle.get(key)?.pop();
    if (reused !== undefined) {
      this.byAge.delete(reused);
      this.idleBytes -= reused.size;
      this.counters.hits += 1;
      reused.label = label;
      return reused;
    }
    this.counters.misses += 1;
    return this.device.createBuffer({ label, size: bucket ?? size, usage });
  }

  /** Takes back buffers whose GPU work is known to be complete (their read-back resolved). */
  release(buffers: Iterable<GPUBuffer>): void {
    for (const buffer of buffers) this.keep(buffer);
  }

  /** Takes back buffers once all work submitted so far completed: the GPU may still be using them. */
  releaseAfterSubmittedWork(buffers: readonly GPUBuffer[]): void {
    if (buffers.length === 0) return;
    this.device.queue.onSubmittedWorkDone().then(
      () => this.release(buffers),
      // Only a lost device fails this, and its buffers are gone with it.
      () => buffers.forEach((buffer) => buffer.destroy()),
    );
  }

  /** Destroys the idle buffers and every buffer released from now on: the device is lost or being destroyed. */
  drop(): void {
    this.dropped = true;
    for (const buffer of this.byAge.keys()) buffer.destroy();
    this.byAge.clear();
    this.idle.clear();
    this.idleBytes = 0;
  }

  /**
   * The power-of-two bucket for `size`, or `undefined` when such a buffer is never pooled: pooling is off, or the
   * bucket would pass the pool's bound or the device's largest buffer.
   */
  private bucketOf(size: number): number | undefined {
    const bucket = Math.max(minBucketBytes, 2 ** Math.ceil(Math.log2(Math.max(size, 1))));
    return bucket <= this.maxPooledBytes && bucket <= this.device.limits.maxBufferSize ? bucket : undefined;
  }

  private keep(buffer: GPUBuffer): void {
    // A still-mapped buffer (a read-back that failed half-way) would fail its next copy; exact-sized ones never pool.
    if (this.dropped || buffer.mapState !== 'unmapped' || this.bucketOf(buffer.size) !== buffer.size) {
      buffer.destroy();
      return;
    }
    for (const [oldest, key] of this.byAge) {
      if (this.idleBytes + buffer.size <= this.maxPooledBytes) break;
      this.evict(oldest, key);
    }
    const key = `${buffer.usage}:${buffer.size}`;
    const bucket = this.idle.get(key) ?? [];
    bucket.push(buffer);
    this.idle.set(key, bucket);
    this.byAge.set(buffer, key);
    this.idleBytes += buffer.size;
  }

  private evict(buffer: GPUBuffer, key: string): void {
    const bucket = this.idle.get(key) ?? [];
    bucket.splice(bucket.indexOf(buffer), 1);
    this.byAge.delete(buffer);
    this.idleBytes -= buffer.size;
    buffer.destroy();
  }
}
