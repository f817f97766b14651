import { describe, expect, it } from 'vitest';
import { createJobEnvelope, decodeJobEnvelope, envelopeVersion, ErrorCode, JobSource } from '@celeriac/core';

/** What decodeJobEnvelope throws for corrupt data: the code, the job id, and the paths of the bad fields. */
function corrupt(jobId: string, paths: string[]) {
  return expect.objectContaining({
    code: ErrorCode.JobDataCorrupt,
    retryable: false,
    message: expect.stringContaining(`Job "${jobId}"`),
    details: { jobId, issues: paths.map((path) => expect.objectContaining({ path })) },
  });
}

describe('createJobEnvelope and decodeJobEnvelope', () => {
  it('round-trip through JSON, as job data does through Redis', () => {
    const envelope = createJobEnvelope({ x: 1, y: 2 }, { source: JobSource.Sdk });

    expect(envelope).toEqual({ v: envelopeVersion, input: { x: 1, y: 2 }, meta: { source: 'sdk' } });
    expect(decodeJobEnvelope(JSON.parse(JSON.stringify(envelope)), 'job-1')).toEqual(envelope);
  });

  it('leaves the input alone: the task schema, not the envelope, validates it', () => {
    const envelope = createJobEnvelope(['any', { shape: null }], { source: JobSource.Http });

    expect(decodeJobEnvelope(envelope, 'job-2').input).toEqual(['any', { shape: null }]);
  });
});

describe('decodeJobEnvelope', () => {
  it.each([
    ['null', null, ['job.data']],
    ['a string', '{"v":1}', ['job.data']],
    ['a newer version', { v: 2, input: 1, meta: { source: 'sdk' } }, ['job.data.v']],
    ['no input', { v: 1, meta: { source: 'sdk' } }, ['job.data.input']],
    ['no meta', { v: 1, input: 1 }, ['job.data.meta']],
  ])('rejects %s with CELERIAC_JOB_DATA_CORRUPT', (_, data, paths) => {
    expect(() => decodeJobEnvelope(data, 'job-3')).toThrow(corrupt('job-3', paths));
  });

  it('names the bad field, with its path under job.data', () => {
    const data = { v: 1, input: null, meta: { source: 'cron' } };

    expect(() => decodeJobEnvelope(data, 'job-4')).toThrow(corrupt('job-4', ['job.data.meta.source']));
    expect(() => decodeJobEnvelope(data, 'job-4')).toThrow(/job\.data\.meta\.source: .*"sdk"/);
  });
});
