/**
 * The entry of a sandbox thread: the pool starts this file with `new Worker()`. A thread loads the tasks module once,
 * then runs one job at a time when the parent says so, reporting its heap after each for recycling. Everything that
 * can kill it (a spin past the hard limit, `process.exit()`, an uncaught error, running out of heap) ends only this
 * thread; the parent sees the exit, fails the job and starts another thread.
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
  type RunMessage,
  type SandboxThreadData,
} from './sandbox-protocol.js';
import { ThreadTaskContext } from './thread-task-context.js';

/** The job this thread runs now: its abort controller, and names for error messages. */
interface CurrentRun {
  readonly message: RunMessage;
  readonly controller: AbortController;
}

if (parentPort === null) {
  console.error('sandbox-thread.js runs in a worker thread that the sandbox pool starts; it does nothing on its own.');
  process.exit(1);
}
const port: MessagePort = parentPort;
const data = workerData as SandboxThreadData;
const channel = new ParentChannel(port);
let tasks: Promise<ReadonlyMap<string, TaskDefinition>> | undefined;
let current: CurrentRun | undefined;
/** Whether this thread told the parent it has its tasks loaded (see runJob). */
let announcedWarm = false;

port.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'run':
      void runJob(message);
      break;
    case 'abort':
      // An abort can trail the job it was meant for (the job settled while it was on its way): drop it then.
      if (current?.message.runId === message.runId) current.controller.abort(decodeReason(message.reason));
      break;
    case 'reply':
      channel.settle(message);
      break;
  }
});

// Node would end the thread on an unhandled rejection anyway, with the bare rejection as the reason. Throwing our
// own error instead ends it the same way (the parent fails the job with CELERIAC_SANDBOX_CRASHED and replaces the
// thread, since the handler's stray work may still be running) but names the job and says what to fix.
process.on('unhandledRejection', (reason) => {
  const where = current ? `task "${current.message.taskName}" (job "${current.message.jobId}")` : 'a finished task';
  const what = (reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)).replace(/\.$/, '');
  throw new Error(
    `A promise rejection in ${where} was never handled: ${what}. Await or catch every promise the handler starts.`,
  );
});

async function runJob(message: RunMessage): Promise<void> {
  const run: CurrentRun = { message, controller: new AbortController() };
  current = run;
  let outcome: { ok: true; output: unknown } | { ok: false; error: SerializedError };
  try {
    const task = await findTask(message.taskName);
    // Only the first job needs to say when it starts: until then the parent cannot tell the module load (which must
    // not count against the job's time limits) from the handler. Later jobs' limits are armed on dispatch, which
    // saves a message per job.
    if (!announcedWarm) {
      announcedWarm = true;
      port.postMessage({ type: 'started', runId: message.runId });
    }
    const ctx = new ThreadTaskContext(message, run.controller.signal, task, channel, data.hasGpu);
    outcome = { ok: true, output: await executeTask(task, message.input, ctx) };
  } catch (error) {
    outcome = { ok: false, error: serializeError(error) };
  }
  if (current === run) current = undefined;
  const heapUsedBytes = getHeapStatistics().used_heap_size;
  reportDone({ type: 'done', runId: message.runId, heapUsedBytes, ...outcome }, message.taskName);
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

/** The task called `name`, from the tasks module this thread loads once. */
async function findTask(name: string): Promise<TaskDefinition> {
  tasks ??= loadTaskModule(data.tasksModule).then((list) => new Map(list.map((task) => [task.name, task])));
  const task = (await tasks).get(name);
  if (task !== undefined) return task;
  throw new CeleriacError(
    ErrorCode.TaskNotFound,
    `The tasks module ${data.tasksModule} has no task "${name}" (it has ${[...(await tasks).keys()].join(', ')}). ` +
      'Start the worker with the module that defines it, or route the task to a worker that has it.',
    { details: { task: name, module: data.tasksModule } },
  );
}
