import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The environment variable the ledger's writer reads (kept in step with `ledger-writer.js`). */
export const ledgerDirEnv = 'CELERIAC_CHAOS_LEDGER';

/** One line of the ledger: a handler began (`start`) or finished its side effect (`effect`). */
export interface LedgerEntry {
  readonly kind: 'start' | 'effect';
  readonly jobId: string;
  readonly attempt: number;
  readonly pid: number;
  readonly atMs: number;
}

/** What the ledger holds about one job. */
export interface LedgerJob {
  readonly starts: LedgerEntry[];
  readonly effects: LedgerEntry[];
}

/** A snapshot of the ledger, read from its files at one moment. */
export interface LedgerView {
  readonly jobs: ReadonlyMap<string, LedgerJob>;
  /** Acknowledged jobs whose side effect never ran: the number that must stay 0. */
  lost(): string[];
  /** Jobs whose side effect ran more than once (at-least-once delivery's price). */
  duplicated(): string[];
  /** Jobs `pid` had started by `atMs` and not finished by then: what a kill of `pid` at `atMs` interrupts. */
  inFlight(pid: number, atMs: number): string[];
  /** Jobs that ran without an acknowledged enqueue (a timed-out enqueue that Redis applied anyway). */
  unacknowledged(): string[];
}

/**
 * The chaos suite's record of truth, kept outside the system under test: which enqueues were acknowledged (the
 * enqueue promise resolved with an id; recorded here, in the test process, which no scenario kills) and which
 * handler side effects ran (appended by the handlers, one file per worker process, see `ledger-writer.js`).
 */
export interface JobLedger {
  /** The ledger's folder (a private temp folder). */
  readonly dir: string;
  /** The environment to give every worker process so its handlers write here. */
  readonly env: Readonly<Record<string, string>>;
  /** Acknowledged job ids, with the time each enqueue resolved. */
  readonly acknowledged: ReadonlyMap<string, number>;
  /** Records an acknowledged enqueue. */
  acknowledge(jobId: string, atMs?: number): void;
  /** Reads every worker's file now. */
  read(): LedgerView;
  /** Deletes the ledger's folder. */
  remove(): void;
}

/** Creates an empty ledger in a fresh temp folder. Call `remove()` after the test, whatever its outcome. */
export function createJobLedger(): JobLedger {
  const dir = mkdtempSync(join(tmpdir(), 'celeriac-ledger-'));
  const acknowledged = new Map<string, number>();
  return {
    dir,
    env: { [ledgerDirEnv]: dir },
    acknowledged,
    acknowledge: (jobId, atMs = Date.now()) => void acknowledged.set(jobId, atMs),
    read: () => viewLedger(readEntries(dir), acknowledged),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function readEntries(dir: string): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.log')) continue;
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      // A process killed mid-write could leave a partial last line; one `write` of a short line makes that
      // practically impossible, but a malformed line must never pass as a job.
      const [kind, jobId, attempt, pid, atMs] = line.split(' ');
      if ((kind !== 'start' && kind !== 'effect') || !jobId || atMs === undefined) continue;
      entries.push({ kind, jobId, attempt: Number(attempt), pid: Number(pid), atMs: Number(atMs) });
    }
  }
  return entries;
}

function viewLedger(entries: readonly LedgerEntry[], acknowledged: ReadonlyMap<string, number>): LedgerView {
  const jobs = new Map<string, LedgerJob>();
  for (const entry of entries) {
    let job = jobs.get(entry.jobId);
    if (!job) jobs.set(entry.jobId, (job = { starts: [], effects: [] }));
    (entry.kind === 'start' ? job.starts : job.effects).push(entry);
  }
  for (const job of jobs.values()) {
    job.starts.sort((a, b) => a.atMs - b.atMs);
    job.effects.sort((a, b) => a.atMs - b.atMs);
  }
  return {
    jobs,
    lost: () => [...acknowledged.keys()].filter((id) => (jobs.get(id)?.effects.length ?? 0) === 0),
    duplicated: () => [...jobs].filter(([, job]) => job.effects.length > 1).map(([id]) => id),
    inFlight: (pid, atMs) =>
      [...jobs]
        .filter(([, job]) => {
          const started = job.starts.some((start) => start.pid === pid && start.atMs <= atMs);
          const finished = job.effects.some((effect) => effect.pid === pid && effect.atMs <= atMs);
          return started && !finished;
        })
        .map(([id]) => id),
    unacknowledged: () => [...jobs.keys()].filter((id) => !acknowledged.has(id)),
  };
}
