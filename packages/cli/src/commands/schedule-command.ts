import { integerFlag, jsonArgument, stringFlag, UsageError, type Command } from '../internal/command.js';
import { apiFlags, resolveApiTarget } from '../internal/connection-flags.js';
import { apiRequest } from '../internal/api-request.js';

/** The timing flags of `schedule set`, and the body field each one fills. */
const timingFlags = [
  ['every', 'every'],
  ['cron', 'cron'],
  ['tz', 'tz'],
  ['start', 'startDate'],
  ['end', 'endDate'],
] as const;

/**
 * `celeriac schedule set|list|get|remove`: manages periodic schedules through the HTTP API. `set` creates a schedule
 * or updates the one with that id.
 */
export const scheduleCommand: Command = {
  name: 'schedule',
  summary:
    'Manage periodic schedules: set (create or update), list, get, remove. Each firing enqueues the task with the ' +
    'input, at each --cron time or --every interval, once however many workers run.',
  usage: "set <id> <task> '<json input>' (--every <duration> | --cron '<pattern>') | list | get <id> | remove <id>",
  flags: {
    every: { type: 'string', description: 'set: fire at this interval (e.g. 5m, at least 1s); the first firing is at once' },
    cron: { type: 'string', description: "set: fire at each time of this cron pattern (e.g. '0 9 * * 1-5')" },
    tz: { type: 'string', description: 'set: the IANA time zone of --cron (e.g. Europe/Paris)', defaultHint: 'UTC' },
    start: { type: 'string', description: 'set: no firing before this ISO-8601 time' },
    end: { type: 'string', description: 'set: no firing runs after this ISO-8601 time' },
    limit: { type: 'string', description: 'set: at most this many firings' },
    ...apiFlags,
  },
  async run(flags, positionals) {
    const [action, ...rest] = positionals;
    const api = resolveApiTarget(flags);
    const path = (id: string) => `/v1/schedules/${encodeURIComponent(id)}`;
    switch (action) {
      case 'set': {
        const [id, task, json, ...extra] = rest;
        if (!id || !task || json === undefined || extra.length > 0) {
          throw new UsageError(`set takes exactly <id> <task> '<json input>', got ${rest.length} argument(s)`);
        }
        const body = { task, input: jsonArgument(json), ...timingOf(flags) };
        const record = await apiRequest(api, path(id), { method: 'PUT', json: body });
        console.log(JSON.stringify(record, null, 2));
        return 0;
      }
      case 'list': {
        if (rest.length > 0) throw new UsageError(`list takes no arguments, got ${rest.length}`);
        const { schedules } = await apiRequest<{ schedules: unknown[] }>(api, '/v1/schedules');
        console.log(JSON.stringify(schedules, null, 2));
        return 0;
      }
      case 'get':
      case 'remove': {
        const [id, ...extra] = rest;
        if (!id || extra.length > 0) throw new UsageError(`${action} takes exactly one <id>, got ${rest.length} argument(s)`);
        if (action === 'get') {
          console.log(JSON.stringify(await apiRequest(api, path(id)), null, 2));
        } else {
          await apiRequest(api, path(id), { method: 'DELETE' });
          console.log(`removed schedule ${id}`);
        }
        return 0;
      }
      default:
        throw new UsageError(
          action === undefined ? 'expected set, list, get or remove' : `unknown action "${action}"; use set, list, get or remove`,
        );
    }
  },
};

/**
 * The timing flags as the request body has them. Exactly one of --every and --cron is checked here, as a flag
 * mistake (exit code 2); the API checks their values.
 */
function timingOf(flags: Record<string, string | boolean | undefined>): Record<string, string | number> {
  const every = stringFlag(flags['every']);
  const cron = stringFlag(flags['cron']);
  if ((every === undefined) === (cron === undefined)) throw new UsageError('set takes exactly one of --every and --cron');
  const body: Record<string, string | number> = {};
  for (const [flag, field] of timingFlags) {
    const value = stringFlag(flags[flag]);
    if (value !== undefined) body[field] = flag === 'every' && /^\d+$/.test(value) ? Number(value) : value;
  }
  // The fallback is never used: the flag is given.
  if (flags['limit'] !== undefined) body['limit'] = integerFlag(flags['limit'], 'limit', 1);
  return body;
}
