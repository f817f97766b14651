import type { FlowJob as BullFlowJob, JobsOptions } from 'bullmq';
import { ChildFailure, type FlowJob, type FlowParent, type FlowSpec } from '@celeriac/core';
import { celeriacBackoff } from '../consumed-job.js';

/** BullMQ's option for each {@link ChildFailure}: how a child's failure for good reaches its parent. */
const failureOptions: Readonly<Record<ChildFailure, JobsOptions>> = {
  [ChildFailure.Fail]: { failParentOnFailure: true },
  [ChildFailure.Continue]: { ignoreDependencyOnFailure: true },
  [ChildFailure.Ignore]: { removeDependencyOnFailure: true },
};

/**
 * Turns a celeriac flow into BullMQ's: the same tree of jobs, with `defaults` (retention) on each, the retry
 * backoff where a job has attempts to spare, and each child's failure policy. With `parent`, the root becomes a
 * child of that job.
 */
export function toBullFlowJob(flow: FlowSpec, keyPrefix: string, defaults: JobsOptions, parent?: FlowParent): BullFlowJob {
  const { job } = flow;
  return {
    name: job.task,
    queueName: job.queue,
    data: job.envelope,
    opts: {
      ...defaults,
      ...jobOptions(job),
      ...(parent && {
        parent: { id: parent.id, queue: `${keyPrefix}:${parent.queue}` },
        ...failureOptions[parent.onFailure],
      }),
    },
    children: (flow.children ?? []).map((child) => ({
      ...toBullFlowJob(child.flow, keyPrefix, defaults),
      opts: { ...defaults, ...jobOptions(child.flow.job), ...failureOptions[child.onFailure] },
    })),
  };
}

function jobOptions(job: FlowJob): JobsOptions {
  return {
    jobId: job.id,
    ...(job.attempts !== undefined && job.attempts > 1 ? { attempts: job.attempts, backoff: { type: celeriacBackoff } } : {}),
  };
}
