import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createClient } from '@celeriac/client';
import { defineTask, f32Array } from '@celeriac/core';
import { createRedisBroker } from '@celeriac/redis';
import { compareFigure, type BenchFigure } from '../lib/bench-report.js';
import { formatFigure } from '../lib/format-figure.js';
import { median } from '../lib/measure.js';
import { deleteKeys, type RedisTarget } from '../lib/redis-target.js';
import { sampleIndexes } from './sample-indexes.js';
import type { SectionReport } from './section-report.js';

/** The least raw / celeriac time ratio the payload path must reach. */
const targetRatio = 0.5;
/** Payload sizes in MiB, unless the caller names others. */
const defaultPayloadMiB: readonly number[] = [1, 16, 64];

/**
 * A task whose input is one Float32Array. No worker consumes its queue: the job is enqueued and read back, so the
 * figure is the payload path alone.
 */
const blobSink = defineTask({
  name: 'bench-blob-sink',
  queue: 'bench-gpu-payload',
  input: z.object({ data: f32Array() }),
  output: z.null(),
  handler: () => null,
});

/** What {@link measurePayloadRoundTrips} needs. */
export interface PayloadRoundTripOptions {
  readonly target: RedisTarget;
  /** Unique to this run; each measurement adds its own suffix and deletes its keys afterwards. */
  readonly prefix: string;
  readonly repeats: number;
  /** Payload sizes in MiB; default 1, 16 and 64. */
  readonly sizesMiB?: readonly number[];
  readonly log: (line: string) => void;
}

interface Side {
  readonly name: 'raw' | 'celeriac';
  /** Stores `data` and reads it back as a Float32Array; resolves with the round trip's ms. */
  readonly roundTrip: (options: PayloadRoundTripOptions, data: Float32Array, label: string) => Promise<number>;
}

/**
 * A Float32Array of 1, 16 and 64 MiB through celeriac (enqueue, then getJob, which brings the blob back typed) and
 * through raw ioredis (SET of the same bytes, then GET as a Buffer), on the same server, alternating which goes first.
 */
export async function measurePayloadRoundTrips(options: PayloadRoundTripOptions): Promise<SectionReport> {
  const sides: readonly Side[] = [raw, celeriac];
  // One unrecorded round of each side: connections, BullMQ's Lua scripts, and the JIT of both paths.
  for (const side of sides) await side.roundTrip(options, fill(2 ** 18), 'warmup');
  const rows: string[][] = [];
  const figures: BenchFigure[] = [];
  for (const mib of options.sizesMiB ?? defaultPayloadMiB) {
    const data = fill((mib * 2 ** 20) / 4);
    const times: Record<Side['name'], number[]> = { raw: [], celeriac: [] };
    for (let repeat = 0; repeat < options.repeats; repeat++) {
      const order = repeat % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) times[side.name].push(await side.roundTrip(options, data, `${mib}m-r${repeat}`));
    }
    const [rawMs, celeriacMs] = [median(times.raw), median(times.celeriac)];
    options.log(`  ${mib} MiB: raw ${formatFigure(rawMs)} ms, celeriac ${formatFigure(celeriacMs)} ms`);
    const ratio = ratioOf(rawMs, celeriacMs);
    rows.push(toRow(mib, rawMs, celeriacMs, ratio));
    figures.push(toFigure(mib, rawMs, celeriacMs, ratio));
  }
  return {
    title: 'Binary payload round trip',
    header: [
      'payload',
      'raw SET+GET (ms)',
      'raw MB/s',
      'celeriac enqueue+getJob (ms)',
      'celeriac MB/s',
      'raw / celeriac time',
      'target',
    ],
    rows,
    notes: [
      `median of ${options.repeats} round trip(s) per side and size, raw and celeriac alternating which goes first`,
      'MB/s = the array\'s bytes (10^6 per MB) / the round trip\'s time; ratio = raw time / celeriac time',
      'raw: ioredis SET of the array\'s bytes, GET with getBuffer, viewed as a Float32Array',
      'celeriac: client.enqueue(task with { data: f32Array() }) on a queue no worker consumes, then job.record(), ' +
        'whose input holds the Float32Array again; maxPayloadBytes raised to 128 MiB for the 64 MiB case',
      'both results are checked (length and 16 sampled elements) before their time counts',
    ],
    figures,
    failed: false,
  };
}

