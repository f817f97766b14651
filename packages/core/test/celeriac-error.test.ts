import { describe, expect, it } from 'vitest';
import {
  CeleriacError,
  deserializeError,
  ErrorCode,
  isCeleriacError,
  serializeError,
  TaskFailure,
} from '@celeriac/core';

/**
 * What a CeleriacError from another copy of @celeriac/core looks like to this one (a second install in node_modules,
 * a bundle): the same brand from the global symbol registry, but a different class, so `instanceof` fails.
 */
const foreignBrand: unique symbol = Symbol.for('celeriac.error');
class ForeignCeleriacError extends Error {
  readonly [foreignBrand] = true;
  readonly code = ErrorCode.JobNotFound;
}

describe('isCeleriacError', () => {
  it('recognises errors by their brand, not their class', () => {
    const foreign = new ForeignCeleriacError('Job "7" was not found.');

    expect(foreign instanceof CeleriacError).toBe(false);
    expect(isCeleriacError(foreign)).toBe(true);
    expect(isCeleriacError(foreign, ErrorCode.JobNotFound)).toBe(true);
    expect(isCeleriacError(foreign, ErrorCode.JobFailed)).toBe(false);
  });

  it('matches the code when one is given', () => {
    const error = new CeleriacError(ErrorCode.BrokerUnavailable, 'Redis did not answer.');

    expect(isCeleriacError(error, ErrorCode.BrokerUnavailable)).toBe(true);
    expect(isCeleriacError(error, ErrorCode.Internal)).toBe(false);
  });

  it.each([
    ['a plain Error', new Error('boom')],
    ['an object with only a code', { code: ErrorCode.JobNotFound }],
    ['a code string', ErrorCode.JobNotFound],
    ['null', null],
    ['undefined', undefined],
  ])('is false for %s', (_, value) => {
    expect(isCeleriacError(value)).toBe(false);
  });

  it('does not survive structuredClone, which drops symbol keys: errors cross processes as serializeError JSON', () => {
    const error = new CeleriacError(ErrorCode.JobNotFound, 'Job "7" was not found.');

    expect(isCeleriacError(structuredClone(error))).toBe(false);
    expect(isCeleriacError(deserializeError(structuredClone(serializeError(error))), ErrorCode.JobNotFound)).toBe(true);
  });
});

describe('CeleriacError', () => {
  it('takes retryable and HTTP status from the catalogue unless the instance overrides retryable', () => {
    const timeout = new CeleriacError(ErrorCode.ResultTimeout, 'No result within 5000 ms.');
    const overridden = new CeleriacError(ErrorCode.ResultTimeout, 'No result within 5000 ms.', { retryable: false });

    expect(timeout).toMatchObject({ name: 'CeleriacError', retryable: true, httpStatus: 504, details: {} });
    expect(overridden.retryable).toBe(false);
  });

  it('keeps its cause out of the JSON form, so stack traces stay out of Redis and HTTP answers', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new CeleriacError(ErrorCode.BrokerUnavailable, 'Redis did not answer.', {
      cause,
      details: { operation: 'enqueue' },
    });

    expect(error.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: ErrorCode.BrokerUnavailable,
      message: 'Redis did not answer.',
      retryable: true,
      details: { operation: 'enqueue' },
    });
  });
});

describe('serializeError and deserializeError', () => {
  it('round-trip a celeriac error through JSON', () => {
    const error = new CeleriacError(ErrorCode.JobNotFound, 'Job "7" was not found.', { details: { id: '7' } });

    const back = deserializeError(JSON.parse(JSON.stringify(serializeError(error))));

    expect(back).toBeInstanceOf(CeleriacError);
    expect(back).toMatchObject({ code: ErrorCode.JobNotFound, message: error.message, retryable: false, details: { id: '7' } });
    expect(back.httpStatus).toBe(404);
  });

  it('keep a task failure’s own retry decision', () => {
    const back = deserializeError(serializeError(TaskFailure.nonRetryable('Account 9 does not exist')));

    expect(back).toMatchObject({ code: ErrorCode.TaskFailed, retryable: false });
  });

  it('turns a code this version does not know into CELERIAC_INTERNAL, keeping the message', () => {
    const fromNewerVersion = { code: 'CELERIAC_FROM_THE_FUTURE', message: 'New failure.', retryable: true, details: {} };

    const back = deserializeError(fromNewerVersion as unknown as Parameters<typeof deserializeError>[0]);

    expect(back).toMatchObject({ code: ErrorCode.Internal, message: 'New failure.', retryable: true });
  });

  it.each([
    ['an Error', new TypeError('x is not a function'), 'x is not a function', 'TypeError'],
    ['a string', 'boom', 'boom', 'string'],
    ['a number', 42, '42', 'number'],
    ['undefined', undefined, 'undefined', 'undefined'],
  ])('turn %s thrown by a handler into a retryable CELERIAC_HANDLER_ERROR', (_, thrown, message, name) => {
    expect(serializeError(thrown)).toEqual({ code: ErrorCode.HandlerError, message, retryable: true, details: { name } });
  });
});

describe('TaskFailure', () => {
  it('retryable() fails with CELERIAC_TASK_FAILED and asks for another attempt', () => {
    const failure = TaskFailure.retryable('Upstream is unavailable', { details: { status: 503 } });

    expect(failure).toBeInstanceOf(CeleriacError);
    expect(failure).toMatchObject({
      name: 'TaskFailure',
      code: ErrorCode.TaskFailed,
      message: 'Upstream is unavailable',
      retryable: true,
      details: { status: 503 },
    });
  });

  it('nonRetryable() fails with CELERIAC_TASK_FAILED and rules out another attempt', () => {
    const cause = new Error('404');
    const failure = TaskFailure.nonRetryable('Account 9 does not exist', { cause });

    expect(failure).toMatchObject({ code: ErrorCode.TaskFailed, retryable: false, cause });
    expect(isCeleriacError(failure, ErrorCode.TaskFailed)).toBe(true);
  });
});
