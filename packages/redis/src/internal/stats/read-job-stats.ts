import type { Redis } from 'ioredis';
import type { JobStats, TaskDurationStats, TaskFailureStats } from '@celeriac/broker';
import { durationBucketsSeconds, statsFieldSeparator } from './job-stats-recorder.js';

interface DurationAccumulator {
  task: string;
  outcome: 'succeeded' | 'failed';
  buckets: Map<number, number>;
  count: number;
  sumSeconds: number;
}

/**
 * Reads the statistics hash that {@link JobStatsRecorder}s add to, and turns its per-bucket counts into cumulative
 * Prometheus buckets. Fields it does not understand (a newer version's) are skipped.
 */
export async function readJobStats(connection: Redis, key: string): Promise<JobStats> {
  const raw = await connection.hgetall(key);
  const durations = new Map<string, DurationAccumulator>();
  const failures: TaskFailureStats[] = [];
  const durationOf = (task: string, outcome: string): DurationAccumulator | undefined => {
    if (outcome !== 'succeeded' && outcome !== 'failed') return undefined;
    const id = `${task}${statsFieldSeparator}${outcome}`;
    let entry = durations.get(id);
    if (!entry) durations.set(id, (entry = { task, outcome, buckets: new Map(), count: 0, sumSeconds: 0 }));
    return entry;
  };
  for (const [field, value] of Object.entries(raw)) {
    const [kind, task = '', second = '', third = ''] = field.split(statsFieldSeparator);
    const number = Number(value);
    if (!Number.isFinite(number)) continue;
    if (kind === 'f') failures.push({ task, code: second, final: third === '1', count: number });
    const entry = kind === 'd' || kind === 'c' || kind === 's' ? durationOf(task, second) : undefined;
    if (!entry) continue;
    if (kind === 'c') entry.count = number;
    else if (kind === 's') entry.sumSeconds = number;
    else entry.buckets.set(third === '+Inf' ? Infinity : Number(third), number);
  }
  return {
    durations: [...durations.values()].map(toCumulative).sort((a, b) => a.task.localeCompare(b.task) || a.outcome.localeCompare(b.outcome)),
    failures: failures.sort((a, b) => a.task.localeCompare(b.task) || a.code.localeCompare(b.code)),
  };
}

function toCumulative(entry: DurationAccumulator): TaskDurationStats {
  let running = 0;
  // Every series gets every bound, so histogram_quantile can aggregate across tasks.
  for (const le of durationBucketsSeconds) if (!entry.buckets.has(le)) entry.buckets.set(le, 0);
  const buckets = [...entry.buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([le, count]) => ({ le, count: (running += count) }));
  // The +Inf bucket is every run, whether or not one landed past the last bound.
  if (buckets.at(-1)?.le !== Infinity) buckets.push({ le: Infinity, count: entry.count });
  return { task: entry.task, outcome: entry.outcome, buckets, count: entry.count, sumSeconds: entry.sumSeconds };
}
