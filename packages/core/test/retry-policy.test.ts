import { describe, expect, it } from 'vitest';
import { computeBackoffMs, isRetriedByPolicy, retryPolicySchema } from '@celeriac/core';

const policy = (overrides: Record<string, unknown> = {}) => retryPolicySchema.parse({ jitter: 0, ...overrides });

describe('computeBackoffMs', () => {
  it('keeps a fixed backoff constant', () => {
    const fixed = policy({ backoff: 'fixed', delay: '2s' });
    expect([1, 2, 5].map((made) => computeBackoffMs(fixed, made))).toEqual([2_000, 2_000, 2_000]);
  });

  it('doubles an exponential backoff up to maxDelay', () => {
    const exponential = policy({ delay: 100, maxDelay: 500 });
    expect([1, 2, 3, 4, 10].map((made) => computeBackoffMs(exponential, made))).toEqual([100, 200, 400, 500, 500]);
  });

  it("uses a failure's requested delay, still capped by maxDelay", () => {
    expect(computeBackoffMs(policy({ delay: 100 }), 3, 2_500)).toBe(2_500);
    expect(computeBackoffMs(policy({ delay: 100, maxDelay: 1_000 }), 3, 2_500)).toBe(1_000);
  });

  it('jitters downwards by at most the jitter fraction', () => {
    const jittery = policy({ backoff: 'fixed', delay: 1_000, jitter: 0.25 });
    expect(computeBackoffMs(jittery, 1, undefined, () => 0)).toBe(1_000);
    expect(computeBackoffMs(jittery, 1, undefined, () => 0.999_999)).toBe(750);
  });
});

describe('retryPolicySchema', () => {
  it('defaults to a single attempt with a 1 s exponential backoff', () => {
    expect(retryPolicySchema.parse({})).toEqual({ attempts: 1, backoff: 'exponential', delayMs: 1_000, maxDelayMs: 600_000, jitter: 0.2 });
  });

  it('rejects nonsense', () => {
    expect(retryPolicySchema.safeParse({ attempts: 0 }).success).toBe(false);
    expect(retryPolicySchema.safeParse({ jitter: 2 }).success).toBe(false);
    expect(retryPolicySchema.safeParse({ backoff: 'linear' }).success).toBe(false);
  });
});

describe('isRetriedByPolicy', () => {
  it('retries everything without retryOn, and only listed names or codes with it', () => {
    expect(isRetriedByPolicy({}, new TypeError('x'))).toBe(true);
    const listed = { retryOn: ['TypeError', 'ECONNRESET'] };
    expect(isRetriedByPolicy(listed, new TypeError('x'))).toBe(true);
    expect(isRetriedByPolicy(listed, Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetriedByPolicy(listed, new RangeError('x'))).toBe(false);
    expect(isRetriedByPolicy(listed, 'a string')).toBe(false);
  });
});
