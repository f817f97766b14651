import { JobState, isTerminalState, type JobRecord } from '@celeriac/core';
import { jsonArgument, stringFlag, UsageError, type Command } from '../internal/command.js';
import { apiFlags, resolveApiTarget, type ApiTarget } from '../internal/connection-flags.js';
import { apiRequest } from '../internal/api-request.js';

/** `celeriac submit <task> '<json>' [--wait]`: submits through the HTTP API. */
export const submitCommand: Command = {
  name: 'submit',
  summary: "Submit a job through the HTTP API and print its id; with --wait, print the finished job.",
  usage: "<task> '<json input>'",
  flags: {
    wait: { type: 'boolean', short: 'w', description: 'Wait for the job to finish and print it' },
    timeout: { type: 'string', description: 'With --wait, give up after this many seconds', defaultHint: '60' },
    delay: { type: 'string', description: 'Run after this delay (e.g. 30s)' },
    eta: { type: 'string', description: 'Run at this ISO-8601 time (instead of --delay)' },
    expires: { type: 'string', description: 'If not started within this duration (e.g. 1h), the job expires' },
    attempts: { type: 'string', description: "Override the task's retry attempts" },
    priority: { type: 'string', description: '1 (highest) to 2097152' },
    'job-id': { type: 'string', description: 'Your own id; submitting it again returns the same job' },
    queue: { type: 'string', description: "Override the task's queue" },
    ...apiFlags,
  },
  async run(flags, positionals) {
    const [task, json, ...extra] = positionals;
    if (!task || json === undefined || extra.length > 0) {
      throw new UsageError(`expected exactly <task> and '<json input>', got ${positionals.length} argument(s)`);
    }
    const input = jsonArgument(json);
    const query = new URLSearchParams();
    const params = [
      ['delay', 'delay'],
      ['eta', 'eta'],
      ['expires', 'expires'],
      ['attempts', 'attempts'],
      ['priority', 'priority'],
      ['job-id', 'jobId'],
      ['queue', 'queue'],
    ] as const;
    for (const [flag, param] of params) {
      const value = stringFlag(flags[flag]);
      if (value !== undefined) query.set(param, value);
    }
    const api = resolveApiTarget(flags);
    const submitted = await apiRequest<{ id: string; state: JobState }>(
      api,
      `/v1/tasks/${encodeURIComponent(task)}${query.size ? `?${query}` : ''}`,
      { method: 'POST', json: input },
    );
    if (!flags['wait']) {
      console.log(JSON.stringify(submitted));
      return 0;
    }
    const timeoutSeconds = Number(stringFlag(flags['timeout']) ?? 60);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError('--timeout must be a positive number of seconds');
    const record = await pollUntilFinished(api, submitted.id, timeoutSeconds * 1000);
    console.log(JSON.stringify(record, null, 2));
    return record.state === JobState.Succeeded ? 0 : 1;
  },
};

/** Polls `GET /v1/jobs/:id` with a gentle backoff until the job is terminal or time runs out. */
async function pollUntilFinished(api: ApiTarget, id: string, timeoutMs: number): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 1_000)) {
    const record = await apiRequest<JobRecord>(api, `/v1/jobs/${encodeURIComponent(id)}`);
    if (isTerminalState(record.state)) return record;
    if (Date.now() + delayMs > deadline) {
      throw new UsageError(`job ${id} is still ${record.state} after ${timeoutMs / 1000} s; check it later with \`celeriac status ${id}\``);
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
