import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Broker } from '@celeriac/broker';
import { errorResponses } from './http-schemas.js';

/** What the health routes need. */
export interface HealthRoutesOptions {
  readonly broker: Broker;
  /** How long `/readyz` waits for Redis before answering 503. */
  readonly timeoutMs: number;
}

/**
 * `GET /healthz`: the process is up (for liveness probes; it touches nothing else).
 * `GET /readyz`: Redis answers (for readiness probes; 503 within `timeoutMs` otherwise).
 */
export const healthRoutes: FastifyPluginAsyncZod<HealthRoutesOptions> = async (app, { broker, timeoutMs }) => {
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness', tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: Redis is reachable',
        tags: ['health'],
        response: { 200: z.object({ status: z.literal('ready') }), ...errorResponses(503) },
      },
    },
    async () => {
      await broker.ping(timeoutMs);
      return { status: 'ready' as const };
    },
  );
};
