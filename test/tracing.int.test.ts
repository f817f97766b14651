import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { pino } from 'pino';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ErrorCode, TaskFailure, defineTask } from '@celeriac/core';
import { createClient } from '@celeriac/client';
import { createWorker } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { pollUntil } from './fixtures/poll-until.js';

const redis = useTestRedis();

/** The OpenTelemetry SDK an app would install: a real tracer provider, with spans kept in memory to inspect. */
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});
beforeEach(() => exporter.reset());

const traced = defineTask({
  name: 'traced',
  input: z.object({ fail: z.boolean() }),
  output: z.string(),
  isolation: 'inline',
  handler: ({ fail }) => {
    // A span the handler makes is a child of the run span: the handler runs inside it.
    trace.getTracer('app').startActiveSpan('inside-handler', (span) => span.end());
    if (fail) throw TaskFailure.nonRetryable('refused on purpose');
    return 'ok';
  },
});

async function startWorker() {
  const worker = redis.track(
    createWorker({ tasks: [traced], connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }) }),
  );
  await worker.start();
}

const spanNamed = (name: string) => () => exporter.getFinishedSpans().find((span) => span.name === name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('OpenTelemetry spans across enqueue → run → complete', () => {
  it('carries one trace from the caller through the enqueue span to the run span, as parent and children', async () => {
    await startWorker();
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const tracer = trace.getTracer('app');
    const job = await tracer.startActiveSpan('checkout', async (span) => {
      try {
        return await client.enqueue(traced, { fail: false });
      } finally {
        span.end();
      }
    });
    expect(await job.result({ timeoutMs: 10_000 })).toBe('ok');

    const checkout = await pollUntil(spanNamed('checkout'));
    const enqueue = await pollUntil(spanNamed('celeriac.enqueue'));
    const run = await pollUntil(spanNamed('celeriac.run traced'));
    const inside = await pollUntil(spanNamed('inside-handler'));
    const traceId = checkout.spanContext().traceId;
    for (const span of [enqueue, run, inside]) expect(span.spanContext().traceId).toBe(traceId);
    expect(parentOf(enqueue)).toBe(checkout.spanContext().spanId);
    expect(parentOf(run)).toBe(enqueue.spanContext().spanId);
    expect(parentOf(inside)).toBe(run.spanContext().spanId);

    expect(enqueue.kind).toBe(SpanKind.PRODUCER);
    expect(enqueue.attributes).toMatchObject({ 'messaging.system': 'celeriac', 'messaging.destination.name': 'default', 'messaging.message.id': job.id, 'celeriac.task': 'traced' });
    expect(run.kind).toBe(SpanKind.CONSUMER);
    expect(run.attributes).toMatchObject({ 'messaging.message.id': job.id, 'celeriac.attempt': 1 });
    expect(run.status.code).toBe(SpanStatusCode.OK);
    // The job carries the context as a W3C traceparent, which any other consumer can read too.
    const record = await client.getJob(job.id);
    expect(record.state).toBe('succeeded');
  });

  it('ends the run span with an error status and the failure code when the job fails', async () => {
    await startWorker();
    const client = redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));
    const job = await client.enqueue(traced, { fail: true });
    await expect(job.result({ timeoutMs: 10_000 })).rejects.toMatchObject({ code: ErrorCode.JobFailed });
    const run = await pollUntil(spanNamed('celeriac.run traced'));
    const enqueue = await pollUntil(spanNamed('celeriac.enqueue'));
    // No caller span: the enqueue span starts the trace, and the run span is still its child.
    expect(parentOf(enqueue)).toBeUndefined();
    expect(parentOf(run)).toBe(enqueue.spanContext().spanId);
    expect(run.status).toMatchObject({ code: SpanStatusCode.ERROR, message: expect.stringContaining(ErrorCode.TaskFailed) });
    expect(run.attributes['celeriac.error.code']).toBe(ErrorCode.TaskFailed);
  });
});
