/** One memory reading of the soak's worker process, taken by that process itself. */
export interface MemorySample {
  /** ms since the worker process started measuring. */
  readonly atMs: number;
  /** Jobs the handler has run so far. */
  readonly processed: number;
  /** `process.memoryUsage()` fields, in bytes. */
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

/** What the soak's worker process sends its parent. */
export type WorkerMessage =
  /** Started and consuming; `sample` was taken after a full GC. */
  | { readonly type: 'ready'; readonly sample: MemorySample }
  /** A periodic reading, as the process runs (no forced GC): the RSS series. */
  | { readonly type: 'sample'; readonly sample: MemorySample }
  /** The answer to `settle`: a reading after a full GC, which shows what the heap really retains. */
  | { readonly type: 'settled'; readonly sample: MemorySample }
  | { readonly type: 'failed'; readonly message: string };

/** What the parent sends the soak's worker process. */
export type ParentMessage = { readonly type: 'settle' } | { readonly type: 'stop' };

/** The worker process's settings, passed as one JSON argument. */
export interface SoakWorkerSettings {
  readonly url: string;
  readonly prefix: string;
  readonly concurrency: number;
  readonly sampleIntervalMs: number;
}

/** The queue the soak's no-op task uses. */
export const soakQueue = 'soak';
