import { z } from 'zod';
import { nameSchema } from '../task/define-task.js';
import type { RateLimit } from '../task/task-limits.js';

/**
 * The remote-control commands a live worker obeys, Celery's `inspect` / `control` equivalents:
 *
 * - `ping`: answer with what the worker is doing now;
 * - `shutdown`: close gracefully (stop fetching, let running jobs finish within the shutdown timeout);
 * - `pause` / `resume`: stop or restart fetching jobs on this worker only (running jobs go on; queues are untouched);
 * - `set-concurrency`: change how many jobs run at once, per queue;
 * - `set-rate-limit`: change a task's rate limit on this worker (`null` goes back to the task's declared limit).
 */
export const ControlCommand = {
  Ping: 'ping',
  Shutdown: 'shutdown',
  Pause: 'pause',
  Resume: 'resume',
  SetConcurrency: 'set-concurrency',
  SetRateLimit: 'set-rate-limit',
} as const;

/** One of {@link ControlCommand}. */
export type ControlCommand = (typeof ControlCommand)[keyof typeof ControlCommand];

/**
 * A rate on the wire: `'100/s'`, `'30/m'`, `'1000/h'`, or `{ limit, perMs }`. Plain JSON (no key function): a runtime
 * change keeps the task's own fairness key, if it has one.
 */
export const rateSpecSchema = z.union([
  z.string().regex(/^[1-9]\d*\/[smh]$/, 'expected a rate such as "100/s", "30/m" or "1000/h"'),
  z.object({ limit: z.number().int().min(1), perMs: z.number().int().min(1) }).strict(),
]);

/** A rate as {@link rateSpecSchema} takes it. */
export type RateSpec = z.output<typeof rateSpecSchema>;

const noArgs = z.object({}).strict().optional();

/** A control command with its arguments, as operators send it and workers read it back from Redis. */
export const controlRequestSchema = z.discriminatedUnion('command', [
  z.object({ command: z.literal(ControlCommand.Ping), args: noArgs }).strict(),
  z.object({ command: z.literal(ControlCommand.Shutdown), args: noArgs }).strict(),
  z.object({ command: z.literal(ControlCommand.Pause), args: noArgs }).strict(),
  z.object({ command: z.literal(ControlCommand.Resume), args: noArgs }).strict(),
  z
    .object({
      command: z.literal(ControlCommand.SetConcurrency),
      args: z.object({ concurrency: z.number().int().min(1).max(10_000) }).strict(),
    })
    .strict(),
  z
    .object({
      command: z.literal(ControlCommand.SetRateLimit),
      args: z
        .object({
          task: nameSchema,
          rateLimit: rateSpecSchema.nullable().describe('The new rate, or null for the task\'s declared one.'),
        })
        .strict(),
    })
    .strict(),
]);

/** A control command with its arguments. */
export type ControlRequest = z.output<typeof controlRequestSchema>;

/** One worker's answer to a control command. */
export const controlReplySchema = z.object({
  /** The worker that answered. */
  worker: z.string(),
  /** Whether it applied the command. */
  ok: z.boolean(),
  /** What it reports: its state after the command (`ping` gives its queues, concurrency and running jobs). */
  result: z.record(z.string(), z.unknown()).optional(),
  /** Why it could not apply the command (`ok: false`). */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** Milliseconds from sending the command to reading this reply. */
  latencyMs: z.number(),
});

/** One worker's answer to a control command. */
export type ControlReply = z.output<typeof controlReplySchema>;

/** What sending a control command gives back: the replies that came within the timeout, and who stayed silent. */
export const controlReportSchema = z.object({
  requestId: z.string(),
  command: z.enum(ControlCommand),
  replies: z.array(controlReplySchema),
  /** Workers that were addressed (by id, or as live at the time) and did not answer within the timeout. */
  missing: z.array(z.string()),
});

/** See {@link controlReportSchema}. */
export type ControlReport = z.output<typeof controlReportSchema>;

const unitMs = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** Turns a wire rate into the `{ limit, perMs }` a task's rate limit has. */
export function toRateLimit(spec: RateSpec): RateLimit {
  if (typeof spec !== 'string') return { limit: spec.limit, perMs: spec.perMs };
  const [count, unit] = spec.split('/') as [string, keyof typeof unitMs];
  return { limit: Number(count), perMs: unitMs[unit] };
}
