/**
 * @celeriac/worker: runs celeriac tasks. A worker consumes queues, validates each job's input and output against
 * the task's schemas, publishes its task catalogue and a heartbeat, and shuts down gracefully.
 *
 * @example
 * ```ts
 * import { createWorker } from '@celeriac/worker';
 * import { add } from './tasks.js';
 *
 * const worker = createWorker({ tasks: [add], connection: process.env.REDIS_URL });
 * worker.closeOnSignals();
 * await worker.start();
 * ```
 * @packageDocumentation
 */
export { createWorker, type Worker } from './create-worker.js';
export { resolveWorkerOptions, type WorkerOptions, type ResolvedWorkerOptions } from './worker-options.js';
export { loadTaskModule } from './load-task-module.js';
export { assessWorkerHealth, WorkerLifecycle, type WorkerHealth, type WorkerHealthSnapshot } from './worker-health.js';
export { serveWorkerHealth, type WorkerHealthServer, type WorkerHealthServerOptions } from './serve-worker-health.js';
