import { z } from 'zod';
import { CeleriacError } from '../errors/celeriac-error.js';
import { ErrorCode } from '../errors/error-catalogue.js';
import { formatValidationIssues, toValidationIssues } from '../options/resolve-options.js';
import { Backoff } from '../task/retry-policy.js';
import { workflowMetaSchema } from '../workflow/workflow-meta.js';

/** Where a job was submitted from; kept for operators. `schedule` jobs are a schedule's firings. */
export const JobSource = { Sdk: 'sdk', Http: 'http', Cli: 'cli', Schedule: 'schedule' } as const;
/** One of {@link JobSource}. */
export type JobSource = (typeof JobSource)[keyof typeof JobSource];

/** The current envelope version. A worker refuses versions it does not know rather than guess. */
export const envelopeVersion = 1;

/**
 * The versioned wrapper stored as a job's data: `{ v, input, meta }`. Versioning lets an old worker refuse a job
 * written by a newer client with a clear error instead of misreading it.
 */
export const jobEnvelopeSchema = z.object({
  v: z.literal(envelopeVersion),
  input: z.unknown(),
  // The task name and the enqueue time are the BullMQ job's own name and timestamp; the envelope does not repeat them.
  meta: z.object({
    source: z.enum(JobSource),
    /** How to wait between attempts; present when the job may be retried. */
    retry: z
      .object({ backoff: z.enum(Backoff), delayMs: z.number(), maxDelayMs: z.number(), jitter: z.number() })
      .optional(),
    /** When a job that has not started yet expires. */
    expiresAtMs: z.number().optional(),
    /** This job's time limits, when it has any. */
    limits: z.object({ softMs: z.number().optional(), hardMs: z.number().optional() }).optional(),
    /** Present on the jobs of a workflow: where the input comes from, and what to create on success. */
    workflow: workflowMetaSchema.optional(),
    /**
     * The W3C trace context of the span that enqueued the job (`traceparent`, and `tracestate` when set), so the
     * worker's run span joins the producer's trace. Present only when the producer had OpenTelemetry installed.
     */
    trace: z.record(z.string(), z.string()).optional(),
  }),
});

/** What a job carries beside its input: where it came from, and the policies it runs under. */
export type JobMeta = JobEnvelope['meta'];

/** A job's data as stored in Redis. */
export type JobEnvelope = z.output<typeof jobEnvelopeSchema>;

/** Wraps a task input in a fresh envelope. */
export function createJobEnvelope(input: unknown, meta: JobMeta): JobEnvelope {
  return { v: envelopeVersion, input, meta };
}

const sources: ReadonlySet<unknown> = new Set(Object.values(JobSource));

/** The cheap structural check that passes every well-formed envelope; zod runs only to explain a bad one. */
function isJobEnvelope(data: unknown): data is JobEnvelope {
  if (typeof data !== 'object' || data === null) return false;
  const { v, meta } = data as { v?: unknown; meta?: { source?: unknown } };
  return v === envelopeVersion && 'input' in data && typeof meta === 'object' && meta !== null && sources.has(meta.source);
}

/**
 * Validates job data read back from Redis. Anything could be there (an older version, a hand-written job), so it
 * is checked like any other input.
 *
 * @throws CeleriacError `CELERIAC_JOB_DATA_CORRUPT`
 */
export function decodeJobEnvelope(data: unknown, jobId: string): JobEnvelope {
  if (isJobEnvelope(data)) return data;
  const parsed = jobEnvelopeSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issues = toValidationIssues(parsed.error, 'job.data');
  throw new CeleriacError(
    ErrorCode.JobDataCorrupt,
    `Job "${jobId}" has data that is not a celeriac v${envelopeVersion} envelope (${formatValidationIssues(issues)}). ` +
      'Enqueue jobs through the celeriac client or HTTP API, and run workers of the same major version.',
    { details: { jobId, issues } },
  );
}
