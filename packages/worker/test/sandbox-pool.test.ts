import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CeleriacError, ErrorCode, type GpuKernel, type GpuRunner } from '@celeriac/core';
import { createSandboxPool, type SandboxPool } from '../dist/internal/sandbox/sandbox-pool.js';
import type { SandboxRun } from '../dist/internal/sandbox/sandbox-run.js';

const tasksModule = new URL('./fixtures/sandbox-tasks.js', import.meta.url);
const pools: SandboxPool[] = [];

/** A pool on the fixture tasks, closed after the file. */
function createPool(options: Partial<Parameters<typeof createSandboxPool>[0]> = {}): SandboxPool {
  const pool = createSandboxPool({ tasksModule, maxThreads: 2, ...options });
  pools.push(pool);
  return pool;
}

/** A run of `taskName`; its log and progress go nowhere unless `extra` says otherwise. */
function job(taskName: string, input: unknown = {}, extra: Partial<SandboxRun> = {}): SandboxRun {
  const ignore = async (): Promise<void> => {};
  return { jobId: `job-${taskName}`, taskName, attempt: 1, input, log: ignore, progress: ignore, ...extra };
}

/** The `onAbort` hook of a run, fed by `signal`. */
function abortsWith(signal: AbortSignal): Pick<SandboxRun, 'onAbort'> {
  return {
    onAbort(listener) {
      if (signal.aborted) listener(signal.reason);
      else signal.addEventListener('abort', () => listener(signal.reason), { once: true });
    },
  };
}

async function failureOf(promise: Promise<unknown>): Promise<CeleriacError> {
  const error = await promise.then(
    () => expect.unreachable('the run should have failed'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CeleriacError);
  return error as CeleriacError;
}

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close(1_000)));
});

describe('createSandboxPool: outcomes', () => {
  const pool = createPool();

  it('resolves with the validated output, computed in another thread', async () => {
    const output = await pool.run(job('add', { x: 2, y: 3 }));
    expect(output).toEqual({ sum: 5, threadId: expect.any(Number) });
    expect((output as { threadId: number }).threadId).toBeGreaterThan(0);
  });

  it('rejects invalid input with CELERIAC_INVALID_INPUT and its issues', async () => {
    const error = await failureOf(pool.run(job('strict-input', { count: 1.5 })));
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual({
      issues: [{ path: 'input.count', message: 'Invalid input: expected int, received number' }],
    });
  });

  it('keeps a TaskFailure’s code, message, details and retry decision', async () => {
    const error = await failureOf(pool.run(job('fail-non-retryable')));
    expect(error.toJSON()).toEqual({
      code: ErrorCode.TaskFailed,
      message: 'Account 7 does not exist',
      retryable: false,
      details: { account: 7 },
    });
  });

  it('turns any other thrown error into CELERIAC_HANDLER_ERROR, keeping its message and name', async () => {
    const error = await failureOf(pool.run(job('throw-type-error')));
    expect(error.toJSON()).toEqual({
      code: ErrorCode.HandlerError,
      message: 'x',
      retryable: true,
      details: { name: 'TypeError' },
    });
  });

  it('fails a job whose output or error details cannot leave the thread, keeping what can', async () => {
    const output = await failureOf(pool.run(job('unsendable-output')));
    expect(output.code).toBe(ErrorCode.InvalidOutput);
    expect(output.message).toContain('returned an output that cannot leave its sandbox thread');
    const details = await failureOf(pool.run(job('unsendable-details')));
    expect(details.toJSON()).toEqual({
      code: ErrorCode.TaskFailed,
      message: 'Bad details',
      retryable: false,
      details: { detailsNotSendable: expect.stringContaining('could not be cloned') },
    });
    expect(pool.stats().replaced).toBe(0);
  });

  it('fails an unknown task with CELERIAC_TASK_NOT_FOUND, not retryable', async () => {
    const error = await failureOf(pool.run(job('no-such-task')));
    expect(error.code).toBe(ErrorCode.TaskNotFound);
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual({ task: 'no-such-task', module: tasksModule.href });
  });

  it('forwards ctx.log and ctx.progress to the run, in order', async () => {
    const logs: string[] = [];
    const progress: unknown[] = [];
    const log = async (line: string): Promise<void> => void logs.push(line);
    const run = job('report', {}, { attempt: 3, log, progress: async (value) => void progress.push(value) });
    await expect(pool.run(run)).resolves.toBe('reported');
    expect(logs).toEqual(['job job-report of report, attempt 3']);
    expect(progress).toEqual([50, { rows: 120, of: 900 }]);
  });
});

