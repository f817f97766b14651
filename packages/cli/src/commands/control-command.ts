import { UsageError, integerFlag, listFlag, type Command } from '../internal/command.js';
import { apiFlags, resolveApiTarget } from '../internal/connection-flags.js';
import { apiRequest } from '../internal/api-request.js';

/** A command without arguments. */
function noArgs(name: string): (args: readonly string[]) => undefined {
  return (args) => {
    if (args.length > 0) throw new UsageError(`${name} takes no arguments, got ${args.length}`);
    return undefined;
  };
}

/** The commands, and how each one's arguments come from the command line. */
const commands = {
  ping: noArgs('ping'),
  shutdown: noArgs('shutdown'),
  pause: noArgs('pause'),
  resume: noArgs('resume'),
  'set-concurrency': (args: readonly string[]) => {
    const [value] = args;
    if (value === undefined || args.length > 1) throw new UsageError('set-concurrency takes exactly one <concurrency>');
    return { concurrency: integerFlag(value, 'concurrency', 1) };
  },
  'set-rate-limit': (args: readonly string[]) => {
    const [task, rate] = args;
    if (task === undefined || rate === undefined || args.length > 2) {
      throw new UsageError("set-rate-limit takes <task> <rate>: a rate such as '10/s', or 'none' for the task's own");
    }
    return { task, rateLimit: rate === 'none' ? null : rate };
  },
} as const;

type ControlName = keyof typeof commands;

/**
 * `celeriac control <command>`: Celery's remote control, through the HTTP API (the `admin` scope): ping, graceful
 * shutdown, pause and resume consuming, and runtime changes of concurrency and of a task's rate limit, for every
 * live worker or those given with `--worker`.
 */
export const controlCommand: Command = {
  name: 'control',
  summary: 'Remote-control workers: ping, shutdown, pause, resume, set-concurrency <n>, set-rate-limit <task> <rate|none>.',
  usage: 'ping | shutdown | pause | resume | set-concurrency <n> | set-rate-limit <task> <rate|none> [--worker id,...]',
  flags: {
    worker: { type: 'string', description: 'Comma-separated worker ids to address', defaultHint: 'every live worker' },
    timeout: { type: 'string', description: 'How long to wait for replies, in ms', defaultHint: '1000' },
    ...apiFlags,
  },
  async run(flags, positionals) {
    const [command, ...rest] = positionals;
    if (!command || !(command in commands)) {
      throw new UsageError(`expected one of ${Object.keys(commands).join(', ')}, got ${command ?? 'nothing'}`);
    }
    const args = commands[command as ControlName](rest);
    const workers = listFlag(flags['worker']);
    const body = {
      command,
      ...(args === undefined ? {} : { args }),
      ...(workers && workers.length > 0 ? { workers } : {}),
      ...(flags['timeout'] === undefined ? {} : { timeoutMs: integerFlag(flags['timeout'], 'timeout', 1) }),
    };
    const report = await apiRequest(resolveApiTarget(flags), '/v1/workers/control', { method: 'POST', json: body });
    console.log(JSON.stringify(report, null, 2));
    return 0;
  },
};
