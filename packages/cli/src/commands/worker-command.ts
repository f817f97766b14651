import { resolve } from 'node:path';
import type { RateLimitOptions } from '@celeriac/core';
import { durationFlag, integerFlag, listFlag, stringFlag, UsageError, type Command } from '../internal/command.js';
import { brokerFlags, resolveRedisFlags } from '../internal/connection-flags.js';

/** `celeriac worker --tasks <module>`: runs a worker until SIGTERM/SIGINT. */
export const workerCommand: Command = {
  name: 'worker',
  summary: 'Run a worker for the tasks exported by a JavaScript module, until SIGTERM or Ctrl-C.',
  usage: '--tasks <module>',
  flags: {
    tasks: { type: 'string', short: 't', description: 'Module that exports the tasks (compiled .js)' },
    queues: { type: 'string', short: 'q', description: 'Comma-separated queues to consume', defaultHint: "the tasks' queues" },
    concurrency: { type: 'string', short: 'c', description: 'Jobs at once, per queue', defaultHint: 'number of CPUs' },
    'shutdown-timeout': { type: 'string', description: 'Grace period for jobs in flight on shutdown', defaultHint: '30s' },
    lease: { type: 'string', description: 'How long a running job stays locked without renewal', defaultHint: '30s' },
    'max-lost-attempts': {
      type: 'string',
      description: 'How many times a job may be lost with a dying worker before it fails (CELERIAC_WORKER_LOST)',
      defaultHint: '2',
    },
    'queue-rate-limit': {
      type: 'string',
      description: 'Rate limits by queue, shared by every worker of the queue (give each the same): emails=100/s,sms=30/m',
      defaultHint: 'none',
    },
    'max-tasks-per-child': { type: 'string', description: 'Replace a sandbox thread after this many jobs', defaultHint: 'never' },
    'max-memory-per-child': { type: 'string', description: 'Replace a sandbox thread above this heap (MiB)', defaultHint: 'no limit' },
    'log-level': { type: 'string', description: 'trace, debug, info, warn, error or silent', defaultHint: 'info' },
    'health-port': {
      type: 'string',
      description: 'Serve GET /livez and /readyz on this port, for Kubernetes probes (0 picks a free one)',
      defaultHint: '$CELERIAC_HEALTH_PORT, or off',
    },
    'health-host': { type: 'string', description: 'Address the health endpoints listen on', defaultHint: '0.0.0.0' },
    'liveness-window': {
      type: 'string',
      description: 'How long without a successful poll of Redis before /livez answers 503',
      defaultHint: '60s',
    },
    'ad-hoc-kernels': {
      type: 'boolean',
      description: 'Run celeriac.kernel: elementwise/reduction kernels sent as data, e.g. over HTTP (see docs/gpu.md)',
      defaultHint: 'off',
    },
    ...brokerFlags,
  },
  async run(flags) {
    const tasksPath = stringFlag(flags['tasks']);
    if (!tasksPath) throw new UsageError('--tasks <module> is required');
    const { url, prefix } = resolveRedisFlags(flags);
    const queues = listFlag(flags['queues']);
    const queueRateLimits = stringFlag(flags['queue-rate-limit']);
    const shutdownTimeout = stringFlag(flags['shutdown-timeout']);
    const livenessWindow = stringFlag(flags['liveness-window']);
    const healthPortFlag = flags['health-port'] ?? (process.env['CELERIAC_HEALTH_PORT'] || undefined);
    const healthPort = healthPortFlag === undefined ? undefined : integerFlag(healthPortFlag, 'health-port', 0, 0);
    const [{ pino }, { createWorker, loadTaskModule, serveWorkerHealth }] = await Promise.all([
      import('pino'),
      import('@celeriac/worker'),
    ]);
    const logger = pino({ name: 'celeriac-worker', level: stringFlag(flags['log-level']) ?? 'info' });
    const worker = createWorker({
      tasks: await loadTaskModule(tasksPath),
      tasksModule: resolve(tasksPath),
      connection: url,
      prefix,
      logger,
      ...(queues ? { queues } : {}),
      ...(queueRateLimits ? { queueRateLimits: parseQueueRateLimits(queueRateLimits) } : {}),
      ...(flags['ad-hoc-kernels'] === true ? { adHocKernels: true } : {}),
      ...(flags['allow-eviction'] ? { allowEviction: true } : {}),
      ...(flags['concurrency'] === undefined ? {} : { concurrency: integerFlag(flags['concurrency'], 'concurrency', 1) }),
      ...(shutdownTimeout ? { shutdownTimeout: durationFlag(shutdownTimeout) } : {}),
      ...(livenessWindow ? { livenessWindow: durationFlag(livenessWindow) } : {}),
      ...(stringFlag(flags['lease']) ? { lease: durationFlag(stringFlag(flags['lease'])!) } : {}),
      ...(flags['max-lost-attempts'] === undefined
        ? {}
        : { maxLostAttempts: integerFlag(flags['max-lost-attempts'], 'max-lost-attempts', 2) }),
      ...(flags['max-tasks-per-child'] === undefined
        ? {}
        : { maxTasksPerChild: integerFlag(flags['max-tasks-per-child'], 'max-tasks-per-child', 1) }),
      ...(flags['max-memory-per-child'] === undefined
        ? {}
        : { maxMemoryPerChildMb: integerFlag(flags['max-memory-per-child'], 'max-memory-per-child', 16) }),
    });
    // Listening before start(): while sandbox threads and the GPU come up, /livez says alive and /readyz not yet.
    const health =
      healthPort === undefined
        ? undefined
        : await serveWorkerHealth(worker, {
            port: healthPort,
            ...(stringFlag(flags['health-host']) ? { host: stringFlag(flags['health-host'])! } : {}),
          });
    if (health) logger.info({ url: health.url }, `health endpoints at ${health.url}/livez and ${health.url}/readyz`);
    const removeSignalHandlers = worker.closeOnSignals();
    try {
      await worker.start();
      await worker.waitUntilClosed();
    } finally {
      removeSignalHandlers();
      await health?.close();
    }
    return 0;
  },
};

/**
 * `emails=100/s,sms=30/m` → `{ emails: '100/s', sms: '30/m' }`. Only the shape is checked here: the worker's options
 * schema checks each queue name and rate, and its error names the one that is wrong.
 */
function parseQueueRateLimits(value: string): Record<string, RateLimitOptions<never>> {
  return Object.fromEntries(
    value.split(',').map((pair) => {
      const match = /^\s*([^=\s]+)\s*=\s*(\S+)\s*$/.exec(pair);
      if (!match) throw new UsageError(`--queue-rate-limit takes <queue>=<rate> pairs such as emails=100/s, got "${pair}"`);
      return [match[1], match[2] as RateLimitOptions<never>];
    }),
  );
}