const raw: Side = {
  name: 'raw',
  async roundTrip(options, data, label) {
    const redis = new Redis(options.target.url);
    const key = `${options.prefix}-raw-${label}`;
    try {
      await redis.ping();
      const startedAt = performance.now();
      await redis.set(key, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      const reply = await redis.getBuffer(key);
      const back = reply === null ? undefined : asFloat32Array(reply);
      const elapsedMs = performance.now() - startedAt;
      expectSame('raw', back, data);
      return elapsedMs;
    } finally {
      await redis.del(key);
      await redis.quit();
    }
  },
};

const celeriac: Side = {
  name: 'celeriac',
  async roundTrip(options, data, label) {
    const prefix = `${options.prefix}-${label}`;
    // 64 MiB of data plus the blob's header is over the default 64 MiB limit; a slow machine needs more than 2 s.
    const broker = createRedisBroker({
      connection: options.target.url,
      prefix,
      maxPayloadBytes: 128 * 2 ** 20,
      commandTimeout: '60s',
    });
    const client = createClient({ broker });
    try {
      // A small job first registers the queue and connects, and reads a job back once (the raw side's connection
      // is warmed by a PING the same way): not what is measured.
      await (await client.enqueue(blobSink, { data: new Float32Array(4) })).record();
      const startedAt = performance.now();
      const job = await client.enqueue(blobSink, { data });
      const { input } = await job.record();
      const elapsedMs = performance.now() - startedAt;
      expectSame('celeriac', (input as { data?: unknown }).data, data);
      return elapsedMs;
    } finally {
      await client.close();
      await broker.close();
      await deleteKeys(options.target.admin, `{${prefix}}`);
    }
  },
};

/** A Float32Array over a Buffer's bytes, copied only when the Buffer's offset is not 4-byte aligned. */
function asFloat32Array(buffer: Buffer): Float32Array {
  if (buffer.byteOffset % 4 === 0) return new Float32Array(buffer.buffer, buffer.byteOffset, buffer.byteLength / 4);
  return new Float32Array(new Uint8Array(buffer).buffer);
}

function expectSame(side: string, actual: unknown, expected: Float32Array): void {
  const ok =
    actual instanceof Float32Array &&
    actual.length === expected.length &&
    sampleIndexes(expected.length).every((index) => actual[index] === expected[index]);
  if (!ok) throw new Error(`${side}: the payload did not come back as the same Float32Array`);
}

function fill(length: number): Float32Array {
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = i * 0.5;
  return data;
}

/** Raw time / celeriac time as printed (2 decimals), and whether it misses the target, judged as printed. */
interface Ratio {
  readonly text: string;
  readonly missed: boolean;
}

function ratioOf(rawMs: number, celeriacMs: number): Ratio {
  const text = (rawMs / celeriacMs).toFixed(2);
  return { text, missed: Number(text) < targetRatio };
}

/** MB/s of both sides: celeriac's / raw's equals raw time / celeriac time, the ratio the target is set on. */
function toFigure(mib: number, rawMs: number, celeriacMs: number, ratio: Ratio): BenchFigure {
  const bytes = mib * 2 ** 20;
  const values = { celeriac: bytes / 1e3 / celeriacMs, baseline: bytes / 1e3 / rawMs };
  return compareFigure(`${mib} MiB Float32Array round trip`, 'MB/s', values, {
    higherIsBetter: true,
    target: `ratio ≥ ${targetRatio}`,
    missed: ratio.missed,
  });
}

function toRow(mib: number, rawMs: number, celeriacMs: number, ratio: Ratio): string[] {
  const bytes = mib * 2 ** 20;
  return [
    `${mib} MiB`,
    formatFigure(rawMs),
    formatFigure(bytes / 1e3 / rawMs),
    formatFigure(celeriacMs),
    formatFigure(bytes / 1e3 / celeriacMs),
    ratio.text,
    `≥ ${targetRatio}${ratio.missed ? ' ⚠' : ''}`,
  ];
}