describe('createSandboxPool: limits and aborts', () => {
  it('terminates a CPU spin at the hard limit, replaces the thread and keeps serving', async () => {
    const pool = createPool({ maxThreads: 1 });
    const error = await failureOf(pool.run(job('spin', {}, { hardLimitMs: 300 })));
    expect(error.code).toBe(ErrorCode.TimeLimitExceeded);
    expect(error.retryable).toBe(true);
    expect(error.details).toEqual({ limit: 'hard', limitMs: 300 });
    expect(pool.stats()).toMatchObject({ threads: 0, busy: 0, started: 1, replaced: 1, completed: 1 });
    await expect(pool.run(job('add', { x: 1, y: 1 }))).resolves.toMatchObject({ sum: 2 });
    expect(pool.stats()).toMatchObject({ threads: 1, busy: 0, started: 2, replaced: 1, completed: 2 });
  });

  it('aborts ctx.signal at the soft limit, so a cooperative handler can return or throw', async () => {
    const pool = createPool();
    const soft = { softLimitMs: 100, hardLimitMs: 5_000 };
    await expect(pool.run(job('await-abort', { mode: 'return' }, soft))).resolves.toEqual({
      name: 'CeleriacError',
      code: ErrorCode.TimeLimitExceeded,
      details: { limit: 'soft', limitMs: 100 },
    });
    const error = await failureOf(pool.run(job('await-abort', { mode: 'throw' }, soft)));
    expect(error.code).toBe(ErrorCode.TimeLimitExceeded);
    expect(error.details).toEqual({ limit: 'soft', limitMs: 100 });
    expect(pool.stats().replaced).toBe(0);
  });

  it('forwards an external abort with its reason to ctx.signal', async () => {
    const pool = createPool();
    const controller = new AbortController();
    const reason = new CeleriacError(ErrorCode.JobCancelled, 'Cancelled by the user.', { details: { by: 'ops' } });
    // Abort once the handler is waiting: its first log line says so.
    const log = async (): Promise<void> => controller.abort(reason);
    const run = job('await-abort', { mode: 'throw' }, { ...abortsWith(controller.signal), abortGraceMs: 5_000, log });
    const error = await failureOf(pool.run(run));
    expect(error.toJSON()).toEqual(reason.toJSON());

    const plain = new AbortController();
    const returned = pool.run(job('await-abort', { mode: 'return' }, { ...abortsWith(plain.signal), log: async () => plain.abort() }));
    await expect(returned).resolves.toEqual({ name: 'AbortError' });
    expect(pool.stats().replaced).toBe(0);
  });

  it('terminates a handler that ignores the abort once abortGraceMs is over, rejecting with the reason', async () => {
    const pool = createPool({ maxThreads: 1 });
    const controller = new AbortController();
    const reason = new CeleriacError(ErrorCode.JobCancelled, 'Cancelled by the user.');
    const log = async (): Promise<void> => controller.abort(reason);
    const started = Date.now();
    const error = await failureOf(pool.run(job('ignore-abort', {}, { ...abortsWith(controller.signal), abortGraceMs: 100, log })));
    expect(error).toBe(reason);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(pool.stats()).toMatchObject({ replaced: 1, threads: 0 });
    await expect(pool.run(job('add', { x: 1, y: 2 }))).resolves.toMatchObject({ sum: 3 });
  });

  it('rejects at once with the reason when the job was aborted before the run', async () => {
    const pool = createPool();
    const reason = new CeleriacError(ErrorCode.JobCancelled, 'Cancelled.');
    const error = await failureOf(pool.run(job('add', { x: 1, y: 2 }, abortsWith(AbortSignal.abort(reason)))));
    expect(error).toBe(reason);
    expect(pool.stats().started).toBe(0);
  });
});

describe('createSandboxPool: crashes', () => {
  it('fails the run with CELERIAC_SANDBOX_CRASHED when the handler calls process.exit(), and keeps serving', async () => {
    const pool = createPool({ maxThreads: 1 });
    const error = await failureOf(pool.run(job('exit-thread')));
    expect(error.code).toBe(ErrorCode.SandboxCrashed);
    expect(error.retryable).toBe(true);
    expect(error.details).toEqual({ exitCode: 3 });
    expect(error.message).toContain('exit code 3');
    await expect(pool.run(job('add', { x: 2, y: 2 }))).resolves.toMatchObject({ sum: 4 });
    expect(pool.stats()).toMatchObject({ started: 2, replaced: 1 });
  });

  it('crashes the run with a clear error on an unhandled rejection inside the thread', async () => {
    const pool = createPool({ maxThreads: 1 });
    const error = await failureOf(pool.run(job('stray-rejection')));
    expect(error.code).toBe(ErrorCode.SandboxCrashed);
    const expected =
      'A promise rejection in task "stray-rejection" (job "job-stray-rejection") was never handled: RangeError: ' +
      'stray. Await or catch every promise the handler starts.';
    expect(error.details).toEqual({ exitCode: 1, error: expected });
    expect(pool.stats().replaced).toBe(1);
  });

  it('fails the run with CELERIAC_SANDBOX_CRASHED when a timer throws outside the handler’s promise', async () => {
    const pool = createPool({ maxThreads: 1 });
    const error = await failureOf(pool.run(job('throw-in-timer')));
    expect(error.code).toBe(ErrorCode.SandboxCrashed);
    expect(error.details).toEqual({ exitCode: 1, error: 'thrown from a timer' });
  });
});

