import { join, resolve } from 'node:path';
import type { TaskDefinition } from '@celeriac/core';
import { integerFlag, stringFlag, UsageError, type Command } from '../internal/command.js';

/**
 * `celeriac dev`: everything on one machine: a Redis (yours, or a private redis-server), a worker and the API,
 * stopped together on Ctrl-C.
 */
export const devCommand: Command = {
  name: 'dev',
  summary:
    'Run Redis (unless REDIS_URL is set), a worker and the API together, for development. ' +
    'Without --tasks it runs the example tasks (add, linear-combination, dot-product, vector-add, matrix-multiply, ...).',
  usage: '',
  flags: {
    tasks: { type: 'string', short: 't', description: 'Module that exports the tasks (compiled .js)', defaultHint: 'the examples' },
    port: { type: 'string', short: 'p', description: 'API port (0 picks a free one)', defaultHint: '$PORT or 8080' },
    'data-dir': { type: 'string', description: "Folder for the private Redis's data", defaultHint: '.celeriac' },
    'redis-url': { type: 'string', description: 'Use this Redis instead of starting one', defaultHint: '$REDIS_URL' },
    prefix: { type: 'string', description: 'Key prefix', defaultHint: 'celeriac' },
    demo: { type: 'boolean', description: 'Run the sample tasks once everything is up, and print the results' },
    exit: { type: 'boolean', description: 'With --demo: stop after the demo instead of serving' },
  },
  async run(flags) {
    if (flags['exit'] && !flags['demo']) throw new UsageError('--exit only makes sense with --demo');
    const tasksPath = stringFlag(flags['tasks']);
    if (flags['demo'] && tasksPath) throw new UsageError('--demo runs the example tasks; leave out --tasks');
    const tasks: readonly TaskDefinition[] = tasksPath
      ? await (await import('@celeriac/worker')).loadTaskModule(tasksPath)
      : (await import('@celeriac/examples')).exampleTasks;
    const port = integerFlag(flags['port'] ?? process.env['PORT'], 'port', 8080, 0);
    const prefix = stringFlag(flags['prefix']) ?? 'celeriac';

    const stack = await startStack(tasks, tasksPath, flags, prefix, port);
    let exitCode = 0;
    try {
      await printBanner(stack, tasks, prefix);
      if (flags['demo']) {
        const [{ createClient }, { runDemo }] = await Promise.all([import('@celeriac/client'), import('../demo/run-demo.js')]);
        const client = createClient({ connection: stack.redisUrl, prefix });
        try {
          exitCode = (await runDemo({ url: stack.apiUrl, key: stack.apiKey }, client)) ? 0 : 1;
        } finally {
          await client.close();
        }
      }
      if (!flags['exit']) {
        console.log('Press Ctrl-C to stop.');
        await waitForSignal();
        console.log('\nStopping…');
      }
    } finally {
      await stack.stop();
    }
    return exitCode;
  },
};

interface Stack {
  readonly redisUrl: string;
  readonly redisNote: string;
  readonly apiUrl: string;
  /** The session's admin key: CELERIAC_API_KEY when set, a new one otherwise. */
  readonly apiKey: string;
  readonly apiKeyNote: string;
  stop(): Promise<void>;
}

async function startStack(
  tasks: readonly TaskDefinition[],
  tasksPath: string | undefined,
  flags: Record<string, string | boolean | undefined>,
  prefix: string,
  port: number,
): Promise<Stack> {
  const [{ pino }, { createApiServer, createApiKey, hashApiKey }, { spawnRedisServer }, { createWorker }] = await Promise.all([
    import('pino'),
    import('@celeriac/api'),
    import('@celeriac/redis'),
    import('@celeriac/worker'),
  ]);
  const givenUrl = stringFlag(flags['redis-url']) ?? process.env['REDIS_URL'];
  const dataDir = resolve(stringFlag(flags['data-dir']) ?? '.celeriac', 'redis');
  const redis = givenUrl ? undefined : await spawnRedisServer({ dataDir, persist: true });
  const redisUrl = givenUrl ?? redis!.url;
  const stops: (() => Promise<void>)[] = [async () => redis?.stop()];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
  };
  try {
    // Sandbox threads load the tasks from their module: the one given, or the examples package.
    const tasksModule = tasksPath ? resolve(tasksPath) : import.meta.resolve('@celeriac/examples');
    const worker = createWorker({
      tasks,
      tasksModule,
      connection: redisUrl,
      prefix,
      logger: pino({ name: 'celeriac-worker', level: 'warn' }),
    });
    stops.push(() => worker.close());
    await worker.start();
    // The API is secure by default even here: the session gets an admin key, printed in the banner. Reusing
    // CELERIAC_API_KEY keeps the same key across restarts (and lets the CLI commands use it from the environment).
    const givenKey = process.env['CELERIAC_API_KEY'] || undefined;
    const session = givenKey
      ? { key: givenKey, record: { id: 'dev', hash: hashApiKey(givenKey), scopes: ['admin' as const] } }
      : createApiKey({ id: 'dev', scopes: ['admin'] });
    const app = await createApiServer({ connection: redisUrl, prefix, logger: { level: 'warn' }, auth: { keys: [session.record] } });
    stops.push(() => app.close());
    const address = await app.listen({ host: '127.0.0.1', port });
    return {
      redisUrl,
      redisNote: redis ? `private redis-server, data in ${join(dataDir)}` : 'from REDIS_URL',
      apiUrl: address,
      apiKey: session.key,
      apiKeyNote: givenKey ? 'admin, from CELERIAC_API_KEY' : 'admin, new for this session',
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function printBanner(stack: Stack, tasks: readonly TaskDefinition[], prefix: string): Promise<void> {
  const { createRedisBroker } = await import('@celeriac/redis');
  const broker = createRedisBroker({ connection: stack.redisUrl, prefix });
  const [worker] = await broker.listWorkers().finally(() => broker.close());
  const gpu = worker?.capabilities.gpu;
  const gpuLine = gpu === undefined
    ? 'not used by these tasks'
    : gpu.available
      ? `${gpu.adapter.description || gpu.adapter.device || gpu.adapter.vendor}${gpu.adapter.isSoftware ? ' (software adapter: correct, not fast)' : ''}`
      : `unavailable: ${gpu.reason}`;
  console.log(
    [
      'celeriac dev is running',
      `  API     ${stack.apiUrl}`,
      `  Key     ${stack.apiKey} (${stack.apiKeyNote}; send it as "Authorization: Bearer <key>")`,
      `          export CELERIAC_API_KEY=${stack.apiKey}   # for curl and the celeriac CLI`,
      `  Docs    ${stack.apiUrl}/docs`,
      `  Redis   ${stack.redisUrl} (${stack.redisNote})`,
      `  Tasks   ${tasks.map((task) => task.name).join(', ')}`,
      `  GPU     ${gpuLine}`,
    ].join('\n'),
  );
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
