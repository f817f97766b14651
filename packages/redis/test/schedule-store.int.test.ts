import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { JobSource, createJobEnvelope } from '@celeriac/core';
import type { ScheduleRequest } from '@celeriac/broker';
import { useTestRedis } from '@celeriac/testing';

const redis = useTestRedis();

const startDate = new Date(Date.now() + 3_600_000).toISOString();

const request = (change: Partial<ScheduleRequest> = {}): ScheduleRequest => ({
  id: 'hourly',
  spec: { everyMs: 3_600_000, startDate },
  queue: 'default',
  task: 'add',
  envelope: createJobEnvelope({ x: 1, y: 2 }, { source: JobSource.Schedule }),
  ...change,
});

/** The key prefix as the broker writes it, in its hash tag. */
const key = () => `{${redis.prefix}}`;

/** A raw connection, to look at and corrupt what the broker stored. */
function rawRedis(): Redis {
  const connection = new Redis(redis.url, { connectionName: `raw-${redis.prefix}` });
  redis.track({ close: async () => void (await connection.quit()) });
  return connection;
}

describe('the Redis schedule store', () => {
  it('stores a schedule on its queue, indexed by id, with its pending firing', async () => {
    const broker = redis.createBroker();
    const record = await broker.upsertSchedule(request());
    expect(record).toMatchObject({ id: 'hourly', task: 'add', queue: 'default', firedCount: 0, ended: false });
    expect(record.spec).toEqual(request().spec);
    expect(await broker.getJob(record.nextJobId!)).toMatchObject({ state: 'scheduled', input: { x: 1, y: 2 } });
    expect(await broker.listSchedules()).toEqual([record]);
  });

  it('moves a schedule whose task changed queue, leaving nothing on the old one', async () => {
    const broker = redis.createBroker();
    const first = await broker.upsertSchedule(request());
    const moved = await broker.upsertSchedule(request({ queue: 'other' }));
    expect(moved.queue).toBe('other');
    // The firing keeps its id (the due time is the same) but now lives on the other queue.
    expect(moved.nextJobId).toBe(first.nextJobId);
    const raw = rawRedis();
    expect(await raw.exists(`${key()}:default:${first.nextJobId}`, `${key()}:default:repeat:hourly`)).toBe(0);
    expect(await broker.getJob(moved.nextJobId!)).toMatchObject({ queue: 'other' });
    expect(await broker.listSchedules()).toHaveLength(1);
    expect(await broker.removeSchedule('hourly')).toBe(true);
    expect(await broker.getJob(moved.nextJobId!)).toBeUndefined();
    expect(await broker.removeSchedule('hourly')).toBe(false);
  });

  it('takes concurrent upserts of one schedule in turns: one pending firing, no lock left behind', async () => {
    const broker = redis.createBroker();
    const envelope = (x: number) => createJobEnvelope({ x, y: 0 }, { source: JobSource.Schedule });
    const records = await Promise.all([1, 2, 3, 4, 5].map((x) => broker.upsertSchedule(request({ envelope: envelope(x) }))));
    expect(new Set(records.map((record) => record.nextJobId)).size).toBe(1);
    const raw = rawRedis();
    expect(await raw.zcard(`${key()}:default:delayed`)).toBe(1);
    expect(await raw.keys(`${key()}:_meta:schedule-lock:*`)).toEqual([]);
  });

  it('keeps the typed arrays of an input in a blob of its own, which each firing copies, and retires a replaced one', async () => {
    const broker = redis.createBroker();
    const values = Float32Array.from({ length: 1_000 }, (_, index) => index / 4);
    const typed = (array: Float32Array) => request({ envelope: createJobEnvelope({ values: array }, { source: JobSource.Schedule }) });
    const first = await broker.upsertSchedule(typed(values));
    expect((first.input as { values: unknown }).values).toEqual(values);
    const raw = rawRedis();
    const blobKeys = () => raw.keys(`${key()}:_meta:schedule-input:*`);
    const [blobKey] = await blobKeys();
    expect(await raw.pttl(blobKey!)).toBe(-1); // it lives as long as the schedule's input
    // The pending firing is read with its typed arrays, and copies the blob into its own hash on the way.
    expect(await broker.getJob(first.nextJobId!)).toMatchObject({ input: { values } });
    const blobId = blobKey!.split(':').at(-1)!;
    expect(await raw.hexists(`${key()}:default:${first.nextJobId}`, `celeriac:input:${blobId}`)).toBe(1);
    // An update stores a new blob, and lets the old one expire after the failed-job retention: firings created from
    // it may not have copied it yet.
    const negated = values.map((value) => -value);
    const updated = await broker.upsertSchedule(typed(negated));
    expect((updated.input as { values: unknown }).values).toEqual(negated);
    expect(await broker.getJob(updated.nextJobId!)).toMatchObject({ input: { values: negated } });
    expect(await raw.pttl(blobKey!)).toBeGreaterThan(0);
    expect(await blobKeys()).toHaveLength(2);
    // Removing the schedule retires its current blob the same way.
    expect(await broker.removeSchedule('hourly')).toBe(true);
    for (const retired of await blobKeys()) expect(await raw.pttl(retired)).toBeGreaterThan(0);
  });

  it('treats what it reads back as untrusted: a corrupt entry is skipped, not reported', async () => {
    const broker = redis.createBroker();
    await broker.upsertSchedule(request());
    await broker.upsertSchedule(request({ id: 'corrupt' }));
    const raw = rawRedis();
    await raw.hset(`${key()}:_meta:schedules`, 'bad-queue', 'Not A Queue', 'orphan', 'default');
    // A scheduler whose data is not a celeriac envelope (written by hand, or by another tool).
    await raw.hset(`${key()}:default:repeat:corrupt`, 'data', '{"hello":"world"}');
    expect((await broker.listSchedules()).map((record) => record.id)).toEqual(['hourly']);
    expect(await broker.getSchedule('corrupt')).toBeUndefined();
    expect(await broker.getSchedule('orphan')).toBeUndefined();
    expect(await broker.getSchedule('bad-queue')).toBeUndefined();
  });
});