describe('createSandboxPool: threads', () => {
  it('reuses threads, and replaces one after maxTasksPerThread jobs', async () => {
    const pool = createPool({ maxThreads: 1, maxTasksPerThread: 2 });
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(((await pool.run(job('add', { x: i, y: 0 }))) as { threadId: number }).threadId);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[1]);
    expect(pool.stats()).toMatchObject({ started: 2, replaced: 1, completed: 3, threads: 1 });
  });

  it('replaces a thread whose heap is above maxMemoryPerThreadMb after its job', async () => {
    const pool = createPool({ maxThreads: 1, maxMemoryPerThreadMb: 32 });
    await expect(pool.run(job('retain-memory'))).resolves.toBe(true);
    expect(pool.stats()).toMatchObject({ started: 1, replaced: 1, threads: 0 });
  });

  it('runs at most maxThreads jobs at once and queues the rest', async () => {
    const pool = createPool({ maxThreads: 2 });
    await pool.start();
    const started = Date.now();
    const runs = [1, 2, 3].map((n) => pool.run({ ...job('sleep', { ms: 200 }), jobId: `sleep-${n}` }));
    expect(pool.stats()).toMatchObject({ threads: 2, busy: 2 });
    const spans = (await Promise.all(runs)) as { start: number; end: number }[];
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    // The most jobs running at one moment; that moment is always some job's start.
    const running = spans.map(({ start }) => spans.filter((other) => other.start <= start && start < other.end).length);
    expect(Math.max(...running)).toBe(2);
    expect(pool.stats()).toMatchObject({ started: 2, completed: 3, busy: 0 });
  });

  it('keeps the main event loop free while a handler spins', async () => {
    const pool = createPool({ maxThreads: 1 });
    let ticks = 0;
    const interval = setInterval(() => (ticks += 1), 10);
    await pool.run(job('spin', { ms: 500 }));
    clearInterval(interval);
    expect(ticks).toBeGreaterThan(20);
  });

  it('rejects waiting and later runs once closed, and fails runs still going at the deadline', async () => {
    const pool = createSandboxPool({ tasksModule, maxThreads: 1 });
    await pool.start();
    const running = failureOf(pool.run(job('ignore-abort')));
    const waiting = failureOf(pool.run(job('add', { x: 1, y: 1 })));
    await pool.close(200);
    expect((await waiting).code).toBe(ErrorCode.WorkerLost);
    expect((await running).details).toEqual({ deadlineMs: 200 });
    expect((await failureOf(pool.run(job('add', { x: 1, y: 1 })))).code).toBe(ErrorCode.WorkerLost);
    expect(pool.stats()).toMatchObject({ threads: 0, busy: 0, replaced: 0 });
  });

  it('keeps the process alive while a thread runs a job, and lets it exit once the pool is idle, even unclosed', async () => {
    // A script file, not `node --input-type=module -e`: threads inherit the process's execArgv, and refuse that flag.
    const script = fileURLToPath(new URL('./fixtures/idle-pool.js', import.meta.url));
    // Rejects if the process fails (exit code 13 if it ended mid-job) or is still alive after 5 s.
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 5_000 });
    expect(stdout).toBe('slept\n');
  });
});

