import { UsageError, stringFlag, type Command } from '../internal/command.js';
import { apiFlags, resolveApiTarget } from '../internal/connection-flags.js';
import { apiRequest } from '../internal/api-request.js';

/** What each `inspect` subject reads from the API. */
const subjects = {
  queues: () => '/v1/queues',
  workers: () => '/v1/workers',
  ping: (flags: Record<string, string | boolean | undefined>) =>
    `/v1/workers/ping${flags['timeout'] === undefined ? '' : `?timeoutMs=${encodeURIComponent(String(flags['timeout']))}`}`,
  jobs: (flags: Record<string, string | boolean | undefined>) => {
    const query = new URLSearchParams();
    for (const name of ['state', 'queue', 'task', 'limit', 'cursor'] as const) {
      const value = stringFlag(flags[name]);
      if (value !== undefined) query.set(name, value);
    }
    return `/v1/jobs${query.size > 0 ? `?${query}` : ''}`;
  },
} as const;

type Subject = keyof typeof subjects;

/**
 * `celeriac inspect queues|workers|ping|jobs`: Celery's `inspect`, through the HTTP API (the `read` scope), so the
 * CLI shows what any other API client sees.
 */
export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Show queues (counts by state), live workers (queues, jobs, GPUs), which workers answer a ping, or jobs.',
  usage: 'queues | workers | ping [--timeout <ms>] | jobs [--state s] [--queue q] [--task t] [--limit n] [--cursor c]',
  flags: {
    timeout: { type: 'string', description: 'ping: how long to wait for replies, in ms', defaultHint: '1000' },
    state: { type: 'string', description: 'jobs: only jobs in this state (queued, active, succeeded, failed, ...)' },
    queue: { type: 'string', description: 'jobs: only jobs of this queue' },
    task: { type: 'string', description: 'jobs: only jobs of this task' },
    limit: { type: 'string', description: 'jobs: at most this many', defaultHint: 'the API default' },
    cursor: { type: 'string', description: 'jobs: the nextCursor of the previous page' },
    ...apiFlags,
  },
  async run(flags, positionals) {
    const [subject, ...extra] = positionals;
    if (!subject || !(subject in subjects) || extra.length > 0) {
      throw new UsageError(`expected one of ${Object.keys(subjects).join(', ')}, got ${positionals.join(' ') || 'nothing'}`);
    }
    const path = subjects[subject as Subject](flags);
    console.log(JSON.stringify(await apiRequest(resolveApiTarget(flags), path), null, 2));
    return 0;
  },
};
