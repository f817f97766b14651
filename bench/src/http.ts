/**
 * HTTP submit throughput: POST /v1/tasks/:name on the celeriac API against a plain Fastify hello-world route.
 *
 * Run it with `npm run bench -- http [--duration 10] [--connections 50] [--repeats 3]`. Set `REDIS_URL` to use an
 * existing server; otherwise a private redis-server without persistence is spawned. Both servers listen on
 * 127.0.0.1 in this process and autocannon drives them from this process too, one at a time, alternating which goes
 * first; the report holds the median requests per second of each and the ratio celeriac / hello world.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { defineTask, toCatalogueEntry } from '@celeriac/core';
import { createApiKey, createApiServer } from '@celeriac/api';
import { createRedisBroker } from '@celeriac/redis';
import { BenchStatus, compareFigure, type BenchReport, type BenchRunOptions } from './lib/bench-report.js';
import { median } from './lib/measure.js';
import { positiveInteger } from './lib/positive-integer.js';
import { deleteKeys, describeRedisTarget, openRedisTarget } from './lib/redis-target.js';

/** celeriac's submit route must reach at least this share of a hello-world route's requests per second. */
const targetRatio = 0.4;

/** The task submitted: the API validates its body against the published JSON Schema and enqueues it. */
const add = defineTask({
  name: 'add',
  input: z.object({ x: z.number(), y: z.number() }),
  output: z.number(),
  handler: ({ x, y }) => x + y,
});

interface Options {
  readonly durationS: number;
  readonly connections: number;
  readonly repeats: number;
}

/** One autocannon run against `url`: requests per second (2xx only); any failed request fails the run. */
async function drive(url: string, options: Options, request: Partial<autocannon.Options>): Promise<number> {
  const result = await autocannon({ url, connections: options.connections, duration: options.durationS, ...request });
  const non2xx = result.non2xx + result.errors + result.timeouts;
  if (non2xx > 0) throw new Error(`${url}: ${non2xx} of ${result.requests.total} requests failed; the figure would be wrong`);
  return result.requests.average;
}

async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** Runs the HTTP benchmark and returns its report; see the file's opening comment. */
export async function run({ args, quick, log }: BenchRunOptions): Promise<BenchReport> {
  const options = parseOptions(args, quick);
  const target = await openRedisTarget();
  const prefix = `bench-http-${randomBytes(3).toString('hex')}`;
  const broker = createRedisBroker({ connection: target.url, prefix });
  const key = createApiKey({ id: 'bench', scopes: ['submit'] });
  const hello = Fastify({ logger: false });
  hello.get('/hello', async () => ({ hello: 'world' }));
  // As in production: the API opens its own Redis connections, and authentication is on. The per-key rate limit is
  // off, or it would answer most requests with 429.
  const api = await createApiServer({
    connection: target.url,
    prefix,
    logger: false,
    auth: { keys: [key.record] },
    rateLimit: false,
  });
  try {
    await broker.publishCatalogue([toCatalogueEntry(add)]);
    const [helloUrl, apiUrl] = [await listen(hello), await listen(api)];
    const redis = await describeRedisTarget(target);
    log(`autocannon, ${options.connections} connections, ${options.durationS} s per run, ${options.repeats} run(s) per side`);
    const submit: Partial<autocannon.Options> = {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key.key}` },
      body: JSON.stringify({ x: 2, y: 3 }),
    };
    const sides = {
      hello: (load: Options) => drive(`${helloUrl}/hello`, load, {}),
      celeriac: (load: Options) => drive(`${apiUrl}/v1/tasks/add`, load, submit),
    };
    // One short unrecorded round each: JIT, connections, BullMQ's scripts.
    log('warm-up (not recorded)…');
    for (const side of Object.values(sides)) await side({ ...options, durationS: 1 });
    const results: Record<keyof typeof sides, number[]> = { hello: [], celeriac: [] };
    for (let repeat = 0; repeat < options.repeats; repeat++) {
      const order = repeat % 2 === 0 ? (['hello', 'celeriac'] as const) : (['celeriac', 'hello'] as const);
      for (const side of order) {
        const perSecond = await sides[side](options);
        results[side].push(perSecond);
        log(`run ${repeat + 1} ${side.padEnd(8)} ${Math.round(perSecond).toLocaleString('en-US')} req/s`);
      }
    }
    return toReport(options, redis, results);
  } finally {
    await Promise.all([hello.close(), api.close()]);
    await broker.close();
    await deleteKeys(target.admin, `{${prefix}}`);
    await target.close();
  }
}

function toReport(options: Options, redis: string, results: Record<'hello' | 'celeriac', number[]>): BenchReport {
  const [helloMedian, celeriacMedian] = [median(results.hello), median(results.celeriac)];
  const ratio = (celeriacMedian / helloMedian).toFixed(2);
  const missed = Number(ratio) < targetRatio;
  const runs = (side: 'hello' | 'celeriac') => results[side].map((value) => Math.round(value).toLocaleString('en-US'));
  return {
    name: 'http',
    title: 'HTTP submit',
    baseline: 'GET /hello on a plain Fastify, same process, same load generator',
    command:
      `npm run bench -- http --duration ${options.durationS} --connections ${options.connections} ` +
      `--repeats ${options.repeats}`,
    redis,
    environment: [
      `autocannon in the same process, ${options.connections} connections, ${options.durationS} s per run, ` +
        `median of ${options.repeats} run(s) per side`,
    ],
    status: BenchStatus.Ok,
    reason: undefined,
    figures: [
      compareFigure('POST /v1/tasks/add', 'req/s', { celeriac: celeriacMedian, baseline: helloMedian }, {
        higherIsBetter: true,
        target: `ratio ≥ ${targetRatio}`,
        missed,
      }),
    ],
    sections: [
      {
        title: `HTTP submit, medians of ${options.repeats} run(s); ratio = celeriac / hello world`,
        header: ['route', 'req/s', 'ratio'],
        rows: [
          ['GET /hello (plain Fastify)', Math.round(helloMedian).toLocaleString('en-US'), '1.00'],
          [
            'POST /v1/tasks/add (validate, authenticate, enqueue)',
            Math.round(celeriacMedian).toLocaleString('en-US'),
            `${ratio}${missed ? ' ⚠' : ''}`,
          ],
        ],
        notes: [
          `runs: hello ${runs('hello').join(' / ')}; celeriac ${runs('celeriac').join(' / ')} req/s`,
          `target: ratio ≥ ${targetRatio} (⚠ marks a miss)`,
        ],
      },
    ],
  };
}

/** `--duration S` (default 10), `--connections N` (default 50), `--repeats N` (default 3); `--quick`: 3 s, 1 run. */
function parseOptions(args: readonly string[], quick: boolean): Options {
  const { values } = parseArgs({
    args: [...args],
    options: {
      duration: { type: 'string', default: quick ? '3' : '10' },
      connections: { type: 'string', default: '50' },
      repeats: { type: 'string', default: quick ? '1' : '3' },
    },
  });
  return {
    durationS: positiveInteger('--duration', values.duration),
    connections: positiveInteger('--connections', values.connections),
    repeats: positiveInteger('--repeats', values.repeats),
  };
}
