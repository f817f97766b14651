import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  ChildFailure,
  ErrorCode,
  JobSource,
  JobState,
  createJobEnvelope,
  isCeleriacError,
  type JobEnvelope,
} from '@celeriac/core';
import type { Broker, EnqueueRequest, JobProcessor, ReceivedJob } from '@celeriac/broker';
import { useTestRedis } from '@celeriac/testing';

const redis = useTestRedis();

/** A raw connection named after the test's prefix (so the leak check sees it), to look at what the broker stored. */
function connect(): Redis {
  const connection = new Redis(redis.url, { connectionName: `celeriac:${redis.prefix}:binary-test` });
  redis.track({ close: async () => void (await connection.quit()) });
  return connection;
}

const jobKey = (id: string) => `{${redis.prefix}}:default:${id}`;
const request = (input: unknown, extra: Partial<EnqueueRequest> = {}): EnqueueRequest => ({
  queue: 'default',
  task: 'scale',
  envelope: createJobEnvelope(input, { source: JobSource.Sdk }),
  ...extra,
});
/** A 4 MB Float32Array with distinct values, so a misplaced byte shows. */
function bigArray(): Float32Array {
  const values = new Float32Array(1_000_000);
  for (let i = 0; i < values.length; i++) values[i] = i / 7;
  return values;
}

async function consume(broker: Broker, processor: JobProcessor) {
  const consumer = await broker.consume(processor, { queues: ['default'], concurrency: 1, leaseMs: 30_000, maxLostAttempts: 1 });
  redis.track({ close: async () => void (await consumer.close(0)) });
  return consumer;
}

/** The id of a job's input blob, from its data as stored. */
async function inputBlobId(connection: Redis, id: string): Promise<string> {
  const data = JSON.parse((await connection.hget(jobKey(id), 'data')) ?? '{}') as { input: Record<string, { id: string }> };
  return data.input['$celeriac.binary']!.id;
}

/** The field of a job's hash that holds its input blob. */
const inputField = async (connection: Redis, id: string) => `celeriac:input:${await inputBlobId(connection, id)}`;

/** Every key of this test's prefix that mentions `text`. */
async function keysWith(connection: Redis, text: string): Promise<string[]> {
  return (await connection.keys(`{${redis.prefix}}*`)).filter((key) => key.includes(text)).sort();
}

