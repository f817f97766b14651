import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, toCatalogueEntry } from '@celeriac/core';
import { spawnRedisServer } from '@celeriac/redis';
import { useTestRedis } from '@celeriac/testing';
import { createApiKey, createApiServer, type ApiOptions, type ApiScope } from '@celeriac/api';
import { add } from './fixtures/api-fixtures.js';

const redis = useTestRedis();

/** One key per scope set, made fresh for each server. */
function makeKeys() {
  return {
    read: createApiKey({ id: 'reader', scopes: ['read'] }),
    submit: createApiKey({ id: 'producer', scopes: ['submit'] }),
    readSubmit: createApiKey({ id: 'client', scopes: ['read', 'submit'] }),
    admin: createApiKey({ id: 'operator', scopes: ['admin'] }),
  };
}
type Keys = ReturnType<typeof makeKeys>;

/** An API with auth on (one key per scope set), on this test's prefix, with `add` published. */
async function startSecureApi(options: Partial<ApiOptions> = {}, keys: Keys = makeKeys()) {
  await redis.createBroker().publishCatalogue([toCatalogueEntry(add)]);
  const app = redis.track(
    await createApiServer({
      connection: redis.url,
      prefix: redis.prefix,
      logger: false,
      auth: { keys: Object.values(keys).map((k) => k.record) },
      ...options,
    }),
  );
  return { app, keys };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/**
 * Every route of the server, read from `printRoutes` (so routes other files add are covered too): the tree's lines
 * are `├── /v1/tasks (GET, HEAD)`, with children indented four characters per level and their paths relative.
 */
function listRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const stack: string[] = [];
  const routes: { method: string; url: string }[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│├└─\s]*)(\S.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4 - 1;
    const url = (depth > 0 ? (stack[depth - 1] ?? '') : '') + (match[2] ?? '');
    stack[depth] = url;
    stack.length = depth + 1;
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, url });
  }
  return routes;
}

const isPublic = (url: string) =>
  url === '/healthz' || url === '/readyz' || url === '/docs' || url.startsWith('/docs/') || url === '/dashboard' || url.startsWith('/dashboard/');
/** A key that lacks the scope: for `read`, a submit-only key; for `submit`, a read-only key; for `admin`, read+submit. */
const lowerKey = (keys: Keys, scope: ApiScope) =>
  scope === 'read' ? keys.submit.key : scope === 'submit' ? keys.read.key : keys.readSubmit.key;
/** A concrete URL for a route pattern: parameters and wildcards get harmless values. */
const concrete = (url: string) =>
  url.replaceAll('/:name', '/add').replaceAll(/\/:[A-Za-z]+/g, '/no-such-id').replaceAll('/*', '/x');

