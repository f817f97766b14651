import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { CeleriacError, ErrorCode, isCeleriacError, omitUndefined } from '@celeriac/core';
import type { Broker } from '@celeriac/broker';
import { createCatalogueCache, createClient } from '@celeriac/client';
import { createRedisBroker, createRedisConnection } from '@celeriac/redis';
import { resolveApiOptions, type ApiOptions } from './api-options.js';
import { CatalogueValidator } from './internal/catalogue-validator.js';
import { toHttpError } from './internal/to-http-error.js';
import { registerSecurity, toLoggerOptions } from './internal/register-security.js';
import { createJobWaitingForLookup } from './internal/find-job-waiting-for.js';
import { healthRoutes } from './routes/health-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { taskRoutes } from './routes/task-routes.js';
import { workflowRoutes } from './routes/workflow-routes.js';
import { scheduleRoutes } from './routes/schedule-routes.js';
import { bulkRoutes } from './routes/bulk-routes.js';
import { jobListRoutes } from './routes/job-list-routes.js';
import { queueRoutes } from './routes/queue-routes.js';
import { workerRoutes } from './routes/worker-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { dashboardRoutes } from './routes/dashboard-routes.js';

/**
 * Builds the celeriac HTTP API as a Fastify instance, ready to `listen()` or to `inject()` in tests.
 * It validates submissions against the JSON Schemas that workers publish, so it never loads task code.
 *
 * @example
 * ```ts
 * const app = await createApiServer({ connection: process.env.REDIS_URL });
 * await app.listen({ host: '0.0.0.0', port: 8080 });
 * // OpenAPI at /docs/json, interactive docs at /docs
 * ```
 * @throws CeleriacError `CELERIAC_INVALID_OPTIONS` for bad options
 * @throws CeleriacError `CELERIAC_BROKER_MISCONFIGURED` for a Redis that does not fit (see `Broker.verifyDeployment`)
 */
export async function createApiServer(options: ApiOptions = {}): Promise<FastifyInstance> {
  const resolved = resolveApiOptions(options);
  // Many requests in flight at once: their Redis commands of one tick leave in one socket write (auto-pipelining),
  // which is where the submit path spent its time (docs/benchmarks.md, HTTP submit).
  const redis = { connection: resolved.connection, prefix: resolved.prefix, autoPipelining: true };
  const broker =
    resolved.broker ??
    createRedisBroker(omitUndefined({ ...redis, commandTimeout: resolved.redisTimeout, allowEviction: resolved.allowEviction }));
  // One catalogue cache for validating submissions and for enqueueing them: one Redis read a second, not two.
  const catalogueCache = createCatalogueCache(broker);
  const client = createClient({ broker, source: 'http', catalogue: catalogueCache });
  const catalogue = new CatalogueValidator(catalogueCache);

  // The rate limiter counts in the same Redis, so every API instance shares one count per key. With a broker given
  // instead of a connection there is no connection to reuse, and the count stays in this process.
  const rateLimitRedis =
    resolved.rateLimit !== false && !resolved.broker
      ? {
          redis: createRedisConnection(omitUndefined(redis)),
          keyPrefix: `{${resolved.prefix ?? 'celeriac'}}`,
        }
      : undefined;

  const app = Fastify({
    logger: toLoggerOptions(resolved.logger),
    bodyLimit: resolved.bodyLimitBytes,
    trustProxy: resolved.trustProxy as boolean | string | string[],
  });
  app.addHook('onClose', async () => {
    if (!resolved.broker) await broker.close();
    // QUIT fails at once while Redis is down (no offline queue); then just drop the socket.
    await rateLimitRedis?.redis.quit().catch(() => rateLimitRedis.redis.disconnect());
  });
  await checkDeployment(broker, app);
  if (resolved.auth === false) {
    app.log.warn('API authentication is OFF (auth: false): every route is open to anyone who can reach this server. Use it only in tests or on a trusted network.');
  }
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => {
    const httpError = toHttpError(error);
    if (httpError.httpStatus >= 500) request.log.error({ err: error }, httpError.message);
    return reply.status(httpError.httpStatus).send({
      error: { code: httpError.code, message: httpError.message, details: httpError.details },
    });
  });
  app.setNotFoundHandler((request) => {
    throw new CeleriacError(
      ErrorCode.RouteNotFound,
      `No route ${request.method} ${request.url}. The API is described at /docs.`,
    );
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'celeriac API',
        version: '1',
        description: 'Submit typed tasks and follow their jobs. Errors answer `{ error: { code, message, details } }`.',
      },
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key: `Authorization: Bearer <key>`. Each route says which scope it needs.',
          },
        },
      },
      tags: [{ name: 'tasks' }, { name: 'jobs' }, { name: 'workflows' }, { name: 'schedules' }, { name: 'queues' }, { name: 'workers' }, { name: 'health' }],
    },
    transform: jsonSchemaTransform,
  });
  await registerSecurity(app, resolved, rateLimitRedis);
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes, { broker, timeoutMs: resolved.redisTimeout });
  await app.register(taskRoutes, { client, catalogue });
  await app.register(jobRoutes, { client, waitingFor: createJobWaitingForLookup(broker, catalogueCache) });
  await app.register(workflowRoutes, { client, catalogue });
  await app.register(scheduleRoutes, { client, catalogue });
  await app.register(bulkRoutes, { client, catalogue, maxBulkJobs: resolved.maxBulkJobs });
  await app.register(jobListRoutes, { client });
  await app.register(queueRoutes, { client });
  await app.register(workerRoutes, { client });
  await app.register(eventRoutes, { client, broker });
  await app.register(metricsRoutes, { broker });
  await app.register(dashboardRoutes);
  return app;
}

/**
 * Runs the broker's deployment check before the server is built, so a misfit Redis (a cluster node behind a plain
 * connection, a memory policy that evicts jobs) stops the start with an error that says what to change, and its
 * warnings reach the log. A Redis that is down does not stop it: the server starts, `/readyz` answers 503, and the
 * broker runs the check before its first call once Redis is back (failing every call if the check fails then).
 */
async function checkDeployment(broker: Broker, app: FastifyInstance): Promise<void> {
  try {
    const { warnings } = await broker.verifyDeployment();
    for (const warning of warnings) app.log.warn(warning);
  } catch (error) {
    if (isCeleriacError(error, ErrorCode.BrokerUnavailable)) {
      app.log.warn(`Redis is not reachable yet; the API starts anyway and checks Redis once it answers. ${error.message}`);
      return;
    }
    await app.close(); // closes the broker and the rate limiter's connection
    throw error;
  }
}
