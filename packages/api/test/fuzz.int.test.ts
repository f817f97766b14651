import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { defineTask, f32Array, toCatalogueEntry } from '@celeriac/core';
import { useTestRedis } from '@celeriac/testing';
import { createApiKey, createApiServer } from '@celeriac/api';
import { add } from './fixtures/api-fixtures.js';

const redis = useTestRedis();

/** The number of hostile requests, and the seed that makes them the same on every run. */
const requests = 10_000;
const seed = 0x5eed_ce1e;

const scale = defineTask({
  name: 'scale',
  input: z.object({ values: f32Array(), factor: z.number(), tags: z.array(z.string()).max(4).optional() }),
  output: f32Array(),
  handler: ({ values, factor }) => values.map((value) => value * factor),
});

/** mulberry32: a small seeded generator, so a failure replays exactly. */
function createRandom(state: number) {
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (below: number): number => Math.floor(next() * below);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}
type Random = ReturnType<typeof createRandom>;

const nastyStrings = [
  '',
  ' ',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '\ud800',
  '💥'.repeat(50),
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '{"$ne":null}',
  '__proto__',
  'constructor',
  'add',
  'celeriac.kernel',
  '-1',
  '1e309',
  'NaN',
  'a'.repeat(300),
  'A'.repeat(70_000),
  'AACAPw==',
  'not base64!',
];

/** A random JSON value: wrong types, huge strings, deep nesting, prototype keys, odd numbers. */
function randomValue(random: Random, depth = 0): unknown {
  const roll = random.int(depth > 6 ? 6 : 10);
  switch (roll) {
    case 0:
      return random.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, Number.MIN_VALUE, 4_294_967_296]);
    case 1:
      return random.pick(nastyStrings);
    case 2:
      return random.pick([true, false, null]);
    case 3:
      return random.int(2) === 0 ? {} : [];
    case 4:
      return random.pick(nastyStrings) + String(random.int(1_000));
    case 5:
      return random.next();
    case 6: {
      const items = Array.from({ length: random.int(6) }, () => randomValue(random, depth + 1));
      return items;
    }
    default: {
      const keys = ['x', 'y', 'values', 'factor', 'tags', 'task', 'input', 'kind', 'cron', 'every', '__proto__', 'constructor'];
      return Object.fromEntries(
        Array.from({ length: random.int(6) }, () => [random.pick(keys), randomValue(random, depth + 1)]),
      );
    }
  }
}

/** Nesting deep enough to break a naive recursive walker: `[[[[…]]]]` or `{"a":{"a":…}}`. */
function deeplyNested(random: Random): string {
  const depth = random.pick([100, 1_000, 10_000]);
  return random.int(2) === 0 ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** A body that is not what the route expects: random JSON, broken JSON, deep nesting, or a plausible one with a twist. */
function randomBody(random: Random): string {
  switch (random.int(6)) {
    case 0:
      return deeplyNested(random);
    case 1:
      return random.pick(['{', '{"x":', 'null', '"just a string"', '[1,2', '{"x":1,"x":2}', '\u0000', '']);
    case 2:
      return JSON.stringify({ x: randomValue(random), y: randomValue(random) });
    case 3:
      return JSON.stringify({ values: random.pick(['AACAPw==', 'AAA', '!!!', '', 'A'.repeat(4_001)]), factor: randomValue(random) });
    default:
      return JSON.stringify(randomValue(random));
  }
}

/** A URL-encoded string; a lone surrogate cannot be encoded, so it goes as the bytes a hostile client would send. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80%zz';
  }
}

/** Fills `{param}` segments of an OpenAPI path with hostile values (or, sometimes, plausible ones). */
function fillPath(random: Random, path: string): string {
  return path.replace(/\{[^}]+\}/g, () =>
    encode(random.int(4) === 0 ? random.pick(['add', 'scale', 'default', '1']) : random.pick(nastyStrings)),
  );
}

/** Routes as the OpenAPI document lists them, without the streams (an SSE answer never ends by itself). */
async function listRoutes(app: FastifyInstance): Promise<{ method: string; path: string }[]> {
  const document = (await app.inject('/docs/json')).json<{ paths: Record<string, Record<string, unknown>> }>();
  return Object.entries(document.paths)
    .filter(([path]) => !path.endsWith('/events'))
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
}

describe('the API under hostile input', () => {
  it(`answers ${requests} malformed and hostile requests without a single 5xx, and stays healthy`, { timeout: 240_000 }, async () => {
    await redis.createBroker().publishCatalogue([toCatalogueEntry(add), toCatalogueEntry(scale)]);
    const admin = createApiKey({ id: 'fuzz-admin', scopes: ['admin'] });
    const reader = createApiKey({ id: 'fuzz-reader', scopes: ['read'] });
    const app = redis.track(
      await createApiServer({
        connection: redis.url,
        prefix: redis.prefix,
        logger: false,
        auth: { keys: [admin.record, reader.record] },
        // The rate limiter is tested elsewhere; here it would answer 429 to most of the run.
        rateLimit: false,
      }),
    );
    const routes = await listRoutes(app);
    expect(routes.length).toBeGreaterThan(10);
    const random = createRandom(seed);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let n = 0; n < requests; n++) {
      const route = random.pick(routes);
      const method = random.int(10) === 0 ? random.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) : route.method;
      const query = random.int(3) === 0 ? `?${random.pick(['limit', 'cursor', 'state', 'queue', 'delay', 'jobId'])}=${encode(random.pick(nastyStrings))}` : '';
      const url = random.int(20) === 0 ? `/${encode(random.pick(nastyStrings))}` : fillPath(random, route.path) + query;
      const authorization = random.pick([
        `Bearer ${admin.key}`,
        `Bearer ${admin.key}`,
        `Bearer ${admin.key}`,
        `Bearer ${reader.key}`,
        'Bearer ',
        'Basic YWRtaW46YWRtaW4=',
        `Bearer ${'x'.repeat(10_000)}`,
        undefined,
      ]);
      const headers: Record<string, string> = {
        ...(authorization === undefined ? {} : { authorization }),
        'content-type': random.pick(['application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1']),
        ...(random.int(10) === 0 ? { 'x-forwarded-for': random.pick(nastyStrings).slice(0, 200) || '1.1.1.1' } : {}),
        ...(random.int(10) === 0 ? { 'content-encoding': random.pick(['gzip', 'br', 'bogus']) } : {}),
      };
      const request: InjectOptions = {
        method: method as NonNullable<InjectOptions['method']>,
        url,
        headers,
        ...(method === 'GET' || method === 'OPTIONS' ? {} : { payload: randomBody(random) }),
      };
      const response = await app.inject(request);
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      if (response.statusCode >= 500 && failures.length < 10) {
        failures.push(`#${n} ${method} ${url.slice(0, 120)} → ${response.statusCode} ${response.body.slice(0, 300)}`);
      }
    }
    expect(failures).toEqual([]);
    // The run reached the handlers, not only the front door: every class of answer shows up.
    const answered = [...statuses.keys()];
    expect(answered.some((status) => status >= 200 && status < 300)).toBe(true);
    expect(answered).toEqual(expect.arrayContaining([400, 401, 403, 404]));
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
  });
});
