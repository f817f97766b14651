import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode, rateLimitSchema, resolveOptions } from '@celeriac/core';

const schema = z.object({ rate: rateLimitSchema });
const issuesOf = (rate: unknown) => {
  try {
    resolveOptions(schema, { rate }, 'task');
  } catch (error) {
    expect(error).toMatchObject({ code: ErrorCode.InvalidOptions });
    return (error as { details: { issues: unknown } }).details.issues;
  }
  throw new Error(`${JSON.stringify(rate)} was accepted`);
};

describe('resolveOptions: what a union that no option fits reports (zod says only "Invalid input")', () => {
  it('the issues of the option that took the value’s type', () => {
    expect(issuesOf('fast')).toEqual([{ path: 'task.rate', message: 'expected a rate such as "100/s", "30/m" or "1000/h"' }]);
    expect(issuesOf({ limit: 0, per: '1s' })).toEqual([
      { path: 'task.rate.limit', message: 'Too small: expected number to be >=1' },
    ]);
    expect(issuesOf({ limit: 1, per: '1s', extra: true })).toEqual([
      { path: 'task.rate', message: 'Unrecognized key: "extra"' },
    ]);
  });

  it('the types the options expect, when the value has none of them', () => {
    expect(issuesOf(5)).toEqual([{ path: 'task.rate', message: 'Invalid input: expected string or object' }]);
  });
});
