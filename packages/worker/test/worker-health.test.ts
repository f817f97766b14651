import { describe, expect, it } from 'vitest';
import { assessWorkerHealth, WorkerLifecycle, type WorkerHealthSnapshot } from '@celeriac/worker';

const nowMs = 1_000_000;
const running: WorkerHealthSnapshot = {
  state: WorkerLifecycle.Running,
  lastPollAtMs: nowMs - 1_000,
  pollDue: true,
  createdAtMs: nowMs - 120_000,
  livenessWindowMs: 60_000,
  activeJobs: 0,
  paused: false,
  nowMs,
};

describe('assessWorkerHealth', () => {
  it('is live and ready while the consumer polled within the window', () => {
    expect(assessWorkerHealth(running)).toMatchObject({ live: true, ready: true, lastPollAgeMs: 1_000, pollDue: true });
    expect(assessWorkerHealth({ ...running, lastPollAtMs: nowMs - 60_000 }).live).toBe(true);
  });

  it('is not live once a due poll is older than the window', () => {
    expect(assessWorkerHealth({ ...running, lastPollAtMs: nowMs - 60_001 })).toMatchObject({ live: false, ready: true });
  });

  it('counts a consumer that never polled from the worker\'s creation', () => {
    expect(assessWorkerHealth({ ...running, lastPollAtMs: undefined })).toMatchObject({ live: false, lastPollAgeMs: 120_000 });
    expect(assessWorkerHealth({ ...running, lastPollAtMs: undefined, createdAtMs: nowMs - 10 }).live).toBe(true);
  });

  it('stays live with a stale poll when none is due: paused, or every slot busy', () => {
    const stale = { ...running, lastPollAtMs: nowMs - 600_000, pollDue: false };
    expect(assessWorkerHealth({ ...stale, paused: true })).toMatchObject({ live: true, ready: true, paused: true });
    expect(assessWorkerHealth({ ...stale, activeJobs: 4 })).toMatchObject({ live: true, activeJobs: 4 });
  });

  it('is live but not ready while starting and while draining, and neither once closed', () => {
    const stale = { ...running, lastPollAtMs: nowMs - 600_000 };
    expect(assessWorkerHealth({ ...stale, state: WorkerLifecycle.Starting })).toMatchObject({ live: true, ready: false, lastPollAgeMs: undefined });
    expect(assessWorkerHealth({ ...stale, state: WorkerLifecycle.Closing })).toMatchObject({ live: true, ready: false, pollDue: false });
    expect(assessWorkerHealth({ ...stale, state: WorkerLifecycle.Closed })).toMatchObject({ live: false, ready: false });
  });
});
