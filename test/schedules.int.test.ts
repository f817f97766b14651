import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { z } from 'zod';
import { ErrorCode, JobState, defineTask, isTerminalState, toCatalogueEntry, type TaskDefinition } from '@celeriac/core';
import { createClient } from '@celeriac/client';
import { createWorker } from '@celeriac/worker';
import { createApiServer } from '@celeriac/api';
import { useTestRedis } from '@celeriac/testing';
import { exitOf, runCli, startCli } from './fixtures/spawn-cli.js';
import { waitUntil } from './fixtures/poll-until.js';

const redis = useTestRedis();
const tasksModule = fileURLToPath(new URL('./fixtures/schedule-tasks.js', import.meta.url));
const logDir = mkdtempSync(join(tmpdir(), 'celeriac-schedules-'));
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

/** Echoes its input, so a firing's result shows which input it ran with. */
const echo = defineTask({
  name: 'echo',
  input: z.object({ v: z.number() }),
  output: z.object({ v: z.number() }),
  isolation: 'inline',
  handler: (input) => input,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const client = () => redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));

async function startWorker(tasks: readonly TaskDefinition[]) {
  const worker = redis.track(
    createWorker({ tasks, connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }) }),
  );
  await worker.start();
  return worker;
}

/** Starts `celeriac worker` as its own process, killed after the test. */
async function startWorkerProcess(): Promise<ChildProcess> {
  const args = ['worker', '--tasks', tasksModule, '--redis-url', redis.url, '--prefix', redis.prefix, '--concurrency', '2'];
  const { child } = await startCli(args, /worker started/);
  redis.track({ close: async () => void (child.exitCode === null && child.kill('SIGKILL') && (await exitOf(child))) });
  return child;
}

/** The due time (ms) in a firing's job id, `repeat:<schedule id>:<due ms>`. */
const dueOf = (jobId: string) => Number(/^repeat:[^:]+:(\d+)$/.exec(jobId)?.[1]);

/**
 * The ids of every firing of a schedule of `echo`, found by listing rather than predicted from the record that
 * `schedule` returns: on a loaded machine that record may not show a pending firing yet, while the worker that took
 * the first one creates the next.
 */
async function firingIds(producer: ReturnType<typeof client>, scheduleId: string): Promise<string[]> {
  const { jobs } = await producer.listJobs({ task: echo.name, limit: 100 });
  return jobs.map((job) => job.id).filter((id) => id.startsWith(`repeat:${scheduleId}:`));
}

