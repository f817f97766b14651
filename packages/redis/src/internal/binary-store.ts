import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import {
  ErrorCode,
  binaryPayloadKey,
  decodeBinaryPayload,
  isCeleriacError,
  encodeBinaryPayload,
  isBinaryPayload,
  type BinaryPayload,
  type FlowSpec,
  type JobEnvelope,
  type JobRecord,
} from '@celeriac/core';
import { metaKeys, type MetaKeys } from './keys.js';
import { keepBlobLua, readUnattachedInputLua } from './binary-store-lua.js';

/** What every blob field of a job's hash starts with; BullMQ's own fields never do. */
const blobFieldPrefix = 'celeriac:';
/**
 * The field of a job's hash that holds its input blob. Named by the blob's id, so the MULTI that writes it before
 * knowing whether `add` created the job or met an existing one can never overwrite that other job's blob.
 */
export const inputBlobField = (blobId: string): string => `${blobFieldPrefix}input:${blobId}`;
/**
 * The field of a job's hash that holds one result blob. Named by the blob's id, so an attempt that lost its lease
 * and still writes its result can never mix its blob with the returnvalue of the attempt that completed.
 */
export const resultBlobField = (blobId: string): string => `${blobFieldPrefix}result:${blobId}`;
/** Whether a field of a job's hash is one of celeriac's blobs (binary, not text). */
export const isBlobField = (field: string): boolean => field.startsWith(blobFieldPrefix);

const readUnattachedInputCommand = 'celeriacBlobReadUnattachedInput';
/** ioredis's variant of a custom command that answers Buffers instead of strings. */
const readUnattachedInputBufferCommand = `${readUnattachedInputCommand}Buffer` as const;

/** The connection with the store's scripts defined on it. */
type BlobConnection = Redis & {
  [readUnattachedInputBufferCommand](jobKey: string, stagedKey: string, scheduleKey: string, field: string): Promise<Buffer | null>;
};

/** An input blob, packed and not yet written. */
export interface InputBlob {
  readonly id: string;
  readonly bytes: Buffer;
}

/** An input blob staged before its job was created: adopt it once the job exists, or discard it. */
export interface StagedBlob {
  readonly queue: string;
  readonly jobId: string;
  readonly blob: InputBlob;
}

/** A Buffer over the same memory, for ioredis (which would stringify a plain Uint8Array). */
const asBuffer = (blob: Uint8Array): Buffer => Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);

/**
 * Where the typed arrays of job inputs and results live in Redis: as one binary blob per value, in a field of the
 * job's own BullMQ hash. Whatever removes a job (retention by age or count, a cancel, `remove`, `clean`,
 * `obliterate`) removes its blobs with it, with no TTL to keep in step.
 *
 * A blob goes into its hash with a plain HSET, in a MULTI with the script that takes it out again if the job is not
 * its own (see {@link attachInput}): so its bytes cross to Redis once and are never copied through Lua. An enqueue
 * puts that HSET in the same MULTI as BullMQ's `add`. A workflow's jobs are created by BullMQ's FlowProducer in a
 * MULTI of its own, so their blobs are first staged under `<prefix>:_meta:staged:<blob id>`, then moved into the
 * hash right after; a reader that finds one still staged (the creating process stopped in between) moves it itself.
 * A schedule's firings are created by BullMQ from the schedule's data, so they share the schedule's blob
 * (`<prefix>:_meta:schedule-input:<blob id>`), which each firing's first reader copies into its hash.
 */
export class BinaryStore {
  private readonly connection: BlobConnection;
  private readonly keys: MetaKeys;

  constructor(
    connection: Redis,
    private readonly keyPrefix: string,
    /** The largest blob one value may have, in bytes. */
    readonly maxBytes: number,
  ) {
    connection.defineCommand(readUnattachedInputCommand, { lua: readUnattachedInputLua, numberOfKeys: 3 });
    this.connection = connection as BlobConnection;
    this.keys = metaKeys(keyPrefix);
  }