describe('createSandboxPool: start and queues', () => {
  it('start() loads the tasks module in every thread before any job, and names its tasks', async () => {
    const pool = createPool({ maxThreads: 2 });
    const tasks = await pool.start();
    expect(tasks).toEqual(expect.arrayContaining(['add', 'spin', 'sleep']));
    expect(pool.stats()).toMatchObject({ threads: 2, busy: 0, started: 2 });
    await expect(pool.run(job('add', { x: 1, y: 1 }))).resolves.toMatchObject({ sum: 2 });
    expect(pool.stats().started).toBe(2);
  });

  it('start() rejects with CELERIAC_INVALID_OPTIONS when the module cannot load, and closes the pool', async () => {
    const pool = createSandboxPool({ tasksModule: new URL('./fixtures/throws-on-load.js', import.meta.url), maxThreads: 2 });
    const error = await failureOf(pool.start());
    expect(error.code).toBe(ErrorCode.InvalidOptions);
    expect(error.message).toContain('the tasks module is broken on purpose');
    expect(pool.stats()).toMatchObject({ threads: 0, replaced: 0 });
    expect((await failureOf(pool.run(job('add', { x: 1, y: 1 })))).code).toBe(ErrorCode.WorkerLost);
  });

  it('counts time limits from the moment a queued job starts, not from when it was queued', async () => {
    const pool = createPool({ maxThreads: 1 });
    await pool.start();
    const first = pool.run(job('sleep', { ms: 300 }));
    // Queued behind 300 ms of sleep: a limit counted from now would end it before it starts.
    const second = pool.run(job('add', { x: 2, y: 2 }, { softLimitMs: 200, hardLimitMs: 250 }));
    await expect(first).resolves.toMatchObject({ start: expect.any(Number) });
    await expect(second).resolves.toMatchObject({ sum: 4 });
    expect(pool.stats().replaced).toBe(0);
  });

  it('gives a queued job to a thread that runs out of work, so it never waits behind a long job', async () => {
    const pool = createPool({ maxThreads: 2 });
    await pool.start();
    const long = pool.run(job('sleep', { ms: 1_500 }));
    const short = pool.run(job('sleep', { ms: 100 }));
    // Both threads are busy: this one queues behind one of them, possibly the long one.
    const queued = pool.run(job('add', { x: 1, y: 2 }));
    const order: string[] = [];
    await Promise.all([long, short, queued].map((run, i) => run.then(() => order.push(['long', 'short', 'queued'][i]!))));
    expect(order).toEqual(['short', 'queued', 'long']);
  });

  it('drops a queued job that is aborted before it starts, leaving the running one alone', async () => {
    const pool = createPool({ maxThreads: 1 });
    await pool.start();
    const running = pool.run(job('sleep', { ms: 300 }));
    const controller = new AbortController();
    const queued = pool.run(job('add', { x: 1, y: 1 }, { ...abortsWith(controller.signal), abortGraceMs: 10 }));
    const reason = new CeleriacError(ErrorCode.JobCancelled, 'Cancelled while queued.');
    controller.abort(reason);
    expect(await failureOf(queued)).toBe(reason);
    await expect(running).resolves.toMatchObject({ start: expect.any(Number) });
    expect(pool.stats()).toMatchObject({ replaced: 0, threads: 1 });
  });

  it('runs the jobs queued on a thread killed at a hard limit on its replacement', async () => {
    const pool = createPool({ maxThreads: 1 });
    await pool.start();
    const spin = pool.run(job('spin', {}, { hardLimitMs: 200 }));
    const queued = [1, 2, 3].map((x) => pool.run(job('add', { x, y: 0 })));
    expect((await failureOf(spin)).code).toBe(ErrorCode.TimeLimitExceeded);
    const sums = (await Promise.all(queued)) as { sum: number }[];
    expect(sums.map(({ sum }) => sum)).toEqual([1, 2, 3]);
    expect(pool.stats()).toMatchObject({ started: 2, replaced: 1, threads: 1 });
  });
});

describe('createSandboxPool: ctx.gpu', () => {
  it('sends the kernel spec and arguments to the pool’s GPU runner and returns its answer', async () => {
    const calls: { kernel: unknown; args: unknown }[] = [];
    const replies: { args: unknown }[] = [];
    // A real GpuRunner that echoes what it gets: the pool's contract is only to carry calls across the thread.
    const gpu: GpuRunner = {
      run<Args, Result>(kernel: GpuKernel<Args, Result>, args: Args): Promise<Result> {
        calls.push(structuredClone({ kernel, args }));
        const reply = { spec: kernel.spec, args };
        replies.push(reply);
        return Promise.resolve(reply as Result);
      },
    };
    const pool = createPool({ gpu });
    const output = await pool.run(job('gpu-echo'));
    const sent = { spec: { kind: 'echo', wgsl: 'x * 2' }, args: { values: new Float32Array([1, 2, 3]), scale: 2 } };
    expect(calls).toEqual([{ kernel: { spec: sent.spec }, args: sent.args }]);
    // The handler's own array was copied to the parent (it still has 3 values); the reply's was moved to the thread.
    expect(output).toEqual({ echoed: sent, ownLength: 3 });
    expect(replies.map(({ args }) => (args as typeof sent.args).values.byteLength)).toEqual([0]);
  });

  it('fails with CELERIAC_GPU_UNAVAILABLE when the pool has no GPU runner', async () => {
    const error = await failureOf(createPool().run(job('gpu-echo')));
    expect(error.code).toBe(ErrorCode.GpuUnavailable);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('this worker has no GPU configured');
  });
});