describe('schedules', () => {
  it('runs each firing exactly once with two worker processes and two schedulers', { timeout: 30_000 }, async () => {
    const file = join(logDir, `${redis.prefix}.log`);
    const runs = () => {
      try {
        return readFileSync(file, 'utf8').trim().split('\n');
      } catch {
        return [];
      }
    };
    await Promise.all([startWorkerProcess(), startWorkerProcess()]);
    // Two producers declare the same schedule at once, as two API instances do when they start.
    const [first, second] = [client(), client()];
    const spec = { every: '1s', limit: 5 } as const;
    await Promise.all([first, second].map((c) => c.scheduleByName('tick', spec, 'record-firing', { file })));

    await waitUntil(async () => (await first.getSchedule('tick')).ended, 15_000);
    await sleep(1_500); // a duplicate, if there were one, would show up by now
    const jobIds = runs().map((line) => line.split(' ')[0] ?? '');
    expect(jobIds).toHaveLength(5);
    expect(new Set(jobIds).size).toBe(5);
    const due = jobIds.map(dueOf).sort((a, b) => a - b);
    // One firing per interval: consecutive due times differ by whole seconds (exactly 1 s unless a firing ran so
    // late that BullMQ skipped a slot, which it does instead of bunching firings up).
    for (const [index, time] of due.slice(1).entries()) {
      expect((time - due[index]!) % 1_000).toBe(0);
      expect(time).toBeGreaterThan(due[index]!);
    }
    expect(await first.getSchedule('tick')).toMatchObject({ firedCount: 5, ended: true, spec: { everyMs: 1_000, limit: 5 } });
    for (const id of jobIds) {
      expect(await first.getJob(id)).toMatchObject({ state: JobState.Succeeded, attempts: { made: 1 } });
    }
  });

  it('runs the next firing with the new input after an update', { timeout: 20_000 }, async () => {
    await startWorker([echo]);
    const producer = client();
    await producer.schedule('echoes', { every: '3s' }, echo, { v: 1 });
    // The first firing of an interval runs at once; then one is pending, 3 s away.
    await waitUntil(async () => (await producer.getSchedule('echoes')).firedCount === 1, 5_000);
    const before = await producer.getSchedule('echoes');
    const after = await producer.schedule('echoes', { every: '3s' }, echo, { v: 2 });
    expect(after).toMatchObject({ input: { v: 2 }, firedCount: 1 });
    // The pending firing was replaced in place: same job id and due time, new input.
    expect(after.nextJobId).toBe(before.nextJobId);
    expect(after.nextRunAt).toBe(before.nextRunAt);
    expect(await producer.job(after.nextJobId!).result({ timeoutMs: 8_000 })).toEqual({ v: 2 });
    expect(await producer.getJob(after.nextJobId!)).toMatchObject({ input: { v: 2 }, state: JobState.Succeeded });
  });

  it('fires a cron pattern on its seconds, up to its limit', { timeout: 20_000 }, async () => {
    await startWorker([echo]);
    const producer = client();
    await producer.schedule('every-second', { cron: '* * * * * *', limit: 2 }, echo, { v: 3 });
    await waitUntil(async () => (await producer.getSchedule('every-second')).ended, 10_000);
    expect(await producer.getSchedule('every-second')).toMatchObject({ firedCount: 2, ended: true });
    const firings = (await firingIds(producer, 'every-second')).sort();
    expect(firings.map(dueOf)).toEqual([dueOf(firings[0]!), dueOf(firings[0]!) + 1_000]);
    expect(dueOf(firings[0]!) % 1_000).toBe(0);
    for (const id of firings) expect(await producer.job(id).result({ timeoutMs: 5_000 })).toEqual({ v: 3 });
  });

  it('reads a cron pattern in its time zone', async () => {
    const producer = client();
    const noon = await producer.schedule('noon-in-new-york', { cron: '0 12 * * *', tz: 'America/New_York' }, echo, { v: 4 });
    const next = new Date(noon.nextRunAt!);
    // 12:00 on New York's clock, whether daylight saving time is on (16:00 UTC) or off (17:00 UTC).
    const newYork = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    expect(newYork.format(next)).toBe('12:00');
    expect(next.getTime() - Date.now()).toBeGreaterThan(0);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    expect(await producer.removeSchedule('noon-in-new-york')).toBe(true);
  });

  it('runs a firing missed while no worker ran once, late, and skips the rest', { timeout: 20_000 }, async () => {
    const producer = client();
    const created = await producer.schedule('catch-up', { every: '1s' }, echo, { v: 1 });
    await sleep(3_500); // no worker: the firings due in this time are missed
    const workerStartedAt = Date.now();
    await startWorker([echo]);
    await waitUntil(async () => (await producer.getSchedule('catch-up')).firedCount >= 2, 5_000);
    await producer.removeSchedule('catch-up');
    // The firing pending at the start (due at once) ran, late; the slots due while no worker ran were skipped, and the
    // second firing was the first slot after the worker came back.
    const firstDue = dueOf(created.nextJobId!);
    expect(await producer.job(created.nextJobId!).result({ timeoutMs: 5_000 })).toEqual({ v: 1 });
    const missed = [1, 2, 3].map((n) => firstDue + n * 1_000).filter((due) => due < workerStartedAt);
    expect(missed).toHaveLength(3);
    for (const due of missed) {
      await expect(producer.getJob(`repeat:catch-up:${due}`)).rejects.toMatchObject({ code: ErrorCode.JobNotFound });
    }
  });

  it('runs no firing after the end date: one created past it expires', { timeout: 20_000 }, async () => {
    await startWorker([echo]);
    const producer = client();
    const endMs = Date.now() + 2_700;
    await producer.schedule('ending', { every: '1s', endDate: new Date(endMs) }, echo, { v: 1 });
    const read = async () => Promise.all((await firingIds(producer, 'ending')).map((id) => producer.getJob(id)));
    // Ended means the last firing was taken; it may still be on its way to `expired`.
    await waitUntil(async () => (await producer.getSchedule('ending')).ended, 10_000);
    await waitUntil(async () => (await read()).every((record) => isTerminalState(record.state)), 3_000);
    const records = await read();
    // Whatever the machine's load, no firing started after the end: each one either ran, having started by the end,
    // or expired. A loaded machine may start a firing due before the end too late, so it expires as well.
    for (const record of records) {
      if (record.state === JobState.Succeeded) expect(Date.parse(record.startedAt!)).toBeLessThanOrEqual(endMs);
      else expect(record).toMatchObject({ state: JobState.Expired, error: { code: ErrorCode.JobExpired } });
    }
    expect(records.some((record) => record.state === JobState.Succeeded)).toBe(true);
    // BullMQ created exactly one firing past the end (the previous one started before it), and it did not run.
    const pastEnd = records.filter((record) => dueOf(record.id) > endMs);
    expect(pastEnd).toHaveLength(1);
    expect(pastEnd[0]!.state).toBe(JobState.Expired);
  });

  describe('refuses bad calls with the exact code', () => {
    it('an input that fails the task schema → CELERIAC_INVALID_INPUT, and nothing is created', async () => {
      const producer = client();
      // @ts-expect-error v must be a number
      await expect(producer.schedule('s1', { every: '1m' }, echo, { v: 'one' })).rejects.toMatchObject({
        code: ErrorCode.InvalidInput,
        details: { issues: [expect.objectContaining({ path: 'input.v' })] },
      });
      expect(await producer.listSchedules()).toEqual([]);
    });

    it('bad timing → CELERIAC_INVALID_OPTIONS naming the field', async () => {
      const producer = client();
      const bad = (options: unknown, path: string) =>
        expect(producer.schedule('s1', options as { every: '1m' }, echo, { v: 1 })).rejects.toMatchObject({
          code: ErrorCode.InvalidOptions,
          details: { issues: [expect.objectContaining({ path })] },
        });
      await bad({ cron: '*/5 * * * *', every: '5m' }, 'schedule.cron');
      await bad({ cron: '99 * * * *' }, 'schedule.cron'); // the right shape, refused by the cron parser
      await bad({ cron: '0 9 * * *', tz: 'Europe/Nowhere' }, 'schedule.tz');
      await bad({ every: '1m', startDate: new Date(Date.now() + 60_000), endDate: new Date(Date.now() + 1_000) }, 'schedule.endDate');
      await expect(producer.schedule('Bad:Id', { every: '1m' }, echo, { v: 1 })).rejects.toMatchObject({
        code: ErrorCode.InvalidOptions,
      });
    });

    it('an unknown task by name → CELERIAC_TASK_NOT_FOUND; an unknown schedule → CELERIAC_SCHEDULE_NOT_FOUND', async () => {
      const producer = client();
      await expect(producer.scheduleByName('s1', { every: '1m' }, 'no-such-task', {})).rejects.toMatchObject({
        code: ErrorCode.TaskNotFound,
      });
      await expect(producer.getSchedule('no-such-schedule')).rejects.toMatchObject({ code: ErrorCode.ScheduleNotFound });
      expect(await producer.removeSchedule('no-such-schedule')).toBe(false);
    });
  });

  it('keeps a limit across updates, so re-declaring a schedule at every start does not restart it', async () => {
    await startWorker([echo]);
    const producer = client();
    await producer.schedule('twice', { every: '1s', limit: 2 }, echo, { v: 1 });
    await waitUntil(async () => (await producer.getSchedule('twice')).ended, 5_000);
    const ended = await producer.schedule('twice', { every: '1s', limit: 2 }, echo, { v: 1 });
    expect(ended).toMatchObject({ firedCount: 2, ended: true });
    expect(ended.nextRunAt).toBeUndefined();
    const raised = await producer.schedule('twice', { every: '1s', limit: 3 }, echo, { v: 3 });
    expect(raised).toMatchObject({ firedCount: 2, ended: false, input: { v: 3 } });
    expect(await producer.job(raised.nextJobId!).result({ timeoutMs: 5_000 })).toEqual({ v: 3 });
  });

  it('manages schedules from the CLI through the HTTP API', { timeout: 20_000 }, async () => {
    await redis.createBroker().publishCatalogue([toCatalogueEntry(echo)]);
    const app = redis.track(await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: false }));
    const api = await app.listen({ host: '127.0.0.1', port: 0 });
    const cli = (...args: string[]) => runCli(['schedule', ...args, '--api-url', api]);

    const set = await cli('set', 'nightly', 'echo', '{"v": 7}', '--cron', '0 3 * * *', '--tz', 'Asia/Tokyo');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ id: 'nightly', spec: { cron: '0 3 * * *', tz: 'Asia/Tokyo' }, input: { v: 7 } });
    // 03:00 in Tokyo (no daylight saving) is 18:00 UTC.
    expect(new Date(JSON.parse(set.stdout).nextRunAt).getUTCHours()).toBe(18);
    expect(JSON.parse((await cli('list')).stdout)).toHaveLength(1);
    expect(JSON.parse((await cli('get', 'nightly')).stdout)).toMatchObject({ id: 'nightly' });
    expect((await cli('remove', 'nightly')).code).toBe(0);

    const missing = await cli('get', 'nightly');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(ErrorCode.ScheduleNotFound);
    const invalid = await cli('set', 'x', 'echo', '{"v": "seven"}', '--every', '5m');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(ErrorCode.InvalidInput);
    for (const flags of [['--every', '5m', '--cron', '* * * * *'], [], ['--every', '5m', '--limit', '0'], ['--evry', '5m']]) {
      const run = await cli('set', 'x', 'echo', '{}', ...flags);
      expect(run.code, flags.join(' ')).toBe(2);
      expect(run.stderr).toContain('Usage: celeriac schedule');
    }
    expect((await cli('frobnicate')).code).toBe(2);
    const help = await runCli(['schedule', 'set', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: celeriac schedule');
  });
});