  /**
   * Takes the typed arrays out of an envelope's input. Returns the envelope to store (the same object when the input
   * has none) and their blob, written by nothing yet: put it in the job's MULTI with {@link attachInput}.
   * @throws CeleriacError `CELERIAC_PAYLOAD_TOO_LARGE`
   */
  packInput(envelope: JobEnvelope, jobId: string): { envelope: JobEnvelope; blob?: InputBlob } {
    return this.pack(envelope, `the input of job "${jobId}"`);
  }

  /**
   * Adds to `transaction`, after the command that creates the job (BullMQ's `add`), the writing of its input blob
   * into the job's hash. Within the MULTI the blob is taken out again unless the job's data names it: when `add` met
   * an existing job (a caller's jobId or dedupe id), that job is left as it was.
   */
  attachInput(transaction: ChainableCommander, queue: string, jobId: string, blob: InputBlob): void {
    const jobKey = this.jobKey(queue, jobId);
    const field = inputBlobField(blob.id);
    transaction.hset(jobKey, { [field]: blob.bytes });
    transaction.eval(keepBlobLua, 1, jobKey, field, blob.id);
  }

  /**
   * Stages the input blob of every job of a flow (a workflow's step, whose input may be the typed result of the step
   * before it). Returns the flow to create and the blobs to {@link adopt} or {@link discard} after.
   * @throws CeleriacError `CELERIAC_PAYLOAD_TOO_LARGE`, before anything is written
   */
  async stageFlow(flow: FlowSpec): Promise<{ flow: FlowSpec; staged: StagedBlob[] }> {
    const staged: StagedBlob[] = [];
    const packed = this.packFlow(flow, staged);
    await Promise.all(staged.map(({ blob }) => this.connection.set(this.keys.staged(blob.id), blob.bytes))).catch(
      async (error: unknown) => {
        await Promise.all(staged.map(({ blob }) => this.discard(blob.id)));
        throw error;
      },
    );
    return { flow: packed, staged };
  }

  /**
   * Moves a staged blob into its job's hash (or drops it, when the job is not its own). The bytes are sent again
   * rather than copied inside Redis: a plain HSET costs less than a Lua script passing them through. A failure here
   * is not the caller's: the job exists, and its first reader moves the blob.
   */
  async adopt({ queue, jobId, blob }: StagedBlob): Promise<void> {
    const jobKey = this.jobKey(queue, jobId);
    const field = inputBlobField(blob.id);
    const transaction = this.connection.multi().hset(jobKey, { [field]: blob.bytes });
    await transaction
      .eval(keepBlobLua, 2, jobKey, this.keys.staged(blob.id), field, blob.id)
      .exec()
      .catch(() => undefined);
  }

  /** Drops a staged blob whose job was never created. Best effort: Redis may be the reason `add` failed. */
  async discard(blobId: string): Promise<void> {
    await this.connection.del(this.keys.staged(blobId)).catch(() => undefined);
  }

  /**
   * Takes the typed arrays out of a schedule's input into a blob of the schedule's own. BullMQ creates each firing
   * from the schedule's data in Lua, so no blob can go with it: a firing copies this one into its hash when it is
   * first read. Returns the envelope for the schedule to store.
   * @throws CeleriacError `CELERIAC_PAYLOAD_TOO_LARGE`, before anything is written
   */
  async storeScheduleInput(envelope: JobEnvelope, scheduleId: string): Promise<JobEnvelope> {
    const { envelope: packed, blob } = this.pack(envelope, `the input of schedule "${scheduleId}"`);
    if (blob) await this.connection.set(this.keys.scheduleInput(blob.id), blob.bytes);
    return packed;
  }

  /**
   * Lets the blob of a schedule's input (as stored) expire after `ttlMs`, rather than deleting it: firings created
   * from it may not have copied it yet.
   */
  async retireScheduleInput(input: unknown, ttlMs: number): Promise<void> {
    if (isBinaryPayload(input)) await this.connection.pexpire(this.keys.scheduleInput(input[binaryPayloadKey].id), ttlMs);
  }

