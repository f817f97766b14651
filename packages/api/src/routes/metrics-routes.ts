import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Broker } from '@celeriac/broker';
import { createApiMetrics } from '../internal/metrics/create-api-metrics.js';

/** What the metrics route needs. */
export interface MetricsRoutesOptions {
  readonly broker: Broker;
}

/**
 * `GET /metrics`: Prometheus metrics. It needs a key with the `read` scope, like every other route that shows
 * data: queue and task names, worker hosts and error codes are worth keeping from strangers, and Prometheus sends
 * a bearer key with `authorization: { credentials_file: ... }` in its scrape config.
 */
export const metricsRoutes: FastifyPluginAsyncZod<MetricsRoutesOptions> = async (app, { broker }) => {
  const metrics = createApiMetrics(broker);
  app.get(
    '/metrics',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Prometheus metrics: queue depths, job durations and failures, workers, GPU executors, the process',
        description:
          'The Prometheus text format. Queue depths, worker counts and GPU activity are read from Redis at scrape ' +
          'time; job durations and failures are the totals every worker records in Redis. They describe the whole ' +
          'deployment, so scrape one API instance (or aggregate with max, not sum). The metrics are listed in ' +
          'docs/operations.md.',
        tags: ['health'],
      },
    },
    async (_request, reply) => {
      const text = await metrics.scrape();
      return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
    },
  );
};
