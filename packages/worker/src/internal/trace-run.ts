import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { serializeError } from '@celeriac/core';
import type { ReceivedJob } from '@celeriac/broker';

/** The tracer's name: the package that makes the spans, as OpenTelemetry asks. */
const tracerName = '@celeriac/worker';

/**
 * Runs one attempt of a job inside a `celeriac.run <task>` consumer span. The span is the child of the producer's
 * `celeriac.enqueue` span, whose W3C trace context the job carries (`meta.trace`), so one trace goes from enqueue
 * to completion even across processes; a job without one starts a new trace. The span ends with the attempt:
 * status OK, or ERROR with the failure's code. Handlers that run inline run inside the span, so their own spans are
 * its children (handlers in sandbox threads do not inherit it: a thread has its own context).
 * Only `@opentelemetry/api` is used: without an SDK installed by the app, this costs a no-op span.
 */
export async function traceRun<T>(job: ReceivedJob, run: () => Promise<T>): Promise<T> {
  const tracer = trace.getTracer(tracerName);
  const carrier = traceCarrierOf(job.data);
  const parent = carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
  const span = tracer.startSpan(
    `celeriac.run ${job.task}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'celeriac',
        'messaging.operation.type': 'process',
        'messaging.destination.name': job.queue,
        'messaging.message.id': job.id,
        'celeriac.task': job.task,
        'celeriac.attempt': job.attempt,
      },
    },
    parent,
  );
  try {
    const result = await context.with(trace.setSpan(parent, span), run);
    span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (error) {
    const { code, message } = serializeError(error);
    span.setAttribute('celeriac.error.code', code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${code}: ${message}` });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * The trace context of a job's envelope, read without decoding it (run-job validates the envelope; a malformed
 * carrier only loses the link to the producer).
 */
function traceCarrierOf(data: unknown): Record<string, string> | undefined {
  const trace = (data as { meta?: { trace?: unknown } } | null)?.meta?.trace;
  if (typeof trace !== 'object' || trace === null) return undefined;
  const carrier: Record<string, string> = {};
  for (const [key, value] of Object.entries(trace)) if (typeof value === 'string') carrier[key] = value;
  return carrier;
}
