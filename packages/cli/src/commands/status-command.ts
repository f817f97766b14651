import type { JobRecord } from '@celeriac/core';
import { UsageError, type Command } from '../internal/command.js';
import { apiFlags, resolveApiTarget } from '../internal/connection-flags.js';
import { apiRequest } from '../internal/api-request.js';

/** `celeriac status <id>`: prints a job from the HTTP API. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'Print a job: state, result or error, attempts and timestamps.',
  usage: '<job id>',
  flags: { ...apiFlags },
  async run(flags, positionals) {
    const [id, ...extra] = positionals;
    if (!id || extra.length > 0) throw new UsageError(`expected exactly one <job id>, got ${positionals.length} argument(s)`);
    const record = await apiRequest<JobRecord>(resolveApiTarget(flags), `/v1/jobs/${encodeURIComponent(id)}`);
    console.log(JSON.stringify(record, null, 2));
    return 0;
  },
};
