/** Shares are counted in millionths of a GPU, so 0.1 + 0.2 fills exactly 0.3 and four 0.25 shares fill exactly 1. */
const unitsPerGpu = 1_000_000;

/** Converts a share of GPUs (`0.25`) to whole capacity units. */
export function toGpuUnits(share: number): number {
  return Math.round(share * unitsPerGpu);
}

interface Waiter {
  readonly units: number;
  grant(): void;
}

/**
 * The worker's GPU capacity: jobs take their `resources.gpu` share before they start and give it back when they end,
 * so the shares of the jobs running at once never add up to more than the worker's GPUs (four 0.25 jobs on one GPU,
 * but one 1.0 job). Waiters are served in arrival order, and none overtakes another: a steady stream of small jobs
 * cannot starve a large one.
 */
export class GpuCapacity {
  private readonly totalUnits: number;
  private usedUnits = 0;
  private readonly waiters: Waiter[] = [];

  constructor(gpus: number) {
    this.totalUnits = toGpuUnits(gpus);
  }

  /** Shares of GPUs taken right now. */
  get used(): number {
    return this.usedUnits / unitsPerGpu;
  }

  /** Whether a job of `share` could ever run here (on an idle worker). */
  fits(share: number): boolean {
    return toGpuUnits(share) <= this.totalUnits;
  }

  /**
   * Takes `share` of the GPUs, waiting until it is free, and resolves with the function that gives it back. While it
   * waits, `onAbort` may end the wait (the job was cancelled, or shutdown passed its deadline): the promise then
   * rejects with the abort's reason.
   * @throws Error when `share` exceeds the whole capacity; callers check {@link fits} first
   */
  acquire(share: number, onAbort?: (listener: (reason: Error) => void) => void): Promise<() => void> {
    const units = toGpuUnits(share);
    if (units > this.totalUnits) throw new Error(`a job needs ${share} GPU(s), more than this worker's capacity`);
    return new Promise((resolve, reject) => {
      let settled = false;
      const waiter: Waiter = {
        units,
        grant: () => {
          settled = true;
          this.usedUnits += units;
          resolve(this.releaser(units));
        },
      };
      this.waiters.push(waiter);
      this.grantWaiting();
      onAbort?.((reason) => {
        if (settled) return;
        settled = true;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        // The head may have been the one blocking the others.
        this.grantWaiting();
        reject(reason);
      });
    });
  }

  private releaser(units: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.usedUnits -= units;
      this.grantWaiting();
    };
  }

  private grantWaiting(): void {
    while (this.waiters.length > 0 && this.usedUnits + this.waiters[0]!.units <= this.totalUnits) {
      this.waiters.shift()!.grant();
    }
  }
}
