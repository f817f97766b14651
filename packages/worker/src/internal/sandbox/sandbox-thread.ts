/**
 * The entry of a sandbox thread: the pool starts this file with `new Worker()`. A thread loads the tasks module once
 * and says it is ready, then runs the jobs the parent queues on it in order, one at a time, reporting its heap after
 * each for recycling. Everything that can kill it (a spin past the hard limit, `process.exit()`, an uncaught error,
 * running out of heap) ends only this thread; the parent sees the exit, fails the running job, gives the queued ones
 * to other threads, and starts another thread.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { CeleriacError, ErrorCode, serializeError, type SerializedError, type TaskDefinition } from '@celeriac/core';
import { executeTask } from '../execute-task.js';
import { loadTaskModule } from '../../load-task-module.js';
import { ParentChannel } from './parent-channel.js';
import {
  decodeReason,
  type DoneMessage,
  type ParentMessage,
  type RunRequest,
  type SandboxThreadData,
} from './sandbox-protocol.js';
import { ThreadTaskContext } from './thread-task-context.js';

if (parentPort === null) {
  console.error('sandbox-thread.js runs in a worker thread that the sandbox pool starts; it does nothing on its own.');
  process.exit(1);
}
const port: MessagePort = parentPort;
const data = workerData as SandboxThreadData;
const channel = new ParentChannel(port);
/** Jobs waiting for this thread, in the order the parent sent them. */
const queue: RunRequest[] = [];
let current: ThreadTaskContext | undefined;
let pumping = false;

// Node would end the thread on an unhandled rejection anyway, with the bare rejection as the reason. Throwing our
// own error instead ends it the same way (the parent fails the job with CELERIAC_SANDBOX_CRASHED and replaces the
// thread, since the handler's stray work may still be running) but names the job and says what to fix.
process.on('unhandledRejection', (reason) => {
  const where = current ? `task "${current.taskName}" (job "${current.jobId}")` : 'a finished task';
  const what = (reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)).replace(/\.$/, '');
  throw new Error(
    `A promise rejection in ${where} was never handled: ${what}. Await or catch every promise the handler starts.`,
  );
});

const tasks = await loadTasks();
if (tasks !== undefined) {
  port.on('message', (message: ParentMessage) => {
    switch (message.type) {
      case 'runs':
        queue.push(...message.runs);
        void pump();
        break;
      case 'abort':
        abort(message.runId, decodeReason(message.reason));
        break;
      case 'withdraw':
        giveBack(message.runIds);
        break;
      case 'reply':
        channel.settle(message);
        break;
    }
  });
}

/** Loads the tasks and tells the parent whether that worked; a thread whose module failed is terminated by it. */
async function loadTasks(): Promise<ReadonlyMap<string, TaskDefinition> | undefined> {
  try {
    const list = await loadTaskModule(data.tasksModule);
    port.postMessage({ type: 'ready', ok: true, tasks: list.map((task) => task.name) });
    return new Map(list.map((task) => [task.name, task]));
  } catch (error) {
    port.postMessage({ type: 'ready', ok: false, error: serializeError(error) });
    return undefined;
  }
}

/** Runs the queue until it is empty. Each job's outcome is sent before the next job starts, so none waits on it. */
async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) await runJob(next);
  pumping = false;
}

async function runJob(run: RunRequest): Promise<void> {
  let outcome: { ok: true; output: unknown } | { ok: false; error: SerializedError };
  try {
    const task = findTask(run.taskName);
    current = new ThreadTaskContext(run, task, channel, data.hasGpu);
    outcome = { ok: true, output: await executeTask(task, run.input, current) };
  } catch (error) {
    outcome = { ok: false, error: serializeError(error) };
  }
  current = undefined;
  const heapUsedBytes = getHeapStatistics().used_heap_size;
  reportDone({ type: 'done', runId: run.runId, heapUsedBytes, ...outcome }, run.taskName);
}

/** Aborts the running job's signal, or drops a queued job; an abort for a job that settled is ignored. */
function abort(runId: number, reason: unknown): void {
  if (current?.runId === runId) current.abort(reason);
  else giveBack([runId]);
}

/** Removes the listed jobs that are still queued and tells the parent which ones those were. */
function giveBack(runIds: readonly number[]): void {
  const wanted = new Set(runIds);
  const removed: number[] = [];
  for (let at = queue.length - 1; at >= 0; at--) {
    const { runId } = queue[at]!;
    if (!wanted.has(runId)) continue;
    queue.splice(at, 1);
    removed.push(runId);
  }
  if (removed.length > 0) port.postMessage({ type: 'withdrawn', runIds: removed });
}

/**
 * Sends the outcome. What the structured clone refuses (a function, a class instance with private fields) cannot
 * leave the thread: an output fails the job with `CELERIAC_INVALID_OUTPUT`, an error keeps all but its details.
 */
function reportDone(done: DoneMessage, taskName: string): void {
  try {
    port.postMessage(done);
  } catch (error) {
    const reason = (error as Error).message.replace(/\.$/, '');
    const failure = done.ok
      ? serializeError(
          new CeleriacError(
            ErrorCode.InvalidOutput,
            `Task "${taskName}" returned an output that cannot leave its sandbox thread (${reason}). ` +
              'Return plain data: objects, arrays, numbers, strings, typed arrays.',
          ),
        )
      : { ...done.error, details: { detailsNotSendable: reason } };
    // Rebuilt rather than spread from `done`, which would carry the unsendable output along.
    port.postMessage({ type: 'done', runId: done.runId, heapUsedBytes: done.heapUsedBytes, ok: false, error: failure });
  }
}

/** The task called `name` in the loaded tasks module. */
function findTask(name: string): TaskDefinition {
  const task = tasks?.get(name);
  if (task !== undefined) return task;
  throw new CeleriacError(
    ErrorCode.TaskNotFound,
    `The tasks module ${data.tasksModule} has no task "${name}" (it has ${[...(tasks?.keys() ?? [])].join(', ')}). ` +
      'Start the worker with the module that defines it, or route the task to a worker that has it.',
    { details: { task: name, module: data.tasksModule } },
  );
}