  /** A schedule's input for display: with its typed arrays back, or as stored when its blob is missing or corrupt. */
  async decodeScheduleInput(input: unknown, scheduleId: string): Promise<unknown> {
    if (!isBinaryPayload(input)) return input;
    const blob = await this.connection.getBuffer(this.keys.scheduleInput(input[binaryPayloadKey].id));
    return decodeForDisplay(input, blob ?? undefined, `the input of schedule "${scheduleId}"`);
  }

  /**
   * The input of a job as it was enqueued: a packed input gets its typed arrays back from its blob.
   * @throws CeleriacError `CELERIAC_JOB_DATA_CORRUPT` when the blob is missing or corrupt
   */
  async decodeInput(queue: string, jobId: string, input: unknown): Promise<unknown> {
    if (!isBinaryPayload(input)) return input;
    const blobId = input[binaryPayloadKey].id;
    // A plain HGET first: the blob is in the hash unless a workflow's step stopped before moving it there, or the
    // job is a schedule's firing read for the first time.
    const blob =
      (await this.connection.hgetBuffer(this.jobKey(queue, jobId), inputBlobField(blobId))) ??
      (await this.readUnattachedInput(queue, jobId, blobId));
    return decodeBinaryPayload(input, blob, `the input of job "${jobId}"`);
  }

  /**
   * Stores a result's typed arrays in the job's hash and returns what BullMQ should store as its returnvalue.
   * Written before the job completes, so a succeeded job never lacks its blob. Not kept when the job is gone
   * (removed while it ran): a hash with nothing but the blob would never be removed.
   * @throws CeleriacError `CELERIAC_PAYLOAD_TOO_LARGE`
   */
  async encodeResult(queue: string, jobId: string, result: unknown): Promise<unknown> {
    const { value, blob } = this.encode(result, `the result of job "${jobId}"`);
    if (!blob) return result;
    const jobKey = this.jobKey(queue, jobId);
    const field = resultBlobField(blobIdOf(value));
    const replies = await this.connection.multi().hset(jobKey, { [field]: asBuffer(blob) }).eval(keepBlobLua, 1, jobKey, field).exec();
    const failed = replies?.find(([error]) => error !== null);
    if (!replies || failed) throw failed?.[0] ?? new Error(`Storing the result of job "${jobId}" was aborted.`);
    return value;
  }

  /**
   * A result as the handler returned it. `jobKey` is the job's hash (a workflow reads its children's by key).
   * @returns `undefined` for `missing` when the job itself is gone (removed by retention since it was read)
   * @throws CeleriacError `CELERIAC_JOB_DATA_CORRUPT` when the job exists and its blob is missing or corrupt
   */
  async decodeResultAt(jobKey: string, jobId: string, result: unknown): Promise<{ value: unknown } | undefined> {
    if (!isBinaryPayload(result)) return { value: result };
    const blob = await this.connection.hgetBuffer(jobKey, resultBlobField(result[binaryPayloadKey].id));
    if (blob === null && (await this.connection.exists(jobKey)) === 0) return undefined;
    return { value: decodeBinaryPayload(result, blob ?? undefined, `the result of job "${jobId}"`) };
  }

  /** {@link decodeResultAt} by queue and id. */
  decodeResult(queue: string, jobId: string, result: unknown): Promise<{ value: unknown } | undefined> {
    return this.decodeResultAt(this.jobKey(queue, jobId), jobId, result);
  }

