import { SpanKind, SpanStatusCode, context, propagation, trace, type Span } from '@opentelemetry/api';
import type { EnqueueRequest } from '@celeriac/broker';
import type { JobRecord } from '@celeriac/core';

/** The tracer's name: the package that makes the spans, as OpenTelemetry asks. */
const tracerName = '@celeriac/client';

/**
 * Enqueues inside a `celeriac.enqueue` producer span and carries its W3C trace context in the job
 * (`envelope.meta.trace`), so the worker's run span joins the same trace as the producer's child. Only
 * `@opentelemetry/api` is used: without an SDK installed by the app, the span is a no-op and nothing is added to the
 * job. The span is a child of whatever span is active (an HTTP request's, in the API).
 */
export async function traceEnqueue(request: EnqueueRequest, enqueue: () => Promise<JobRecord>): Promise<JobRecord> {
  const tracer = trace.getTracer(tracerName);
  const span = tracer.startSpan('celeriac.enqueue', {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'celeriac',
      'messaging.operation.type': 'send',
      'messaging.destination.name': request.queue,
      'celeriac.task': request.task,
    },
  });
  if (span.isRecording()) injectTraceContext(request, span);
  try {
    const record = await enqueue();
    span.setAttribute('messaging.message.id', record.id);
    span.setStatus({ code: SpanStatusCode.OK });
    return record;
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

function injectTraceContext(request: EnqueueRequest, span: Span): void {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  // No propagator registered (an SDK without one): nothing to carry.
  if (Object.keys(carrier).length > 0) request.envelope.meta.trace = carrier;
}
