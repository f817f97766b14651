import { resolve } from 'node:path';
import { durationFlag, integerFlag, stringFlag, UsageError, type Command } from '../internal/command.js';
import { redisFlags, resolveRedisFlags } from '../internal/connection-flags.js';

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
    'max-tasks-per-child': { type: 'string', description: 'Replace a sandbox thread after this many jobs', defaultHint: 'never' },
    'max-memory-per-child': { type: 'string', description: 'Replace a sandbox thread above this heap (MiB)', defaultHint: 'no limit' },
    'log-level': { type: 'string', description: 'trace, debug, info, warn, error or silent', defaultHint: 'info' },
    ...redisFlags,
  },
  async run(flags) {
    const tasksPath = stringFlag(flags['tasks']);
    if (!tasksPath) throw new UsageError('--tasks <module> is required');
    const { url, prefix } = resolveRedisFlags(flags);
    const queues = stringFlag(flags['queues'])?.split(',').map((q) => q.trim()).filter(Boolean);
    const shutdownTimeout = stringFlag(flags['shutdown-timeout']);
    const [{ pino }, { createWorker, loadTaskModule }] = await Promise.all([import('pino'), import('@celeriac/worker')]);
    const worker = createWorker({
      tasks: await loadTaskModule(tasksPath),
      tasksModule: resolve(tasksPath),
      connection: url,
      prefix,
      logger: pino({ name: 'celeriac-worker', level: stringFlag(flags['log-level']) ?? 'info' }),
      ...(queues ? { queues } : {}),
      ...(flags['concurrency'] === undefined ? {} : { concurrency: integerFlag(flags['concurrency'], 'concurrency', 1) }),
      ...(shutdownTimeout ? { shutdownTimeout: durationFlag(shutdownTimeout) } : {}),
      ...(stringFlag(flags['lease']) ? { lease: durationFlag(stringFlag(flags['lease'])!) } : {}),
      ...(flags['max-tasks-per-child'] === undefined
        ? {}
        : { maxTasksPerChild: integerFlag(flags['max-tasks-per-child'], 'max-tasks-per-child', 1) }),
      ...(flags['max-memory-per-child'] === undefined
        ? {}
        : { maxMemoryPerChildMb: integerFlag(flags['max-memory-per-child'], 'max-memory-per-child', 16) }),
    });
    const removeSignalHandlers = worker.closeOnSignals();
    await worker.start();
    await worker.waitUntilClosed();
    removeSignalHandlers();
    return 0;
  },
};