/** Byte equality: far faster than a deep `toEqual` over a million elements. */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('typed arrays as binary blobs', () => {
  it('stores a Float32Array input as a blob in the job hash, never as a JSON number array', async () => {
    const broker = redis.createBroker();
    const connection = connect();
    const values = bigArray();
    const record = await broker.enqueue(request({ values, factor: 2 }, { delayMs: 60_000 }));

    const data = (await connection.hget(jobKey(record.id), 'data')) ?? '';
    // The whole job data is a few hundred bytes: a ref where the array was.
    expect(data.length).toBeLessThan(1_000);
    expect(data).not.toMatch(/\d+(\.\d+)?,\d/);
    expect(JSON.parse(data)).toMatchObject({
      input: { value: { values: { '$celeriac.array': 'float32', offset: 8, length: 1_000_000 }, factor: 2 } },
    });
    const blob = await connection.hgetBuffer(jobKey(record.id), await inputField(connection, record.id));
    expect(blob?.byteLength).toBe(8 + values.byteLength);
    // The blob went in with the job, in one MULTI: nothing was staged.
    expect(await keysWith(connection, ':_meta:staged:')).toEqual([]);

    const read = await broker.getJob(record.id);
    const input = read?.input as { values: Float32Array; factor: number };
    expect(input.values).toBeInstanceOf(Float32Array);
    expect(sameBytes(input.values, values)).toBe(true);
  });

  it('hands the processor a Float32Array and returns a typed result from its blob', async () => {
    const broker = redis.createBroker();
    const connection = connect();
    const values = bigArray();
    let received: unknown;
    await consume(broker, async (job: ReceivedJob) => {
      const { input } = job.data as JobEnvelope & { input: { values: Float32Array; factor: number } };
      received = input.values;
      return { scaled: input.values.map((v) => v * input.factor), count: input.values.length };
    });
    const { id } = await broker.enqueue(request({ values, factor: 2 }));
    const outcome = await broker.waitForJob(id, 20_000);

    expect(received).toBeInstanceOf(Float32Array);
    expect(outcome?.state).toBe(JobState.Succeeded);
    const result = outcome?.result as { scaled: Float32Array; count: number };
    expect(result.count).toBe(1_000_000);
    expect(result.scaled).toBeInstanceOf(Float32Array);
    expect(result.scaled[700]).toBe(Math.fround(Math.fround(700 / 7) * 2));
    // BullMQ's returnvalue holds a ref, and the bytes sit in the job's hash.
    expect((await connection.hget(jobKey(id), 'returnvalue'))?.length).toBeLessThan(1_000);
    const reread = (await broker.getJob(id))?.result as { scaled: Float32Array };
    expect(sameBytes(reread.scaled, result.scaled)).toBe(true);
  });

  it('removes the blobs with the job: on cancel (the tombstone keeps its own copy) and on retention', async () => {
    const broker = redis.createBroker({ retention: { succeededCount: 1 } });
    const connection = connect();
    const waiting = await broker.enqueue(request({ values: Float32Array.of(1, 2, 3) }, { delayMs: 60_000 }));
    expect(await broker.cancelJob(waiting.id)).toBe('cancelled');
    expect(await keysWith(connection, waiting.id)).toEqual([
      `{${redis.prefix}}:_meta:cancelled-binary:${waiting.id}`,
      `{${redis.prefix}}:_meta:cancelled:${waiting.id}`,
    ]);
    expect(await connection.pttl(`{${redis.prefix}}:_meta:cancelled-binary:${waiting.id}`)).toBeGreaterThan(0);
    const cancelled = await broker.getJob(waiting.id);
    expect(cancelled?.state).toBe(JobState.Cancelled);
    expect((cancelled?.input as { values: Float32Array }).values).toEqual(Float32Array.of(1, 2, 3));

    await consume(broker, async (job) => ({ echo: (job.data as { input: { values: Float32Array } }).input.values }));
    const first = await broker.enqueue(request({ values: Float32Array.of(4, 5) }));
    expect((await broker.waitForJob(first.id, 20_000))?.result).toEqual({ echo: Float32Array.of(4, 5) });
    expect(await keysWith(connection, first.id)).toEqual([jobKey(first.id)]);
    // Keeping one succeeded job per queue: the second to finish removes the first, blobs and all.
    const second = await broker.enqueue(request({ values: Float32Array.of(6) }));
    await broker.waitForJob(second.id, 20_000);
    expect(await keysWith(connection, first.id)).toEqual([]);
    expect(await broker.getJob(first.id)).toBeUndefined();
    expect(await keysWith(connection, ':_meta:staged:')).toEqual([]);
  });

  it('refuses an input past maxPayloadBytes with CELERIAC_PAYLOAD_TOO_LARGE, writing nothing, and keeps working', async () => {
    const broker = redis.createBroker({ maxPayloadBytes: 1024 });
    const connection = connect();
    const error = await errorOf(broker.enqueue(request({ values: new Float32Array(1_000) }, { jobId: 'too-big' })));
    expect(isCeleriacError(error, ErrorCode.PayloadTooLarge)).toBe(true);
    expect((error as Error).message).toContain('4008 bytes, over the limit of 1024 bytes');
    expect(await keysWith(connection, 'too-big')).toEqual([]);
    expect(await keysWith(connection, ':_meta:staged:')).toEqual([]);

    const small = await broker.enqueue(request({ values: new Float32Array(10) }));
    expect(small.state).toBe(JobState.Queued);
  });

  it('fails a job whose result is past maxPayloadBytes with CELERIAC_PAYLOAD_TOO_LARGE', async () => {
    const broker = redis.createBroker({ maxPayloadBytes: 1024 });
    await consume(broker, async () => new Float64Array(1_000));
    const { id } = await broker.enqueue(request({}));
    const outcome = await broker.waitForJob(id, 20_000);
    expect(outcome).toMatchObject({ state: JobState.Failed, error: { code: ErrorCode.PayloadTooLarge, retryable: false } });
  });

  it('fails a job whose blob is corrupt or missing with CELERIAC_JOB_DATA_CORRUPT, without running it', async () => {
    const broker = redis.createBroker();
    const connection = connect();
    // Enqueued before any consumer runs, so they wait while their blobs are damaged.
    const corrupt = await broker.enqueue(request({ values: Float32Array.of(1, 2) }));
    const missing = await broker.enqueue(request({ values: Float32Array.of(1, 2) }));
    await connection.hset(jobKey(corrupt.id), await inputField(connection, corrupt.id), 'not a celeriac blob');
    await connection.hdel(jobKey(missing.id), await inputField(connection, missing.id));
    // An operator still sees both jobs, with their input as stored.
    expect((await broker.getJob(corrupt.id))?.input).toMatchObject({ '$celeriac.binary': { v: 1 } });

    let ran = 0;
    await consume(broker, async () => ++ran);
    const outcomes = await Promise.all([broker.waitForJob(corrupt.id, 20_000), broker.waitForJob(missing.id, 20_000)]);
    expect(ran).toBe(0);
    expect(outcomes[0]).toMatchObject({ state: JobState.Failed, error: { code: ErrorCode.JobDataCorrupt, retryable: false } });
    expect(outcomes[0]?.error?.message).toContain('is 19 bytes instead of 16');
    expect(outcomes[1]?.error).toMatchObject({ code: ErrorCode.JobDataCorrupt, details: { reason: 'is missing from Redis' } });
  });

  /**
   * Puts a job in the state a workflow's step leaves when its process stops right after the FlowProducer's `add`:
   * the blob staged, not in the job's hash. Returns the staged key.
   */
  async function unadopt(connection: Redis, id: string): Promise<string> {
    const field = await inputField(connection, id);
    const staged = `{${redis.prefix}}:_meta:staged:${await inputBlobId(connection, id)}`;
    await connection.set(staged, (await connection.hgetBuffer(jobKey(id), field))!);
    await connection.hdel(jobKey(id), field);
    return staged;
  }

  it('recovers a blob still staged when getJob reads the job, and moves it into the job', async () => {
    const broker = redis.createBroker();
    const connection = connect();
    const { id } = await broker.enqueue(request({ values: Float32Array.of(9, 8, 7) }, { delayMs: 60_000 }));
    const staged = await unadopt(connection, id);

    expect((await broker.getJob(id))?.input).toEqual({ values: Float32Array.of(9, 8, 7) });
    expect(await connection.exists(staged)).toBe(0);
    expect(await connection.hexists(jobKey(id), await inputField(connection, id))).toBe(1);
  });

  it('runs a job whose blob is still staged: the worker falls back to it and moves it into the job', async () => {
    const broker = redis.createBroker();
    const connection = connect();
    const { id } = await broker.enqueue(request({ values: Float32Array.of(6, 5) }));
    const staged = await unadopt(connection, id);
    await consume(broker, async (job) => ({ echo: (job.data as { input: { values: Float32Array } }).input.values }));

    expect((await broker.waitForJob(id, 20_000))?.result).toEqual({ echo: Float32Array.of(6, 5) });
    expect(await connection.exists(staged)).toBe(0);
  });

  it('moves the blobs of a workflow\'s jobs into their hashes, leaving nothing staged', async () => {
    const broker = redis.createBroker();
    const connection = connect();
    const flowJob = (id: string, values: Float32Array) => ({ id, ...request({ values }) });
    const child = { flow: { job: flowJob('child', Float32Array.of(2)) }, onFailure: ChildFailure.Fail };
    await broker.addFlow({ job: flowJob('parent', Float32Array.of(1)), children: [child] });

    expect(await keysWith(connection, ':_meta:staged:')).toEqual([]);
    expect(await connection.hexists(jobKey('child'), await inputField(connection, 'child'))).toBe(1);
    expect((await broker.getJob('parent'))?.input).toEqual({ values: Float32Array.of(1) });
    expect((await broker.getJob('child'))?.input).toEqual({ values: Float32Array.of(2) });
  });

  it('keeps the blob of the existing job when an enqueue meets its job id, and leaves nothing of its own', async () => {
    const broker = redis.createBroker();
    const connection = connect();
    await broker.enqueue(request({ values: Float32Array.of(1) }, { jobId: 'same', delayMs: 60_000 }));
    const again = await broker.enqueue(request({ values: Float32Array.of(2, 3) }, { jobId: 'same', delayMs: 60_000 }));
    expect(again.input).toEqual({ values: Float32Array.of(1) });
    const fields = (await connection.hkeys(jobKey('same'))).filter((field) => field.startsWith('celeriac:'));
    expect(fields).toEqual([await inputField(connection, 'same')]);
    expect(await keysWith(connection, ':_meta:staged:')).toEqual([]);
  });

  it('leaves no hash behind for an enqueue that a dedupe id sent to an existing job', async () => {
    const broker = redis.createBroker();
    const connection = connect();
    const dedupe = { id: 'once', ttlMs: 60_000 };
    const first = await broker.enqueue(request({ values: Float32Array.of(1) }, { dedupe, delayMs: 60_000 }));
    const second = await broker.enqueue(request({ values: Float32Array.of(2) }, { dedupe, delayMs: 60_000 }));
    expect(second.id).toBe(first.id);
    expect(second.input).toEqual({ values: Float32Array.of(1) });
    const jobHashes = (await connection.keys(`{${redis.prefix}}:default:*`)).filter((key) => /:default:[0-9a-f-]{36}$/.test(key));
    expect(jobHashes).toEqual([jobKey(first.id)]);
  });

  it('refuses a schedule input past maxPayloadBytes with CELERIAC_PAYLOAD_TOO_LARGE, writing nothing', async () => {
    const broker = redis.createBroker({ maxPayloadBytes: 1024 });
    const connection = connect();
    const schedule = (values: Float32Array) => ({
      id: 'nightly',
      spec: { everyMs: 60_000 },
      queue: 'default',
      task: 'scale',
      envelope: createJobEnvelope({ values }, { source: JobSource.Schedule }),
    });
    const error = await errorOf(broker.upsertSchedule(schedule(new Float32Array(1_000))));
    expect(isCeleriacError(error, ErrorCode.PayloadTooLarge)).toBe(true);
    expect(await keysWith(connection, 'nightly')).toEqual([]);
    expect(await keysWith(connection, ':_meta:schedule-input:')).toEqual([]);
    expect((await broker.upsertSchedule(schedule(new Float32Array(10)))).ended).toBe(false);
  });
});
