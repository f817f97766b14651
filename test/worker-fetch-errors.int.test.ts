import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { z } from 'zod';
import { defineTask } from '@celeriac/core';
import { createWorker } from '@celeriac/worker';
import { spawnRedisServer, type SpawnedRedisServer } from '@celeriac/redis';
import { createClient } from '@celeriac/client';
import type { Closeable } from '@celeriac/testing';
import { pollUntil } from './fixtures/poll-until.js';

/** What goes wrong in the fetch loop reaches the worker's logger, with its queue, rather than raw stderr. */
let opened: Closeable[] = [];
afterEach(async () => {
  for (const closeable of opened.reverse()) await closeable.close();
  opened = [];
});

const tick = defineTask({ name: 'tick', input: z.object({}), output: z.null(), isolation: 'inline', handler: () => null });

describe('fetch loop errors', () => {
  it('are logged as warnings naming the queue while Redis is gone, and the worker recovers when it is back', { timeout: 30_000 }, async () => {
    const prefix = `e${randomBytes(4).toString('hex')}`;
    const server = await spawnRedisServer();
    // The one running at the end is stopped after the test: the first, or its restart on the same port.
    const servers: SpawnedRedisServer[] = [server];
    opened.push({ close: () => servers.at(-1)!.stop() });
    const lines: { level: number; msg: string; queue?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const worker = createWorker({
      tasks: [tick],
      connection: server.url,
      prefix,
      logger: pino({ level: 'warn' }, sink),
      shutdownTimeout: '1s',
    });
    opened.push(worker);
    await worker.start();
    await server.stop();

    const warning = await pollUntil(() => lines.find((line) => line.msg.startsWith('fetching jobs from Redis failed')));
    expect(warning).toMatchObject({ level: 40, queue: 'default' });
    expect(worker.health()).toMatchObject({ state: 'running' });

    servers.push(await spawnRedisServer({ port: Number(new URL(server.url).port) }));
    const client = createClient({ connection: server.url, prefix });
    opened.push(client);
    expect(await (await client.enqueue(tick, {})).result({ timeoutMs: 15_000 })).toBeNull();
  });
});