describe('API security', () => {
  it('answers 401 without a key and 403 with a lower scope on every protected route, and only them', async () => {
    const { app, keys } = await startSecureApi();
    const routes = listRoutes(app);
    // The enumeration must see the routes this file knows of, or the loop below would prove nothing.
    expect(routes).toEqual(expect.arrayContaining([{ method: 'POST', url: '/v1/tasks/:name' }, { method: 'GET', url: '/v1/jobs/:id' }]));
    // A 401 names the scope the route needs; HEAD answers have no body, so they are checked after their GET.
    const scopes = new Map<string, ApiScope>();
    const order = (method: string) => (method === 'HEAD' ? 1 : 0);
    const protectedRoutes = routes
      .filter((route) => !isPublic(route.url) && route.method !== 'OPTIONS')
      .sort((a, b) => order(a.method) - order(b.method));
    expect(protectedRoutes.length).toBeGreaterThanOrEqual(12);
    for (const { method, url } of protectedRoutes) {
      const target = { method: method as 'GET', url: concrete(url) };
      const anonymous = await app.inject(target);
      expect(anonymous.statusCode, `${method} ${url} without a key`).toBe(401);
      expect(anonymous.headers['www-authenticate'], `${method} ${url}`).toBe('Bearer');
      if (method !== 'HEAD') {
        expect(anonymous.json().error.code).toBe(ErrorCode.Unauthenticated);
        scopes.set(`${method} ${url}`, anonymous.json().error.details.required);
      }

      const wrong = await app.inject({ ...target, headers: bearer('celeriac_not-a-key') });
      expect(wrong.statusCode, `${method} ${url} with an unknown key`).toBe(401);
      expect(wrong.headers['www-authenticate']).toBe('Bearer error="invalid_token"');

      // A HEAD route is Fastify's copy of its GET route, with the same scope.
      const scope = method === 'HEAD' ? scopes.get(`GET ${url}`) : anonymous.json().error.details.required;
      expect(['read', 'submit', 'admin'], `${method} ${url} declares a scope`).toContain(scope);
      const lower = await app.inject({ ...target, headers: bearer(lowerKey(keys, scope!)) });
      expect(lower.statusCode, `${method} ${url} with a key lacking "${scope}"`).toBe(403);
      if (method !== 'HEAD') {
        expect(lower.json().error).toMatchObject({ code: ErrorCode.Forbidden, details: { required: scope } });
      }
    }
    for (const url of ['/healthz', '/readyz', '/docs/json']) expect((await app.inject(url)).statusCode, url).toBe(200);
  });

  it('lets the right scope through: read reads, submit submits, admin does everything', async () => {
    const { app, keys } = await startSecureApi();
    const submit = (key: string) =>
      app.inject({ method: 'POST', url: '/v1/tasks/add', payload: { x: 1, y: 2 }, headers: bearer(key) });
    expect((await app.inject({ url: '/v1/tasks', headers: bearer(keys.read.key) })).statusCode).toBe(200);
    const submitted = await submit(keys.submit.key);
    expect(submitted.statusCode).toBe(201);
    const { id } = submitted.json();
    // submit does not grant read: a producer cannot read jobs back.
    expect((await app.inject({ url: `/v1/jobs/${id}`, headers: bearer(keys.submit.key) })).statusCode).toBe(403);
    expect((await app.inject({ url: `/v1/jobs/${id}`, headers: bearer(keys.readSubmit.key) })).json()).toMatchObject({ id, state: 'queued' });
    const cancel = { method: 'POST' as const, url: `/v1/jobs/${id}/cancel` };
    expect((await app.inject({ ...cancel, headers: bearer(keys.readSubmit.key) })).statusCode).toBe(403);
    expect((await app.inject({ ...cancel, headers: bearer(keys.admin.key) })).json()).toEqual({ id, outcome: 'cancelled' });
    expect((await submit(keys.admin.key)).statusCode).toBe(201);
    expect((await app.inject({ url: '/v1/schedules', headers: bearer(keys.admin.key) })).statusCode).toBe(200);
    // The scheme is case-insensitive, as RFC 7235 says.
    expect((await app.inject({ url: '/v1/tasks', headers: { authorization: `bearer ${keys.read.key}` } })).statusCode).toBe(200);
  });

  it('refuses to start without keys, and refuses a route without a scope', async () => {
    const noKeys = createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false });
    await expect(noKeys).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
    await expect(noKeys).rejects.toThrow(/no API keys[\s\S]*auth: false/);
    await expect(createApiServer({ logger: false, auth: { keys: [] } })).rejects.toThrow('no API keys');

    for (const auth of [undefined, false] as const) {
      const { app } = auth === false
        ? { app: redis.track(await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth })) }
        : await startSecureApi();
      expect(() => app.get('/v1/forgotten', async () => 'open')).toThrow(/declares no API-key scope/);
      expect(() => app.get('/v1/declared', { config: { scope: 'read' } }, async () => 'guarded')).not.toThrow();
    }
  });

  it('documents the bearer scheme and each route’s scope in OpenAPI; docs need read when not public', async () => {
    const { app } = await startSecureApi();
    const doc = (await app.inject('/docs/json')).json();
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    const submit = doc.paths['/v1/tasks/{name}'].post;
    expect(submit.security).toEqual([{ apiKey: [] }]);
    expect(submit.description).toContain('`submit` scope');
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
    expect(doc.paths['/healthz'].get.security).toBeUndefined();

    const keys = makeKeys();
    const { app: privateDocs } = await startSecureApi({ auth: { keys: [keys.read.record, keys.submit.record], publicDocs: false } }, keys);
    expect((await privateDocs.inject('/docs/json')).statusCode).toBe(401);
    expect((await privateDocs.inject({ url: '/docs/json', headers: bearer(keys.submit.key) })).statusCode).toBe(403);
    expect((await privateDocs.inject({ url: '/docs/json', headers: bearer(keys.read.key) })).statusCode).toBe(200);
  });

  it('rate-limits per key in Redis, shared by every API instance, with 429 in the error shape', async () => {
    const keys = makeKeys();
    const options = { rateLimit: { max: 3, timeWindow: '1m' } } as const;
    const { app: first } = await startSecureApi(options, keys);
    const { app: second } = await startSecureApi(options, keys);
    const read = (app: FastifyInstance, key: string) => app.inject({ url: '/v1/tasks', headers: bearer(key) });
    expect((await read(first, keys.read.key)).headers['x-ratelimit-limit']).toBe('3');
    expect((await read(first, keys.read.key)).statusCode).toBe(200);
    // The third request goes to the other instance: the count lives in Redis.
    expect((await read(second, keys.read.key)).statusCode).toBe(200);
    const limited = await read(second, keys.read.key);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toMatchObject({ code: ErrorCode.RateLimited, details: { limit: 3 } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another key has its own budget.
    expect((await read(first, keys.admin.key)).statusCode).toBe(200);
    // Without a valid key the budget is the address's, so guessing keys is limited too.
    const guesses = [];
    for (let i = 0; i < 4; i++) guesses.push((await first.inject({ url: '/v1/tasks', headers: bearer(`celeriac_guess${i}`) })).statusCode);
    expect(guesses).toEqual([401, 401, 401, 429]);
    // Probes are never limited.
    for (let i = 0; i < 5; i++) expect((await first.inject('/healthz')).statusCode).toBe(200);
  });

  it('answers 503 (not 500) when Redis is down, with auth and the Redis rate limiter on', async () => {
    const doomed = await spawnRedisServer();
    await doomed.stop();
    const keys = makeKeys();
    const app = redis.track(
      await createApiServer({
        connection: doomed.url,
        prefix: redis.prefix,
        logger: false,
        redisTimeout: '500ms',
        auth: { keys: [keys.submit.record] },
      }),
    );
    const submit = await app.inject({ method: 'POST', url: '/v1/tasks/add', payload: { x: 1, y: 2 }, headers: bearer(keys.submit.key) });
    expect(submit.statusCode).toBe(503);
    expect(submit.json().error.code).toBe(ErrorCode.BrokerUnavailable);
  });

  it('sends helmet’s security headers', async () => {
    const { app, keys } = await startSecureApi();
    for (const response of [await app.inject('/healthz'), await app.inject({ url: '/v1/tasks', headers: bearer(keys.read.key) })]) {
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['content-security-policy']).toContain("default-src 'self'");
      expect(response.headers['strict-transport-security']).toContain('max-age=');
    }
  });

  it('has CORS off by default, and allows only the configured origins when on', async () => {
    const preflight = (app: FastifyInstance, origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/v1/tasks',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    const { app: closed } = await startSecureApi();
    const refused = await preflight(closed, 'https://ops.example.com');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();

    const { app: open, keys } = await startSecureApi({ cors: { origins: ['https://ops.example.com'] } });
    const allowed = await preflight(open, 'https://ops.example.com');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://ops.example.com');
    expect(allowed.headers['access-control-allow-headers']).toContain('authorization');
    expect((await preflight(open, 'https://evil.example.com')).headers['access-control-allow-origin']).toBeUndefined();
    const read = await open.inject({ url: '/v1/tasks', headers: { origin: 'https://ops.example.com', ...bearer(keys.read.key) } });
    expect(read.statusCode).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBe('https://ops.example.com');
  });

  it('logs requests without keys or payloads', async () => {
    let logged = '';
    const stream = new Writable({ write: (chunk, _encoding, done) => ((logged += String(chunk)), done()) });
    const { app, keys } = await startSecureApi({ logger: { level: 'trace', stream } });
    await app.inject({ method: 'POST', url: '/v1/tasks/add', payload: { x: 424242, y: 1 }, headers: bearer(keys.submit.key) });
    await app.inject({ url: '/v1/tasks', headers: bearer('celeriac_wrong-secret') });
    expect(logged).toContain('/v1/tasks/add');
    expect(logged).not.toContain(keys.submit.key);
    expect(logged).not.toContain('wrong-secret');
    expect(logged).not.toContain('424242');
  });
});
