import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCountdown, type Countdown } from '../lib/measure.js';

/** What one latency measurement of one side (raw BullMQ or celeriac) gets. */
export interface LatencyTrialOptions {
  /** Redis to connect to. */
  readonly url: string;
  /** Key prefix of this measurement alone; both sides wrap it in a hash tag, as celeriac does. */
  readonly prefix: string;
  /** Jobs to send. */
  readonly jobs: number;
  /** Jobs sent per second, on a fixed schedule (open loop: a slow enqueue does not delay the next one). */
  readonly ratePerSecond: number;
  /** Worker concurrency, equal on both sides. */
  readonly concurrency: number;
  /** Give up (and fail the run) when the jobs have not all completed by then. */
  readonly timeoutMs: number;
}

/**
 * Per-job latencies of one measurement, in ms, indexed by the job's sequence number. Every time is read with
 * `performance.now()` in this one process (producer, worker and event listener share it), so no clocks are compared.
 */
export interface LatencySamples {
  /** enqueue call → its promise resolved (the producer's own wait). */
  readonly acknowledgedMs: readonly number[];
  /** enqueue call → the handler started running the job. */
  readonly startedMs: readonly number[];
  /** enqueue call → BullMQ's `completed` event for the job reached a `QueueEvents` listener. */
  readonly completedMs: readonly number[];
}

/** One latency measurement: send `jobs` jobs at `ratePerSecond`, wait until each completed, return the latencies. */
export type LatencyTrial = (options: LatencyTrialOptions) => Promise<LatencySamples>;

/** The queue both sides use. */
export const latencyQueue = 'latency';

/**
 * Where a trial's `QueueEvents` starts reading: the start of its stream, which holds this trial's events alone (its
 * keys are fresh). BullMQ's default `$` would miss a completion recorded before its first XREAD, and the trial would
 * then wait for it until its timeout.
 */
export const eventsFromStreamStart = { lastEventId: '0' } as const;

/**
 * Collects the three timestamps of every job and turns them into latencies. The completion event names the job by
 * its id, which the producer learns only when its enqueue resolves; the event may even arrive first (it comes on
 * another connection), so ids and completions are joined at the end, not as they arrive.
 */
export class LatencyRecorder {
  private readonly enqueuedAt: number[] = [];
  private readonly acknowledgedAt: number[] = [];
  private readonly startedAt: number[] = [];
  private readonly idOf: string[] = [];
  private readonly completedAt = new Map<string, number>();
  /** Resolves once every job's completion has been seen. */
  readonly completions: Countdown;

  constructor(private readonly jobs: number, timeoutMs: number, side: string) {
    this.completions = createCountdown(jobs, timeoutMs, `${side} latency`);
  }

  /** The handler calls it first thing, with the job's sequence number from its input. */
  readonly started = (seq: number): void => {
    this.startedAt[seq] = performance.now();
  };

  /** The `QueueEvents` listener calls it for every `completed` event. */
  readonly completed = ({ jobId }: { jobId: string }): void => {
    this.completedAt.set(jobId, performance.now());
    this.completions.tick();
  };

  /** Sends job `seq` through `enqueue`, which resolves with the job's id, timing the call. */
  async send(seq: number, enqueue: () => Promise<string>): Promise<void> {
    this.enqueuedAt[seq] = performance.now();
    this.idOf[seq] = await enqueue();
    this.acknowledgedAt[seq] = performance.now();
  }

  /** The latencies, once every job completed. */
  samples(): LatencySamples {
    const since = (at: (seq: number) => number | undefined, what: string): number[] =>
      Array.from({ length: this.jobs }, (_, seq) => {
        const end = at(seq);
        const begin = this.enqueuedAt[seq];
        if (end === undefined || begin === undefined) throw new Error(`job ${seq}: no ${what} time was recorded`);
        return end - begin;
      });
    return {
      acknowledgedMs: since((seq) => this.acknowledgedAt[seq], 'acknowledgement'),
      startedMs: since((seq) => this.startedAt[seq], 'start'),
      completedMs: since((seq) => this.completedAt.get(this.idOf[seq] ?? ''), 'completion'),
    };
  }
}

/**
 * Calls `send(0)` … `send(count - 1)` on a fixed schedule, `ratePerSecond` a second, without waiting for one call
 * to finish before the next is due: a producer at a steady rate, so the figures are latencies at that load and not
 * the latencies of a closed loop, where a slow job would also slow the arrivals behind it.
 */
export async function sendPaced(count: number, ratePerSecond: number, send: (seq: number) => Promise<void>): Promise<void> {
  const intervalMs = 1_000 / ratePerSecond;
  const startedAt = performance.now();
  const pending: Promise<void>[] = [];
  for (let seq = 0; seq < count; seq++) {
    // Timers fire about a millisecond late at best; sleeping only for waits above that keeps the average rate exact.
    const waitMs = startedAt + seq * intervalMs - performance.now();
    if (waitMs > 1) await sleep(waitMs);
    pending.push(send(seq));
  }
  await Promise.all(pending);
}
