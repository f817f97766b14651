import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { CeleriacError, ErrorCode, omitUndefined } from '@celeriac/core';
import { createCatalogueCache, createClient } from '@celeriac/client';
import { createRedisBroker } from '@celeriac/redis';
import { resolveApiOptions, type ApiOptions } from './api-options.js';
import { CatalogueValidator } from './internal/catalogue-validator.js';
import { toHttpError } from './internal/to-http-error.js';
import { healthRoutes } from './routes/health-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { taskRoutes } from './routes/task-routes.js';
import { workflowRoutes } from './routes/workflow-routes.js';

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
 */
export async function createApiServer(options: ApiOptions = {}): Promise<FastifyInstance> {
  const resolved = resolveApiOptions(options);
  const broker =
    resolved.broker ??
    createRedisBroker(
      omitUndefined({ connection: resolved.connection, prefix: resolved.prefix, commandTimeout: resolved.redisTimeout }),
    );
  // One catalogue cache for validating submissions and for enqueueing them: one Redis read a second, not two.
  const catalogueCache = createCatalogueCache(broker);
  const client = createClient({ broker, source: 'http', catalogue: catalogueCache });
  const catalogue = new CatalogueValidator(catalogueCache);

  const app = Fastify({ logger: resolved.logger ?? true, bodyLimit: resolved.bodyLimitBytes });
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
      tags: [{ name: 'tasks' }, { name: 'jobs' }, { name: 'workflows' }, { name: 'health' }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes, { broker, timeoutMs: resolved.redisTimeout });
  await app.register(taskRoutes, { client, catalogue });
  await app.register(jobRoutes, { client });
  await app.register(workflowRoutes, { client, catalogue });

  app.addHook('onClose', async () => {
    if (!resolved.broker) await broker.close();
  });
  return app;
}
