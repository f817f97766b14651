import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { durationMs, ErrorCode, resolveOptions } from '@celeriac/core';

describe('durationMs', () => {
  it.each([
    [500, 500],
    [0, 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    [2.6, 3],
  ])('parses %j as %i ms', (value, expected) => {
    expect(durationMs.parse(value)).toBe(expected);
  });

  it.each([['5 minutes'], ['5'], ['5M'], ['-5s'], [''], [' 5s'], [-1], [Number.POSITIVE_INFINITY], [Number.NaN]])(
    'rejects %j',
    (value) => {
      expect(durationMs.safeParse(value).success).toBe(false);
    },
  );

  it('names the option and shows the accepted forms when used in an options schema', () => {
    const schema = z.object({ lockDuration: durationMs });

    expect(() => resolveOptions(schema, { lockDuration: '5 minutes' }, 'worker')).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidOptions,
        message: expect.stringContaining('worker.lockDuration: expected a duration such as 500, "250ms"'),
      }),
    );
  });
});
