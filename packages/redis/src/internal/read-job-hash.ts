import { Job, type JobJson, type Queue } from 'bullmq';
import { isBlobField } from './binary-store.js';

/** A job read from its hash: BullMQ's Job, and celeriac's blob fields as bytes. */
export interface JobHash {
  readonly job: Job;
  /** Field → bytes, for every blob field of the hash (see BinaryStore). */
  readonly blobs: ReadonlyMap<string, Buffer>;
}

/**
 * Builds BullMQ's Job from a job's hash read with HGETALL as bytes (`hgetallBuffer`). BullMQ's `Job.fromId` reads
 * the hash as strings, which would drag every blob through a UTF-8 decode only to throw it away, and leave the blobs
 * to be read a second time; read this way, each crosses once, as bytes.
 * @returns `undefined` when the job does not exist (an empty reply)
 */
export function toJobHash(queue: Queue, id: string, hash: Readonly<Record<string, Buffer>>): JobHash | undefined {
  const fields: Record<string, string> = {};
  const blobs = new Map<string, Buffer>();
  for (const [field, value] of Object.entries(hash)) {
    if (isBlobField(field)) blobs.set(field, value);
    else fields[field] = value.toString();
  }
  if (Object.keys(fields).length === 0) return undefined;
  return { job: Job.fromJSON(queue, toJobJson(fields), id), blobs };
}

/**
 * Decodes a job hash's text fields as BullMQ's `Job.fromId` does (its Redis backend's `rawToJobJson`, which BullMQ
 * does not export). Every key of JobJson is listed, so a BullMQ that adds one fails to compile here; a test compares
 * the result with `Job.fromId` for jobs in every state.
 */
function toJobJson(raw: Readonly<Record<string, string | undefined>>): JobJson {
  const int = (value: string | undefined): number => Number.parseInt(value ?? '', 10);
  const json: Record<keyof JobJson, unknown> = {
    id: raw['id'],
    name: raw['name'],
    data: raw['data'] || '{}',
    opts: Job.optsFromJSON(raw['opts']),
    progress: JSON.parse(raw['progress'] || '0') as unknown,
    delay: int(raw['delay']),
    priority: int(raw['priority']),
    timestamp: int(raw['timestamp']),
    attemptsStarted: int(raw['ats'] || '0'),
    attemptsMade: int(raw['attemptsMade'] || raw['atm'] || '0'),
    stalledCounter: int(raw['stc'] || '0'),
    finishedOn: raw['finishedOn'] ? int(raw['finishedOn']) : undefined,
    processedOn: raw['processedOn'] ? int(raw['processedOn']) : undefined,
    repeatJobKey: raw['rjk'],
    debounceId: raw['deid'],
    deduplicationId: raw['deid'],
    failedReason: raw['failedReason'],
    deferredFailure: raw['defa'],
    stacktrace: raw['stacktrace'],
    returnvalue: raw['returnvalue'],
    parentKey: raw['parentKey'],
    parent: raw['parent'] ? (JSON.parse(raw['parent']) as unknown) : undefined,
    processedBy: raw['pb'],
  };
  return json as JobJson;
}