  /**
   * Puts the typed arrays back into a record read for display (getJob), from the blob fields read with the rest of
   * the job's hash. A blob that is missing or corrupt leaves the packed value as it is, so operators still see the
   * job; the worker is what refuses to run it.
   */
  async decodeRecord(record: JobRecord, blobs: ReadonlyMap<string, Buffer>): Promise<void> {
    if (isBinaryPayload(record.input)) {
      const blobId = record.input[binaryPayloadKey].id;
      const blob = blobs.get(inputBlobField(blobId)) ?? (await this.readUnattachedInput(record.queue, record.id, blobId));
      record.input = decodeForDisplay(record.input, blob, `the input of job "${record.id}"`);
    }
    if (isBinaryPayload(record.result)) {
      const blob = blobs.get(resultBlobField(record.result[binaryPayloadKey].id));
      record.result = decodeForDisplay(record.result, blob, `the result of job "${record.id}"`);
    }
  }

  /**
   * Packs a value to keep beside a record outside any job hash (a cancelled job's tombstone): returns the value to
   * store as JSON and writes its blob at `key` with the same TTL.
   */
  async storeDetached(key: string, value: unknown, ttlMs: number, what: string): Promise<unknown> {
    const { value: packed, blob } = encodeBinaryPayload(value, { maxBytes: Number.MAX_SAFE_INTEGER, what, newId: randomUUID });
    if (blob) await this.connection.set(key, asBuffer(blob), 'PX', ttlMs);
    return packed;
  }

  /** Reads back a value stored with {@link storeDetached}; a missing or corrupt blob leaves it packed. */
  async readDetached(key: string, value: unknown, what: string): Promise<unknown> {
    if (!isBinaryPayload(value)) return value;
    const blob = await this.connection.getBuffer(key);
    try {
      return decodeBinaryPayload(value, blob ?? undefined, what);
    } catch {
      return value;
    }
  }

  /** Packs every job of a flow, collecting their blobs into `staged`. */
  private packFlow(flow: FlowSpec, staged: StagedBlob[]): FlowSpec {
    const { job } = flow;
    const { envelope, blob } = this.packInput(job.envelope, job.id);
    if (blob) staged.push({ queue: job.queue, jobId: job.id, blob });
    const children = flow.children?.map((child) => ({ ...child, flow: this.packFlow(child.flow, staged) }));
    return { job: envelope === job.envelope ? job : { ...job, envelope }, ...(children && { children }) };
  }

  /**
   * An input blob that is not in its job's hash: still staged, when the process that created the job (a workflow's
   * step) stopped before moving it; or its schedule's, when the job is a firing. Puts it into the hash on the way (in
   * Lua, so the job is checked to still exist).
   */
  private async readUnattachedInput(queue: string, jobId: string, blobId: string): Promise<Buffer | undefined> {
    const { staged, scheduleInput } = this.keys;
    const field = inputBlobField(blobId);
    const blob = await this.connection[readUnattachedInputBufferCommand](
      this.jobKey(queue, jobId),
      staged(blobId),
      scheduleInput(blobId),
      field,
    );
    return blob ?? undefined;
  }

  /** Takes the typed arrays out of an envelope's input: the envelope to store, and their blob when there are any. */
  private pack(envelope: JobEnvelope, what: string): { envelope: JobEnvelope; blob?: InputBlob } {
    const { value, blob } = this.encode(envelope.input, what);
    if (!blob) return { envelope };
    return { envelope: { ...envelope, input: value }, blob: { id: blobIdOf(value), bytes: asBuffer(blob) } };
  }

  private encode(value: unknown, what: string) {
    return encodeBinaryPayload(value, { maxBytes: this.maxBytes, what, newId: randomUUID });
  }

  private jobKey(queue: string, jobId: string): string {
    return `${this.keyPrefix}:${queue}:${jobId}`;
  }
}

/** The id of a packed value's blob. */
const blobIdOf = (packed: unknown): string => (packed as BinaryPayload)[binaryPayloadKey].id;

/** A packed value with its typed arrays back, or as stored when its blob is missing or corrupt. */
function decodeForDisplay(packed: BinaryPayload, blob: Buffer | undefined, what: string): unknown {
  try {
    return decodeBinaryPayload(packed, blob, what);
  } catch (error) {
    if (!isCeleriacError(error, ErrorCode.JobDataCorrupt)) throw error;
    return packed;
  }
}
